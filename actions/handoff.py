"""action_handoff: opens a ticket in the human queue, tells the user their place, and pauses the assistant."""

from __future__ import annotations

import asyncio
import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from talentbot.core.handoff.policy import QueuePolicy, default_policy, handoff_message
from talentbot.core.handoff.request import HandoffRequest, handoff_request
from talentbot.core.handoff.store import TicketStore, process_store, utcnow

logger = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "utter_human_contact"
"""Said when the queue cannot be reached: the official enquiry line and email, so the user is not left stranded."""

def open_ticket(store: TicketStore, request: HandoffRequest, conversation_id: str, policy: QueuePolicy) -> str:
    """Opens (or finds) the conversation's ticket; returns what to tell the user."""
    now = utcnow()
    ticket = store.open_ticket(conversation_id, request.channel, request.language, request.reason,
                               summary=request.summary, schemes=request.schemes, topics=request.topics, now=now)
    place = store.place_in_queue(ticket.id) or 1
    return handoff_message(place, ticket.language, now, policy)


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
            text = await asyncio.to_thread(open_ticket, store, request, tracker.sender_id, self._policy)
        except Exception:
            logger.exception("could not open a handoff ticket for %s", tracker.sender_id)
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return []
        dispatcher.utter_message(text=text)
        return [ConversationPaused()]
