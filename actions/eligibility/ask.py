"""action_ask_elig_*: the form's questions, in the user's language with answer buttons (one action per slot)."""

from __future__ import annotations

import abc
from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility.tracker import language_of, send
from talentbot.core.eligibility_chat.render import render_question
from talentbot.core.eligibility_chat.slots import CANDIDATES_SLOT, FIELD_SLOTS, SLOT_FIELDS
from talentbot.core.eligibility_chat.texts import load_texts


class AskEligibilityQuestion(Action, abc.ABC):
    """Asks for one slot's field; after an ambiguous university, asks which one with a button each.
    Abstract, so rasa_sdk registers only the per-slot subclasses below."""

    @property
    @abc.abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        candidates = tracker.get_slot(CANDIDATES_SLOT) if self.slot == FIELD_SLOTS["university"] else None
        language = language_of(tracker)
        message = render_question(SLOT_FIELDS[self.slot], language, load_texts(), candidates or ())
        send(dispatcher, [message], language)
        return []


def _question_class(slot: str) -> type:
    name = "Ask" + "".join(part.title() for part in slot.split("_"))
    # A plain `slot` attribute overrides the abstract property, so the subclass is concrete.
    return type(name, (AskEligibilityQuestion,), {"slot": slot, "__module__": __name__})


ASK_ACTIONS: Dict[str, type] = {slot: _question_class(slot) for slot in SLOT_FIELDS}
"""One Action subclass per form slot: rasa_sdk registers every subclass it finds, named by `name()`."""
