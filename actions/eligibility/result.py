"""action_eligibility_result: the check's result (or a word that it ended, when it was stopped or left)."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility.tracker import form_state, language_of, send, today
from talentbot.core.analytics import outcome as analytics
from talentbot.core.eligibility_chat.render import Message, render_result
from talentbot.core.eligibility_chat.slots import CANDIDATES_SLOT, TURN_SLOT
from talentbot.core.eligibility_chat.texts import load_texts
from talentbot.core.eligibility_chat.turn import Outcome, evaluate_slots


class ActionEligibilityResult(Action):
    """Evaluates the answers (schemes in scope only) and renders the result; the answers are kept, so a
    later check ("and QMAS?") asks only what is new."""

    def name(self) -> Text:
        return "action_eligibility_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        language = language_of(tracker)
        texts = load_texts()
        outcome = tracker.get_slot(TURN_SLOT)
        if outcome in (Outcome.STOPPED.value, Outcome.LEFT.value):
            how = analytics.STOPPED if outcome == Outcome.STOPPED.value else analytics.LEFT
            send(dispatcher, [Message(texts.get("messages", outcome, language))], language,
                 analytics.eligibility_ended(how))
        else:
            state = form_state(tracker)
            evaluation = evaluate_slots(state.values, state.scope, today())
            statuses = {result.scheme: result.status for result in evaluation.results}
            send(dispatcher, render_result(evaluation, language, texts), language,
                 analytics.eligibility_ended(analytics.RESULT, statuses))
        return [SlotSet(TURN_SLOT, None), SlotSet(CANDIDATES_SLOT, None)]
