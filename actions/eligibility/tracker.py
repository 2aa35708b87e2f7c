"""Reads what the eligibility form needs from a rasa_sdk Tracker (the only place that knows its shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import reply_metadata
from talentbot.core import i18n
from talentbot.core.analytics.outcome import Outcome
from talentbot.core.eligibility_chat.extract import scheme_entities
from talentbot.core.eligibility_chat.render import ANSWER_ENTITY, Message
from talentbot.core.eligibility_chat.slots import CANDIDATES_SLOT, FORM_NAME, FORM_SLOTS, SCOPE_SLOT, TURN_SLOT
from talentbot.core.eligibility_chat.turn import FormState, UserTurn
from talentbot.core.nlu_output import QUESTION_BANK_KEY

REQUESTED_SLOT = "requested_slot"
ACTION_LISTEN = "action_listen"


def language_of(tracker: Tracker) -> str:
    """The reply language (set by the lead's LanguagePolicy before any action runs)."""
    return i18n.supported(tracker.get_slot("language"))


def user_turn(tracker: Tracker) -> UserTurn:
    """The latest user message: text, intent, scheme entities and a button's answer."""
    message = tracker.latest_message or {}
    entities = message.get("entities") or []
    answer = next((str(e["value"]) for e in entities if e.get("entity") == ANSWER_ENTITY and e.get("value")), None)
    return UserTurn(
        text=message.get("text") or "",
        intent=(message.get("intent") or {}).get("name"),
        schemes=tuple(scheme_entities(entities)),
        answer=answer,
        rewritten_from=(message.get(QUESTION_BANK_KEY) or {}).get("rewritten_from"),
    )


def form_state(tracker: Tracker) -> FormState:
    """The form's slots; `starting` when no question has been asked yet in this run of the form."""
    requested = tracker.get_slot(REQUESTED_SLOT)
    return FormState(
        values={slot: tracker.get_slot(slot) for slot in FORM_SLOTS},
        requested=requested,
        scope=tracker.get_slot(SCOPE_SLOT),
        candidates=tracker.get_slot(CANDIDATES_SLOT),
        starting=requested is None,
        resuming=answered_since_message(tracker),
        last_outcome=tracker.get_slot(TURN_SLOT),
    )


def answered_since_message(tracker: Tracker) -> bool:
    """Whether another action (the rules' answer) ran since the latest user message: the form is resuming.
    Rasa hands the form's validation a tracker that ends with the form's own ActionExecuted, so the latest
    action name cannot tell; the events since the message can."""
    form_actions = (ACTION_LISTEN, FORM_NAME, f"validate_{FORM_NAME}")
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in form_actions:
            return True
    return False


def today() -> dt.date:
    """The day whose rules apply (the profile's as_of)."""
    return dt.date.today()


def send(dispatcher: CollectingDispatcher, messages: List[Message], language: str,
         outcome: Optional[Outcome] = None) -> None:
    """The messages, each naming its language for the channels (actions/replies.py); the first also states the
    `outcome` for analysis, when there is one."""
    for index, message in enumerate(messages):
        buttons: List[Any] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        stated = outcome if index == 0 else None
        dispatcher.utter_message(text=message.text, buttons=buttons, metadata=reply_metadata(language, stated))


def slot_events(updates: dict) -> List[EventType]:
    return [SlotSet(slot, value) for slot, value in updates.items()]
