"""Picks the answer for a question: intent, entities, and the scheme remembered from earlier turns."""

from __future__ import annotations

from dataclasses import dataclass

from talentbot.core.content.limits import MAX_SCHEMES_PER_MESSAGE
from talentbot.core.content.model import (
    ANY_SCHEME,
    ASK_CONTACT_OFFICE,
    ASK_LIVING_INFO,
    ASK_SCHEME_INFO,
    FOLLOW_UP_INTENTS,
    SCHEMES,
    Content,
    Entry,
    Office,
)


@dataclass(frozen=True)
class Query:
    """What the action knows about the latest user message and the conversation so far."""

    intent: str  # latest intent
    schemes: tuple[str, ...] = ()  # `scheme` entities of the latest message, in order
    topic: str | None = None  # `topic` entity of the latest message
    location: str | None = None  # `location` entity of the latest message, else the slot
    remembered_scheme: str | None = None  # slot `scheme`: the last scheme the user named
    last_answer_scheme: str | None = None  # slot `answer_scheme`: what the previous answer was about
    detail: bool = False  # the user pressed "tell me more"
    text: str = ""  # the user's words, to tell "what schemes are there?" from "what about the quota?"


@dataclass(frozen=True)
class Answer:
    """One reply to give: a content entry, or an office for a place; `scheme` is what it is about."""

    intent: str
    entry: Entry | None = None
    office: Office | None = None
    scheme: str | None = None  # the scheme answered for (None for general/living/office answers)
    topic: str | None = None
    location: str | None = None
    detail: bool = False  # give the entry's `more` part instead of its summary


def select(content: Content, query: Query) -> list[Answer]:
    """The answers to `query`, one per scheme asked about; empty for an intent we do not answer."""
    if query.intent == ASK_CONTACT_OFFICE:
        return [_office_answer(content, query)]
    if query.intent == ASK_LIVING_INFO:
        return [_find(content, query.intent, topic=query.topic, detail=query.detail)]
    if query.intent == ASK_SCHEME_INFO or query.intent in FOLLOW_UP_INTENTS:
        return [
            _find(content, query.intent, scheme=scheme, detail=query.detail)
            for scheme in schemes_meant(content, query)
        ]
    return []


def schemes_meant(content: Content, query: Query) -> tuple[str | None, ...]:
    """Which scheme(s) the user means; (None,) for a general question.

    A scheme named in the message always wins (and, through the slot mapping, replaces the
    remembered one). Follow-up questions ("and how long does it take?") use the remembered
    scheme. A scheme question without a scheme ("what's the quota?") uses it only when the
    previous answer was about that very scheme and the words are not a general question
    ("what schemes are there?"), which gets the overview instead.
    """
    named = tuple(dict.fromkeys(s for s in query.schemes if s in SCHEMES))
    if named:
        return named[:MAX_SCHEMES_PER_MESSAGE]
    remembered = query.remembered_scheme if query.remembered_scheme in SCHEMES else None
    if remembered is None:
        return (None,)
    if query.intent in FOLLOW_UP_INTENTS:
        return (remembered,)
    if query.last_answer_scheme == remembered and not is_general_question(content, query.text):
        return (remembered,)
    return (None,)


def is_general_question(content: Content, text: str) -> bool:
    """Whether the words ask about the schemes in general (cues listed in schemes.yml)."""
    folded = text.casefold()
    return any(
        cue.casefold() in folded for cues in content.overview_cues.values() for cue in cues
    )


def is_more_request(content: Content, text: str) -> bool:
    """Whether the words ask for more on what was just answered ("tell me more", 「講多啲」; cues in ui.yml)."""
    folded = text.casefold()
    return any(cue.casefold() in folded for cues in content.more_cues.values() for cue in cues)


def find_office(content: Content, location: str | None) -> Office | None:
    """The office listed for a place (English city/province/country name, any case), if any."""
    if not location:
        return None
    wanted = " ".join(location.split()).casefold()
    for office in content.offices:
        if any(place.casefold() == wanted for place in office.places):
            return office
    return None


def _office_answer(content: Content, query: Query) -> Answer:
    office = find_office(content, query.location)
    if office is not None:
        return Answer(query.intent, office=office, location=query.location)
    return _find(content, query.intent, detail=query.detail)


def _find(
    content: Content,
    intent: str,
    scheme: str | None = None,
    topic: str | None = None,
    detail: bool = False,
) -> Answer:
    """The entry for exactly this scheme/topic, else the one for any scheme, else the general one.

    An entry with `scheme: any` holds rules common to all schemes (e.g. dependants): it answers
    both the general question and each scheme that has no entry of its own.
    """
    def matching(wanted_scheme: str | None, wanted_topic: str | None) -> Entry | None:
        return next(
            (
                e for e in content.entries
                if e.intent == intent and e.scheme == wanted_scheme and e.topic == wanted_topic
            ),
            None,
        )

    entry = (
        (matching(scheme, topic) if scheme or topic else None)
        or (matching(ANY_SCHEME, None) if scheme else None)
        or matching(None, None)
        or matching(ANY_SCHEME, None)
    )
    if entry is None:  # validate() guarantees a general entry; keep the type honest anyway
        raise LookupError(f"no content for {intent}")
    answered_topic = topic if entry.topic == topic else None
    return Answer(intent, entry=entry, scheme=scheme, topic=answered_topic, detail=detail)
