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
from talentbot.content.render import DEFAULT_LANGUAGE, DETAIL_MORE, parse_payload
from talentbot.content.select import is_more_request

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


def previous_more_buttons(tracker: Tracker) -> list[Query]:
    """What the "Tell me more" buttons of the previous answer would ask, one query per button (none when that
    answer had nothing more to say). Read from the bot messages between the previous and the latest user turn."""
    events = list(tracker.events)
    user_turns = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(user_turns) < 2:
        return []
    queries = []
    for event in events[user_turns[-2] + 1:user_turns[-1]]:
        if event.get("event") != "bot":
            continue
        for button in (event.get("data") or {}).get("buttons") or []:
            parsed = parse_payload(str(button.get("payload") or ""))
            if parsed is None or parsed[1].get(DETAIL_ENTITY) != DETAIL_MORE:
                continue
            intent, entities = parsed
            queries.append(Query(
                intent=intent, schemes=tuple(v for k, v in entities.items() if k == "scheme"),
                topic=entities.get("topic"), detail=True))
    return queries


def typed_more_request(content: Content, query: Query, tracker: Tracker) -> list[Query]:
    """A typed "tell me more" (no scheme, topic or place named) stands for the previous answer's buttons."""
    message_entities = (tracker.latest_message or {}).get("entities") or []
    if query.detail or message_entities or not is_more_request(content, query.text):
        return []
    return previous_more_buttons(tracker)


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
        more = typed_more_request(self._content, query, tracker)
        answers = [answer for wanted in more for answer in select(self._content, wanted)] or select(self._content, query)
        if not answers:
            logger.warning("action_answer ran for intent %r, which it does not answer", query.intent)
            return []
        for answer in answers:
            reply = render(self._content, answer, language)
            dispatcher.utter_message(text=reply.text, buttons=[asdict(b) for b in reply.buttons])
        return [SlotSet(ANSWER_SCHEME_SLOT, answers[-1].scheme)]
