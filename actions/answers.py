"""action_answer: answers scheme, dependants, applying, processing, stay, living and office questions.

The question bank first (bot/questions/: the entry the NLU's QuestionBankRanker ranked best, weighed by the scheme
meant, or "Did you mean" when two or three are too close); the topic-level content (bot/content/) when no entry is
close enough.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import List, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import reply_metadata
from talentbot.core.analytics import outcome
from talentbot.core.content import Content, Query, load_content, render, select
from talentbot.core.content.model import ASK_CONTACT_OFFICE, LANGUAGES, SCHEMES
from talentbot.core.content.render import DEFAULT_LANGUAGE, DETAIL_MORE, Reply, parse_payload
from talentbot.core.content.select import find_office, is_more_request
from talentbot.core.nlu_output import QUESTION_BANK_KEY
from talentbot.core.qbank import Bank, QuestionEntry, load_bank
from talentbot.core.qbank.choose import Context, asks_about_previous, decide
from talentbot.core.qbank.index import Candidate
from talentbot.core.qbank.render import QUESTION_ENTITY, render_changes, render_choices, render_entry

logger = logging.getLogger(__name__)

#: Slot (bot/domain/answers.yml) holding the scheme the previous answer was about, so a scheme question
#: without a scheme ("what's the quota?") continues it, while one after another subject gets the overview.
ANSWER_SCHEME_SLOT = "answer_scheme"
#: Slot (bot/domain/answers.yml) holding the id of the question-bank entry answered last, for follow-ups.
ANSWER_QUESTION_SLOT = "answer_question"
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


def previous_more_buttons(tracker: Tracker) -> list[tuple[str, dict[str, str]]]:
    """What the "Tell me more" buttons of the previous answer would ask, as (intent, entities) per button (none
    when that answer had nothing more to say). Read from the bot messages between the previous and the latest
    user turn."""
    events = list(tracker.events)
    user_turns = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(user_turns) < 2:
        return []
    pressed = []
    for event in events[user_turns[-2] + 1:user_turns[-1]]:
        if event.get("event") != "bot":
            continue
        for button in (event.get("data") or {}).get("buttons") or []:
            parsed = parse_payload(str(button.get("payload") or ""))
            if parsed is not None and parsed[1].get(DETAIL_ENTITY) == DETAIL_MORE:
                pressed.append(parsed)
    return pressed


def typed_more_request(content: Content, query: Query, tracker: Tracker) -> list[tuple[str, dict[str, str]]]:
    """A typed "tell me more" (no scheme, topic or place named) stands for the previous answer's buttons."""
    message_entities = (tracker.latest_message or {}).get("entities") or []
    if query.detail or message_entities or not is_more_request(content, query.text):
        return []
    return previous_more_buttons(tracker)


def since_when_flag(tracker: Tracker) -> bool:
    """The `since_when` flag the QuestionBankRanker set on the latest message (a short "since when?" found there
    by talentbot.core.qbank.arbitrate.asks_since_when); read here, never re-derived from the text."""
    return bool(((tracker.latest_message or {}).get(QUESTION_BANK_KEY) or {}).get("since_when"))


def ranking_from(tracker: Tracker) -> tuple[list[Candidate], bool]:
    """The QuestionBankRanker's candidates for the latest message, and whether it took the message away from the
    eligibility check (then the answer offers the check)."""
    bank_output = (tracker.latest_message or {}).get(QUESTION_BANK_KEY) or {}
    candidates = [
        Candidate(str(item["id"]), float(item["score"]), float(item.get("similarity") or 0.0))
        for item in bank_output.get("ranking") or []
        if isinstance(item, dict) and "id" in item and "score" in item
    ]
    return candidates, bank_output.get("rewritten_from") == "check_eligibility"


