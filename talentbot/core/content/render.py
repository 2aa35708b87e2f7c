"""Turns a selected answer into channel-neutral replies: text with its official link, and buttons."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from talentbot.core import i18n
from talentbot.core.content.model import (
    ASK_LIVING_INFO,
    ASK_SCHEME_INFO,
    FOLLOW_UP_INTENTS,
    TOPICS,
    Change,
    Content,
    Entry,
    Localized,
)
from talentbot.core.content.select import Answer

#: Value of the `detail` entity in a "tell me more" button payload (declared in bot/domain/answers.yml).
DETAIL_MORE = "more"
#: Language used when the `language` slot holds something unexpected.
DEFAULT_LANGUAGE = i18n.DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Button:
    """A choice; connectors show it as a button, or as a numbered option where buttons don't exist."""

    title: str  # label in the user's language
    payload: str  # "/intent{json entities}", understood by Rasa without NLU


@dataclass(frozen=True)
class Reply:
    """One bot message."""

    text: str  # plain text; links are written out in full
    buttons: tuple[Button, ...] = ()
    key: str = ""  # content key it came from, for logs and tests


def payload(intent: str, entities: Mapping[str, str] | None = None) -> str:
    """A Rasa payload that triggers `intent` with `entities` (e.g. `/ask_scheme_info{"scheme":"TTPS"}`)."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(dict(entities), ensure_ascii=False, separators=(",", ":"))


def parse_payload(text: str) -> tuple[str, dict[str, str]] | None:
    """The intent and entities of a payload made by `payload`; None for anything else."""
    match = re.fullmatch(r"/(\w+)(\{.*\})?", text.strip(), flags=re.DOTALL)
    if match is None:
        return None
    try:
        entities = json.loads(match.group(2)) if match.group(2) else {}
    except ValueError:
        return None
    if not isinstance(entities, dict):
        return None
    return match.group(1), {str(k): str(v) for k, v in entities.items()}


def render(content: Content, answer: Answer, language: str) -> Reply:
    """The reply for `answer` in `language`: summary (or the "more" part), source line, buttons."""
    lang = i18n.supported(language)
    if answer.office is not None:
        return _render_office(content, answer, lang)
    entry = answer.entry
    if entry is None:
        raise ValueError("an answer needs an entry or an office")
    parts = [_heading(content, answer, lang) + _body(content, entry, lang, answer.detail)]
    parts.append(source_line(content, entry.source, entry.as_of, lang))
    return Reply(text="\n\n".join(parts), buttons=_buttons(content, answer, lang), key=entry.key)


def format_date(day: date, language: str) -> str:
    """A date as people write it: "1 Nov 2024", 「2024年11月1日」."""
    if language == "en":
        return f"{day.day} {day:%b} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def scheme_title(content: Content, scheme: str, language: str) -> str:
    """The scheme's display name (title of its ask_scheme_info entry), else its code."""
    for entry in content.entries:
        if entry.intent == ASK_SCHEME_INFO and entry.scheme == scheme and entry.title:
            return entry.title.get(language, scheme)
    return scheme


def phrase(content: Content, phrase_name: str, language: str, **values: str) -> str:
    texts: Localized = content.phrases.get(phrase_name, {})
    return (texts.get(language) or texts.get(DEFAULT_LANGUAGE, "")).format(**values)


def _heading(content: Content, answer: Answer, language: str) -> str:
    """Names the scheme on follow-up answers, so the user sees which scheme we took them to mean."""
    if answer.scheme is None or answer.intent not in FOLLOW_UP_INTENTS:
        return ""
    return phrase(content, "scheme_heading", language, scheme=scheme_title(content, answer.scheme, language))


def _body(content: Content, entry: Entry, language: str, detail: bool) -> str:
    if not detail or entry.more is None:
        return entry.summary[language]
    return "\n".join([entry.more[language], *change_lines(content, entry.changed, language)])


def change_lines(content: Content, changes: Iterable[Change], language: str) -> list[str]:
    """The "changes" heading and one dated bullet per change, oldest first; nothing when there are none. Shared by
    "tell me more" answers and the question bank's "since when?" replies, so both list changes alike."""
    ordered = sorted(changes, key=lambda c: c.date)
    if not ordered:
        return []
    return [phrase(content, "changes", language)] + [
        f"• {format_date(c.date, language)}: {c.note[language]}" for c in ordered
    ]


def source_line(content: Content, sources: tuple[str, ...], as_of: date, language: str) -> str:
    label = phrase(content, "source", language)
    stamp = phrase(content, "as_of", language, date=format_date(as_of, language))
    return f"{label} {' '.join(sources)} ({stamp})" if language == "en" else f"{label}{' '.join(sources)}（{stamp}）"


def _buttons(content: Content, answer: Answer, language: str) -> tuple[Button, ...]:
    entry = answer.entry
    assert entry is not None
    buttons: list[Button] = []
    if not answer.detail and entry.more is not None:
        entities = {k: v for k, v in (("scheme", answer.scheme), ("topic", answer.topic)) if v}
        buttons.append(
            Button(
                phrase(content, "more_button", language),
                payload(answer.intent, {**entities, "detail": DETAIL_MORE}),
            )
        )
    if entry.menu == "scheme":
        buttons += [
            Button(scheme_title(content, s, language), payload(ASK_SCHEME_INFO, {"scheme": s}))
            for s in content.scheme_menu
        ]
    elif entry.menu == "topic":
        titles = {
            e.topic: e.title for e in content.entries
            if e.intent == ASK_LIVING_INFO and e.topic and e.title
        }
        buttons += [
            Button(titles[t][language], payload(ASK_LIVING_INFO, {"topic": t}))
            for t in TOPICS if t in titles
        ]
    return tuple(buttons)


def _render_office(content: Content, answer: Answer, language: str) -> Reply:
    office = answer.office
    assert office is not None
    template = "office_confirmed" if office.team == "confirmed" else "office_unverified"
    lines = [
        phrase(content, template, language, name=office.name[language], place=answer.location or "")
    ]
    if office.covers:
        lines.append(phrase(content, "office_covers", language, covers=office.covers[language]))
    if office.website:
        lines.append(phrase(content, "office_website", language, website=office.website))
    separator = " " if language == "en" else ""  # Chinese sentences follow each other without a space
    text = separator.join(lines) + "\n\n" + source_line(content, office.source, office.as_of, language)
    return Reply(text=text, key=office.key)
