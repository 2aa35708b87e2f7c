"""Writes the form's questions, acknowledgements and the result in en / zh-Hant / zh-Hans (pure, no Rasa)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from talentbot.core.eligibility import wording
from talentbot.core.eligibility.reasons import reason_code
from talentbot.core.eligibility.result import STATUS_RANK, Evaluation, SchemeResult
from talentbot.core.eligibility.universities import default_matcher
from talentbot.core.eligibility_chat.slots import NO, SKIPPED, SLOT_FIELDS, YES
from talentbot.core.eligibility_chat.texts import Texts
from talentbot.core.language import EN

MAX_MESSAGE_CHARS = 600
"""Longest message we send in one bubble. Platforms allow more (Telegram and WhatsApp 4,096 characters,
WeChat customer-service text 2,048 bytes), but a result longer than a phone screen is skimmed, so the
result is split into one message per fitting scheme plus short lists."""

ANSWER_ENTITY = "elig_answer"
"""Entity carried by answer buttons (/inform{"elig_answer": ...}); declared in bot/domain/eligibility.yml."""

SUPPORTING_REASONS = frozenset({"ttps_university_on_list"})
"""Reasons that back another one: the one-line reason of a fitting scheme is the first reason not in here
(for TTPS B or C the category sentence, not the university check behind it)."""

MAX_MISSING_SHOWN = 3
"""Missing fields named per undecided scheme; more would not fit one line."""


@dataclass(frozen=True)
class Button:
    """A quick-reply button as Rasa sends it."""

    title: str
    payload: str


@dataclass(frozen=True)
class Message:
    """One chat message: text and optional buttons."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


def answer_payload(value: str) -> str:
    """The payload of a button answering the current question with `value`."""
    return "/inform" + json.dumps({ANSWER_ENTITY: value}, ensure_ascii=False)


def render_question(profile_field: str, language: str, texts: Texts, candidates: Sequence[str] = ()) -> Message:
    """The question for a profile field with its buttons; with `candidates`, which university is meant."""
    skip = Button(texts.get("choices", "skip", language), answer_payload(SKIPPED))
    if candidates:
        names = {u.name(): u for u in default_matcher().universities}
        choices = tuple(
            Button(names[c].name(language) if c in names else c, answer_payload(c)) for c in candidates
        )
        text = texts.get("questions", "university", language)
        return Message(text, choices + (skip,))
    entry = texts.entry("questions", profile_field) or {}
    text = texts.get("questions", profile_field, language)
    if entry.get("yes_no"):
        buttons: tuple[Button, ...] = (
            Button(texts.get("choices", YES, language), "/affirm"),
            Button(texts.get("choices", NO, language), "/deny"),
        )
    else:
        buttons = tuple(Button(texts.get("choices", c, language), answer_payload(c)) for c in entry.get("choices", ()))
    return Message(text, buttons + (skip,))


def format_value(slot: str, value: Any, language: str, texts: Texts) -> str:
    """A slot value as the user would write it, for acknowledgements ("HK$2,600,000", 「碩士」)."""
    if slot == "elig_income":
        return _money(float(value))
    if slot in ("elig_degree", "elig_hk_level", "elig_hk_campus") and texts.has("choices", str(value)):
        return texts.get("choices", str(value), language)
    if value in (YES, NO):
        return texts.get("choices", str(value), language)
    if slot in ("elig_graduation", "elig_hk_graduation"):
        return str(value)[:4] if str(value).endswith("12-31") else _date(dt.date.fromisoformat(str(value)), language)
    if slot == "elig_experience":
        return {"en": f"{float(value):g} years"}.get(language, f"{float(value):g}年")
    if slot == "elig_university":
        names = {u.name(): u for u in default_matcher().universities}
        return names[value].name(language) if value in names else str(value)
    if slot == "elig_nationality":
        return _country(str(value), language, texts)
    return str(value)


def render_facts(values: Mapping[str, Any], language: str, texts: Texts) -> str:
    """「年收入 HK$2,600,000、最高學歷 碩士」: the facts just taken, to confirm them."""
    parts = []
    for slot, value in values.items():
        if slot not in SLOT_FIELDS or value in (None, SKIPPED):
            continue
        label = texts.get("fields", SLOT_FIELDS[slot], language)
        shown = format_value(slot, value, language, texts)
        parts.append(f"{label}: {shown}" if language == EN else f"{label} {shown}")
    return ("; " if language == EN else "、").join(parts)