class ActionAnswer(Action):
    """Thin adapter: tracker -> (bank decision | Query -> select) -> render -> dispatcher. Content and bank are
    loaded once, at start-up."""

    def __init__(self, content: Content | None = None, bank: Bank | None = None) -> None:
        # Loaded when the action server registers the action, so a broken content or bank file stops the
        # server at start-up (with every problem listed) instead of failing a user's message.
        self._content = content if content is not None else load_content()
        self._bank = bank if bank is not None else load_bank()

    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        query = query_from_tracker(tracker)
        language = tracker.get_slot("language")
        if language not in LANGUAGES:
            language = DEFAULT_LANGUAGE
        named = self._bank.get(next(iter(_entity_values(tracker, QUESTION_ENTITY)), ""))
        if named is not None:  # a "Did you mean" / related / "tell me more" button of a bank answer
            return self._say_entry(dispatcher, named, language, tracker, detail=query.detail)
        pressed = typed_more_request(self._content, query, tracker)
        if pressed:
            return self._say_more(dispatcher, pressed, language, tracker)
        if not query.detail and not self._office_for_place(query):
            candidates, offer_check = ranking_from(tracker)
            schemes = tuple(s for s in query.schemes if s in SCHEMES)
            remembered = query.remembered_scheme if query.remembered_scheme in SCHEMES else None
            previous = self._bank.get(tracker.get_slot(ANSWER_QUESTION_SLOT) or "")
            if since_when_flag(tracker) and previous is not None and asks_about_previous(previous, candidates, schemes):
                _send(dispatcher, render_changes(self._content, previous, language), language,
                      outcome.answered(outcome.CHANGES, previous.id))
                return []
            decision = decide(self._bank, candidates, Context(named=schemes, remembered=remembered, previous=previous))
            logger.info("question bank for intent %s: %s", query.intent, decision.scores[:3])
            if decision.answer is not None:
                events = self._say_entry(dispatcher, decision.answer, language, tracker, offer_check=offer_check,
                                         alternatives=decision.alternatives)
                if decision.alternatives:
                    _send(dispatcher, render_choices(self._content, decision.alternatives, language,
                                                     heading="did_you_mean_instead"), language,
                          outcome.offered(outcome.AFTER_ANSWER, [e.id for e in decision.alternatives]))
                return events
            if decision.choices:
                _send(dispatcher, render_choices(self._content, decision.choices, language), language,
                      outcome.offered(outcome.ASKED_FIRST, [e.id for e in decision.choices]))
                return []
        return self._say_content(dispatcher, [query], language)

    def _office_for_place(self, query: Query) -> bool:
        """An office question naming a place we list an office for is answered from the office list: the bank's
        office entries cover cities by name, the list covers provinces and countries too (Chongqing -> Chengdu)."""
        return query.intent == ASK_CONTACT_OFFICE and find_office(self._content, query.location) is not None

    def _say_entry(
        self, dispatcher: CollectingDispatcher, entry: QuestionEntry, language: str, tracker: Tracker,
        detail: bool = False, offer_check: bool = False, alternatives: Sequence[QuestionEntry] = (),
    ) -> List[EventType]:
        # the alternatives of a close call are offered in their own message, so they are not related buttons too
        related = [r for r in (self._bank.get(i) for i in entry.related) if r is not None and r not in alternatives]
        _send(dispatcher, render_entry(self._content, entry, language, detail, related, offer_check), language,
              outcome.answered(outcome.ENTRY, entry.id))
        scheme = entry.schemes[0] if len(entry.schemes) == 1 else None
        events: List[EventType] = [SlotSet(ANSWER_SCHEME_SLOT, scheme), SlotSet(ANSWER_QUESTION_SLOT, entry.id)]
        if scheme is not None and tracker.get_slot("scheme") != scheme:
            events.append(SlotSet("scheme", scheme))  # "and how long does that take?" continues this scheme
        return events

    def _say_more(
        self, dispatcher: CollectingDispatcher, pressed: list[tuple[str, dict[str, str]]], language: str,
        tracker: Tracker,
    ) -> List[EventType]:
        for _, entities in pressed:
            entry = self._bank.get(entities.get(QUESTION_ENTITY, ""))
            if entry is not None:
                return self._say_entry(dispatcher, entry, language, tracker, detail=True)
        queries = [
            Query(intent=intent, schemes=tuple(v for k, v in entities.items() if k == "scheme"),
                  topic=entities.get("topic"), detail=True)
            for intent, entities in pressed
        ]
        return self._say_content(dispatcher, queries, language)

    def _say_content(self, dispatcher: CollectingDispatcher, queries: list[Query], language: str) -> List[EventType]:
        answers = [answer for query in queries for answer in select(self._content, query)]
        if not answers:
            logger.warning("action_answer ran for intent %r, which it does not answer", queries[0].intent)
            return []
        for answer in answers:
            reply = render(self._content, answer, language)
            _send(dispatcher, reply, language, outcome.answered(outcome.CONTENT, reply.key) if reply.key else None)
        return [SlotSet(ANSWER_SCHEME_SLOT, answers[-1].scheme), SlotSet(ANSWER_QUESTION_SLOT, None)]


def _entity_values(tracker: Tracker, name: str) -> list[str]:
    entities = (tracker.latest_message or {}).get("entities") or []
    return [str(e.get("value")) for e in entities if e.get("entity") == name and e.get("value")]


def _send(dispatcher: CollectingDispatcher, reply: Reply, language: str,
          stated: outcome.Outcome | None = None) -> None:
    """One message, naming its language for the channels and its outcome for analysis (actions/replies.py)."""
    dispatcher.utter_message(text=reply.text, buttons=[asdict(b) for b in reply.buttons],
                             metadata=reply_metadata(language, stated))
