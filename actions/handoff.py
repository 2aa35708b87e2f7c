"""action_handoff: opens a ticket in the human queue, tells the user their place, and pauses the assistant."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import reply_metadata
from talentbot.core.analytics.outcome import Outcome, handed_off
from talentbot.core.handoff.policy import QueuePolicy, default_policy, handoff_message
from talentbot.core.handoff.request import HandoffRequest, handoff_request
from talentbot.core.handoff.store import TicketStore, process_store, utcnow
from talentbot.core.handoff.texts import user_text
from talentbot.core.observability.logs import pseudonym

logger = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "utter_human_contact"
"""Said when the queue cannot be reached: the official enquiry line and email, so the user is not left stranded."""

def open_ticket(
    store: TicketStore, request: HandoffRequest, conversation_id: str, policy: QueuePolicy
) -> tuple[str, str, Outcome]:
    """Opens (or finds) the conversation's ticket; returns what to tell the user, in which language (the
    ticket's: one found open keeps the language it was opened in), and the outcome for analysis (the ticket)."""
    now = utcnow()
    ticket = store.open_ticket(conversation_id, request.channel, request.language, request.reason,
                               summary=request.summary, schemes=request.schemes, topics=request.topics, now=now)
    place = store.place_in_queue(ticket.id) if ticket.status == "waiting" else None
    return (handoff_reply(ticket.status, place, ticket.language, now, policy), ticket.language,
            handed_off(ticket.id, ticket.status))


def handoff_reply(status: str, place: Optional[int], language: str, now: dt.datetime, policy: QueuePolicy) -> str:
    """The user's place only when the queue knows it: asking again once staff have the conversation, or a place
    that cannot be worked out (claimed a moment ago), must not tell them they are "number 1"."""
    if status == "assigned":
        return user_text("with_staff", language)
    if place is None:
        return user_text("queued_no_place", language)
    return handoff_message(place, language, now, policy)


class ActionHandoff(Action):
    """The user asked for a person, the assistant failed twice, or the case needs judgement (see request.py)."""

    def __init__(self, store: Optional[TicketStore] = None, policy: Optional[QueuePolicy] = None) -> None:
        self._store = store
        self._policy = policy or default_policy()

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        request = handoff_request(tracker.events, tracker.current_slot_values(), tracker.get_latest_input_channel())
        try:
            store = self._store
            if store is None:
                store = await asyncio.to_thread(process_store)
            text, language, outcome = await asyncio.to_thread(open_ticket, store, request, tracker.sender_id,
                                                              self._policy)
        except Exception:
            logger.exception("could not open a handoff ticket for %s", pseudonym(tracker.sender_id))
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return []
        dispatcher.utter_message(text=text, metadata=reply_metadata(language, outcome))
        return [ConversationPaused()]
