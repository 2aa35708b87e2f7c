"""The console's JSON shapes (interfaces §5): tickets in the list, a ticket with its transcript, messages, stats."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, TypedDict

from talentbot.core.handoff.policy import QueuePolicy, is_overdue
from talentbot.core.handoff.store import Message, Stats, Ticket


class TicketSummary(TypedDict):
    """One row of `GET /api/tickets`; the first seven keys are fixed by interfaces §5, the rest help the page."""

    id: int
    conversation_id: str
    channel: str
    language: str
    reason: str
    status: str
    created_at: str  # ISO 8601, UTC
    assignee: Optional[str]  # who has it, once claimed
    waiting_seconds: float  # from opening to claim (or to now while waiting)
    overdue: bool  # waiting longer than the unclaimed limit (staffed time)


class Turn(TypedDict):
    """One turn of the conversation's transcript, from the tracker store (the bot's turns included)."""

    sender: str  # user, bot or staff
    text: str
    timestamp: Optional[str]  # ISO 8601, UTC


def iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return None if moment is None else moment.astimezone(dt.timezone.utc).isoformat()


def ticket_summary(ticket: Ticket, now: dt.datetime, policy: QueuePolicy) -> TicketSummary:
    waited_until = ticket.claimed_at or (now if ticket.status == "waiting" else ticket.resolved_at or now)
    return TicketSummary(
        id=ticket.id, conversation_id=ticket.conversation_id, channel=ticket.channel, language=ticket.language,
        reason=ticket.reason, status=ticket.status, created_at=iso(ticket.created_at) or "",
        assignee=ticket.assignee, waiting_seconds=max(0.0, (waited_until - ticket.created_at).total_seconds()),
        overdue=ticket.status == "waiting" and is_overdue(ticket.created_at, now, policy))


def message_json(message: Message) -> Dict[str, Any]:
    """A handoff message; `text` is exactly what was written, for the page to insert as text."""
    return {"id": message.id, "ticket_id": message.ticket_id, "sender": message.sender, "author": message.author,
            "text": message.text, "delivered": message.delivered, "created_at": iso(message.created_at)}


def ticket_detail(ticket: Ticket, now: dt.datetime, policy: QueuePolicy, messages: List[Message],
                  transcript: List[Turn], transcript_error: Optional[str],
                  saved_replies: Dict[str, str]) -> Dict[str, Any]:
    """`GET /api/tickets/{id}`: the summary fields, what the user asked, the transcript and the handoff messages."""
    detail: Dict[str, Any] = dict(ticket_summary(ticket, now, policy))
    detail.update(
        resolution=ticket.resolution, summary=ticket.summary, schemes=ticket.schemes, topics=ticket.topics,
        claimed_at=iso(ticket.claimed_at), resolved_at=iso(ticket.resolved_at), transcript=transcript,
        transcript_error=transcript_error, messages=[message_json(message) for message in messages],
        saved_replies=saved_replies)
    return detail


def stats_json(stats: Stats) -> Dict[str, Any]:
    return {"waiting": stats.waiting, "assigned": stats.assigned, "resolved_today": stats.resolved_today,
            "median_wait_seconds": stats.median_wait_seconds, "overdue": stats.overdue,
            "per_reason": stats.per_reason}
