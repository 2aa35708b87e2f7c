"""Where a user's message goes while their conversation may be with staff, and what the user is told.

Pure: the channel adapter (connectors/handoff_gate.py) looks up the open ticket and acts on the decision.
"""

from __future__ import annotations

import enum
from typing import Optional

from talentbot.core.handoff.policy import QueuePolicy, is_cancel
from talentbot.core.handoff.texts import user_text


class Route(enum.Enum):
    BOT = "bot"  # no open ticket: the assistant answers
    TICKET = "ticket"  # staff have the conversation: the message joins the ticket, the assistant stays silent
    CANCEL = "cancel"  # the user leaves the queue: the ticket closes and the assistant answers again


def route(ticket_status: Optional[str], text: str, policy: QueuePolicy) -> Route:
    """A cancel phrase leaves the queue only while nobody has taken the ticket; once a member of staff has it,
    "cancel" is just a message to them (they decide when the conversation ends)."""
    if ticket_status is None or ticket_status == "resolved":
        return Route.BOT
    if ticket_status == "waiting" and is_cancel(text, policy):
        return Route.CANCEL
    return Route.TICKET


def acknowledgement(ticket_status: str, place: Optional[int], language: str) -> Optional[str]:
    """What the user hears back for a message added to their ticket: their place while waiting; nothing once a
    member of staff is talking with them (an automatic reply to every line would get in the way)."""
    if ticket_status == "waiting" and place is not None:
        return user_text("still_waiting", language, place=place)
    return None
