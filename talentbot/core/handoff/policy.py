"""The queue's rules: order, place in the queue, what to tell a user who is handed off, when a ticket is overdue,
cancels.

Pure: tickets are anything with the attributes the functions read; the clock and the data are arguments.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Protocol, Sequence, TypeVar

from talentbot.core.commands import STOP, Phrases, load_commands, normalise
from talentbot.core.handoff import datafiles
from talentbot.core.handoff.hours import StaffedHours, default_hours, is_staffed, next_opening, staffed_time_between
from talentbot.core.handoff.texts import format_opening, user_text

REASONS = ("requested", "not_understood", "needs_judgement")
"""Why a conversation was handed off (issue 6): the user asked for a person, the assistant failed to understand
twice in a row, or the case needs a person's judgement."""


class Queued(Protocol):
    """What the queue rules need of a ticket (read-only: a stored ticket is a frozen dataclass)."""

    @property
    def id(self) -> int: ...

    @property
    def created_at(self) -> dt.datetime: ...


QueuedT = TypeVar("QueuedT", bound=Queued)


@dataclass(frozen=True)
class QueuePolicy:
    """The rules of policy.yml, parsed, with the cancel phrases (the assistant's "stop", bot/texts/commands.yml)."""

    hours: StaffedHours
    flag_after: dt.timedelta  # unclaimed staffed time after which a waiting ticket is flagged
    cancel_phrases: Phrases  # the assistant's "stop" phrases (bot/texts/commands.yml)


normalise_phrase = normalise


def parse_policy(policy: Mapping[str, Any], hours: StaffedHours, cancel: Optional[Phrases] = None) -> QueuePolicy:
    phrases = cancel if cancel is not None else load_commands()[STOP]
    return QueuePolicy(hours, dt.timedelta(minutes=float(policy["unclaimed"]["flag_after_minutes"])), phrases)


def default_policy() -> QueuePolicy:
    """The policy of the data files shipped with the package."""
    return parse_policy(datafiles.load(datafiles.POLICY_FILE), default_hours())


def queue_order(tickets: Iterable[QueuedT]) -> List[QueuedT]:
    """Oldest first; tickets opened in the same instant keep the order they were stored in (by id)."""
    return sorted(tickets, key=lambda ticket: (ticket.created_at, ticket.id))


def place_in_queue(ticket_id: int, waiting: Iterable[Queued]) -> Optional[int]:
    """1 for the next ticket to be taken; None when the ticket is not waiting."""
    for place, ticket in enumerate(queue_order(waiting), start=1):
        if ticket.id == ticket_id:
            return place
    return None


def is_overdue(created_at: dt.datetime, now: dt.datetime, policy: QueuePolicy) -> bool:
    """Whether a still-waiting ticket has waited longer than allowed, counting only staffed time (a ticket opened on
    Saturday night is not overdue the moment staff arrive on Monday)."""
    return staffed_time_between(created_at, now, policy.hours) >= policy.flag_after


def is_cancel(text: str, policy: QueuePolicy) -> bool:
    """Whether a waiting user's message asks to leave the queue (the whole message is a "stop" phrase)."""
    return policy.cancel_phrases.matches(text)


def handoff_message(place: int, language: str, now: dt.datetime, policy: QueuePolicy) -> str:
    """What the user is told when the ticket opens: their place and, outside staffed hours, when to expect a reply."""
    if is_staffed(now, policy.hours):
        return user_text("queued", language, place=place)
    opening = format_opening(next_opening(now, policy.hours), language)
    return user_text("queued_outside_hours", language, place=place, opening=opening)


def median_wait(waits: Sequence[dt.timedelta]) -> Optional[dt.timedelta]:
    """Median of the waits (None for none): the supervisor's figure, robust to one ticket left overnight."""
    if not waits:
        return None
    return dt.timedelta(seconds=statistics.median(wait.total_seconds() for wait in waits))
