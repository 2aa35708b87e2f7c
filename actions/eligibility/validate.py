"""validate_eligibility_form: reads each answer into the form's slots and picks the next question."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.eligibility.tracker import REQUESTED_SLOT, form_state, language_of, send, slot_events, today, user_turn
from talentbot.core.eligibility_chat.slots import FORM_NAME
from talentbot.core.eligibility_chat.texts import load_texts
from talentbot.core.eligibility_chat.turn import Outcome, take_turn


class ValidateEligibilityForm(FormValidationAction):
    """One extraction over the whole message (several facts, corrections, skip, stop) by the pure
    talentbot.core.eligibility_chat.turn; the questions asked are those next_questions still needs."""

    def name(self) -> Text:
        return f"validate_{FORM_NAME}"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """Only the slots that still change an outcome, most decisive first (at most the next one matters)."""
        turn = take_turn(user_turn(tracker), form_state(tracker), language_of(tracker), load_texts(), today())
        return [turn.next_slot] if turn.next_slot else []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        language = language_of(tracker)
        turn = take_turn(user_turn(tracker), form_state(tracker), language, load_texts(), today())
        if turn.outcome is Outcome.IGNORED:
            # Nothing set: Rasa rejects the form for this message and the rules answer it; the requested
            # slot is still named so that the form asks the right question when it resumes.
            return [SlotSet(REQUESTED_SLOT, turn.next_slot)]
        if turn.outcome is Outcome.LEFT:  # requested_slot None ends the form; the result action says it was left
            return [*slot_events(turn.updates), SlotSet(REQUESTED_SLOT, None)]
        send(dispatcher, turn.messages, language)
        events = slot_events(turn.updates)
        events.append(SlotSet(REQUESTED_SLOT, turn.next_slot))
        return events