def render_reason(reason: str, language: str, texts: Texts) -> str:
    """A rules-module reason in `language`, from its code and the template its English sentence came from
    (wording.render_reason); the sentence as it is when it has no code."""
    code = reason_code(reason)
    if code is None or not texts.has("reasons", code):
        return str(reason)
    return wording.render_reason(code, getattr(reason, "params", {}), language, texts.data)


def scheme_name(scheme: str, language: str, texts: Texts) -> str:
    return texts.get("schemes", scheme, language) if texts.has("schemes", scheme) else scheme


def scheme_list(schemes: Iterable[str], language: str, texts: Texts) -> str:
    return texts.get("result", "list_separator", language).join(scheme_name(s, language, texts) for s in schemes)


def render_result(evaluation: Evaluation, language: str, texts: Texts) -> list[Message]:
    """The result as chat messages: fitting schemes first (one message each, with the next step), then
    the ones that do not fit and why, then what is still open, then who decides."""
    messages: list[str] = []
    fitting = evaluation.fitting()
    intro = texts.get("result", "intro", language, date=_date(evaluation.as_of, language))
    heading = texts.get("result", "fitting_heading" if fitting else "none_fitting", language)
    messages.append(f"{intro}\n{heading}")
    for result in fitting:
        messages.append(_fitting(result, language, texts))
    not_fitting = [r for r in evaluation.results if r.status == "not_eligible"]
    if not_fitting:
        lines = [texts.get("result", "not_fitting_heading", language)]
        lines += [f"• {_name_of(r, language, texts)}{_colon(language)}{render_reason(r.reasons[0], language, texts)}"
                  for r in not_fitting if r.reasons]
        messages.append("\n".join(lines))
    open_results = [r for r in evaluation.results if r.status == "unknown"]
    if open_results:
        lines = [texts.get("result", "unknown_heading", language)]
        for result in open_results:
            fields = texts.get("result", "list_separator", language).join(
                texts.get("fields", f, language) for f in result.missing[:MAX_MISSING_SHOWN] if texts.has("fields", f))
            detail = texts.get("result", "missing", language, fields=fields) if fields else (
                render_reason(result.reasons[0], language, texts) if result.reasons else "")
            lines.append(f"• {_name_of(result, language, texts)}{_colon(language)}{detail}")
        messages.append("\n".join(lines))
    messages.append(texts.get("result", "disclaimer", language) + "\n" + texts.get("result", "help", language))
    return [Message(part) for text in messages for part in split_message(text)]


def render_settled(settled: Sequence[SchemeResult], language: str, texts: Texts) -> Message:
    """What the first message's facts already settle, said before the first question: a Mainland resident
    with a job offer hears at once that GEP is not for them and ASMTP is, instead of only being asked more."""
    lines = [texts.get("result", "settled_heading", language)]
    for result in sorted(settled, key=lambda r: -STATUS_RANK[r.status]):
        mark = "✅" if result.status in ("eligible", "likely") else "✗"
        reason = render_reason(result.reasons[0], language, texts) if result.reasons else ""
        lines.append(f"{mark} {_name_of(result, language, texts)}{_colon(language)}{reason}")
    lines.append(texts.get("result", "settled_rest", language))
    return Message("\n".join(lines))


def _fitting(result: SchemeResult, language: str, texts: Texts) -> str:
    status = texts.get("result", f"status_{result.status}", language)
    lines = [f"✅ {_name_of(result, language, texts)}{_colon(language)}{status}"]
    if result.reasons:
        headline = next((r for r in result.reasons if reason_code(r) not in SUPPORTING_REASONS), result.reasons[0])
        lines.append(render_reason(headline, language, texts))
    if result.sources:
        lines.append(texts.get("result", "next_step", language, url=result.sources[0]))
    return "\n".join(lines)


def _name_of(result: SchemeResult, language: str, texts: Texts) -> str:
    name = scheme_name(result.scheme, language, texts)
    if result.category:
        category = texts.get("result", "category", language, category=result.category)
        return f"{name} ({category})" if language == EN else f"{name}（{category}）"
    return name


def _colon(language: str) -> str:
    return ": " if language == EN else "："


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split at line ends so that no part is longer than `limit` (a single longer line stays whole)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _money(amount: float) -> str:
    return wording.money(amount)


def _date(day: dt.date, language: str) -> str:
    return wording.date_text(day, language)


def _country(code: str, language: str, texts: Texts) -> str:
    return wording.country_name(code, language, texts.data)
