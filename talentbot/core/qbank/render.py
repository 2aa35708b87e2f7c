"""Turns a bank decision into replies: the entry's answer with its source, or "Did you mean" with buttons."""

from __future__ import annotations

from typing import Sequence

from talentbot.core import i18n
from talentbot.core.content.model import Content
from talentbot.core.content.render import (
    DETAIL_MORE,
    Button,
    Reply,
    change_lines,
    format_date,
    payload,
    phrase,
    source_line,
)
from talentbot.core.qbank.model import QuestionEntry

QUESTION_ENTITY = "question"
"""Entity of the buttons that name an entry (`/ask_scheme_info{"question":"ttps.quota"}`); never extracted."""
CHECK_ELIGIBILITY = "check_eligibility"
MAX_RELATED_BUTTONS = 2


def entry_payload(entry: QuestionEntry, detail: bool = False) -> str:
    entities = {QUESTION_ENTITY: entry.id}
    if detail:
        entities["detail"] = DETAIL_MORE
    return payload(entry.intent, entities)


def render_entry(
    content: Content,
    entry: QuestionEntry,
    language: str,
    detail: bool = False,
    related: Sequence[QuestionEntry] = (),
    offer_check: bool = False,
) -> Reply:
    """The answer (or its "more" part), the source line, and buttons: more, related questions, a check offer."""
    lang = i18n.supported(language)
    body = entry.more[lang] if detail and entry.more else entry.answer[lang]
    text = body + "\n\n" + source_line(content, entry.source, entry.as_of, lang)
    buttons: list[Button] = []
    if entry.more and not detail:
        buttons.append(Button(phrase(content, "more_button", lang), entry_payload(entry, detail=True)))
    buttons += [Button(r.label(lang), entry_payload(r)) for r in related[:MAX_RELATED_BUTTONS]]
    if offer_check:
        buttons.append(Button(phrase(content, "check_offer_button", lang), payload(CHECK_ELIGIBILITY)))
    return Reply(text=text, buttons=tuple(buttons), key=entry.id)


def render_choices(content: Content, choices: Sequence[QuestionEntry], language: str,
                   heading: str = "did_you_mean") -> Reply:
    """ "Did you mean…" (or, after an answer given on a close call, "Or did you mean…") with one button per entry
    (connectors number them where buttons don't exist)."""
    lang = i18n.supported(language)
    buttons = tuple(Button(c.label(lang), entry_payload(c)) for c in choices)
    return Reply(text=phrase(content, heading, lang), buttons=buttons, key=heading)


def render_changes(content: Content, entry: QuestionEntry, language: str) -> Reply:
    """Answers "since when?" after `entry`: its dated changes, oldest first, with the entry's source; where it has
    none on record, says so with the date its answer holds as of (never a guess)."""
    lang = i18n.supported(language)
    if entry.changed:
        body = "\n".join(change_lines(content, entry.changed, lang))
    else:
        body = phrase(content, "no_changes", lang, date=format_date(entry.as_of, lang))
    text = body + "\n\n" + source_line(content, entry.source, entry.as_of, lang)
    return Reply(text=text, buttons=(), key=entry.id + ".changed")
