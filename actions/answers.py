"""action_answer: answers scheme, dependants, applying, processing, stay, living and office questions from content files."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from talentbot.content import Content, Query, load_content, render, select
from talentbot.content.model import LANGUAGES
from talentbot.content.render import DEFAULT_LANGUAGE, DETAIL_MORE

logger = logging.getLogger(__name__)

#: Slot (bot/domain/answers.yml) holding the scheme the previous answer was about, so a scheme question
#: without a scheme ("what's the quota?") continues it, while one after another subject gets the overview.
ANSWER_SCHEME_SLOT = "answer_scheme"
#: Entity only sent by "tell me more" buttons (bot/domain/answers.yml), never extracted by the NLU.
DETAIL_ENTITY = "detail"


def query_from_tracker(tracker: Tracker) -> Query:
    """The pure selection input from Rasa's tracker: latest intent and entities, remembered slots."""
    message = tracker.latest_message or {}
    entities = message.get("entities") or []

    def values(name: str) -> list[str]:
        return [str(e.get("value")) for e in entities if e.get("entity") == name and e.get("value")]

    return Query(
        intent=(message.get("intent") or {}).get("name") or "",
        schemes=tuple(values("scheme")),
        topic=next(iter(values("topic")), None),
        location=next(iter(values("location")), None) or tracker.get_slot("location"),
        remembered_scheme=tracker.get_slot("scheme"),
        last_answer_scheme=tracker.get_slot(ANSWER_SCHEME_SLOT),
        detail=DETAIL_MORE in values(DETAIL_ENTITY),
        text=message.get("text") or "",
    )


class ActionAnswer(Action):
    """Thin adapter: tracker -> Query -> select -> render -> dispatcher. Content is loaded once, at start-up."""

    def __init__(self, content: Content | None = None) -> None:
        # Loaded when the action server registers the action, so a broken content file stops the
        # server at start-up (with every problem listed) instead of failing a user's message.
        self._content = content if content is not None else load_content()

    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        query = query_from_tracker(tracker)
        language = tracker.get_slot("language")
        if language not in LANGUAGES:
            language = DEFAULT_LANGUAGE
        answers = select(self._content, query)
        if not answers:
            logger.warning("action_answer ran for intent %r, which it does not answer", query.intent)
            return []
        for answer in answers:
            reply = render(self._content, answer, language)
            dispatcher.utter_message(text=reply.text, buttons=[asdict(b) for b in reply.buttons])
        return [SlotSet(ANSWER_SCHEME_SLOT, answers[-1].scheme)]
