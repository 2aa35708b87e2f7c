"""Reason wording: one template per reason code and language, figures filled in from the reason's parameters.

The templates live in bot/forms/eligibility.yml (section `reasons`), next to the form's other texts; the English
sentences of the eligibility JSON (interfaces §3) and the assistant's replies in every language are rendered from
them, so a reason is worded in one place. The rules module never writes a figure into a sentence: it passes raw
values (numbers, dates, codes) read from the rule data, and `format_params` writes each one the way a language
writes it (money, dates, university and country names, scheme names).

Placeholders are `{name}`; `{name:year}` and `{name:month}` write a number with an English unit in the singular
or plural ("1 year", "3 years"). Chinese templates put the unit after the number themselves (「{min_years}年」).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from talentbot.core import i18n, paths
from talentbot.core.eligibility.universities import University, default_matcher
from talentbot.core.language import EN

FORM_TEXTS_FILE = paths.ROOT / "bot" / "forms" / "eligibility.yml"
"""The eligibility form's texts: questions, buttons, result lines and the reason templates."""

UNITS = ("year", "month")
"""Format specs a placeholder may carry to get an English unit with the right number ("{years:year}")."""

LIST_SEPARATORS: Mapping[str, str] = {EN: ", "}
"""Between the items of a list parameter; Chinese uses 、."""


def load_form_texts(path: Path = FORM_TEXTS_FILE) -> Mapping[str, Any]:
    """The texts file as parsed YAML, read once per process (talentbot.core.i18n, as every text file)."""
    return i18n.load(path)


class Value:
    """A parameter written for one language; a format spec of UNITS adds the English unit."""

    __slots__ = ("text", "number")

    def __init__(self, text: str, number: float | None = None) -> None:
        self.text = text
        self.number = number

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        if not spec:
            return self.text
        if spec in UNITS and self.number is not None:
            return f"{self.text} {spec}{'' if self.number == 1 else 's'}"
        raise ValueError(f"format spec {spec!r} needs a number and one of {', '.join(UNITS)}")


def money(amount: float) -> str:
    """HK$2,500,000 (the same in every language)."""
    return f"HK${amount:,.0f}"


def date_text(day: dt.date, language: str) -> str:
    """28 December 2022 / 2022年12月28日."""
    if language == EN:
        return f"{day.day} {day.strftime('%B')} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def number_text(value: float) -> str:
    """3, 2.5, 0.5: no trailing zeros, at most one decimal, rounded down (2.96 years of experience is not "3",
    which would read as meeting a 3-year minimum it misses; 3.09925, computed from dates, is "3")."""
    return f"{math.floor(value * 10 + 1e-9) / 10:g}"


def _localized(entry: Any, language: str, fallback: str) -> str:
    if isinstance(entry, dict):
        text = entry.get(language) or entry.get(EN)
        if text:
            return str(text)
    return fallback


def country_name(code: str, language: str, texts: Mapping[str, Any] | None = None) -> str:
    """The country of an ISO 3166-1 alpha-2 code in `language` (the code itself when we have no name)."""
    texts = load_form_texts() if texts is None else texts
    return _localized((texts.get("countries") or {}).get(code), language, code)


def scheme_short_name(scheme: str, language: str, texts: Mapping[str, Any] | None = None) -> str:
    """TTPS / 高才通計劃: the scheme's name without the English expansion in brackets."""
    texts = load_form_texts() if texts is None else texts
    return _localized((texts.get("schemes") or {}).get(scheme), language, scheme).split(" (")[0]


@functools.lru_cache(maxsize=1)
def _universities_by_id() -> Mapping[str, University]:
    return {u.id: u for u in default_matcher().universities}


def university_name(university_id: str, language: str) -> str:
    """The university's name in `language` (its id when our copy of the list does not hold it)."""
    university = _universities_by_id().get(university_id)
    return university.name(language) if university else university_id


def technology_area_name(key: str, language: str, texts: Mapping[str, Any] | None = None) -> str:
    texts = load_form_texts() if texts is None else texts
    return _localized((texts.get("technology_areas") or {}).get(key), language, key.replace("_", " "))


def _list(items: Sequence[str], language: str) -> str:
    return LIST_SEPARATORS.get(language, "、").join(items)


def format_param(key: str, value: Any, language: str, texts: Mapping[str, Any] | None = None) -> Value:
    """One raw parameter written for `language`; the key says what it is (see the module docstring)."""
    if value is None:
        return Value("")
    kind = type(value)
    if kind is int or kind is float:  # the common case first: evaluation must stay well under 1 ms
        if key.endswith("_hkd"):
            return Value(money(value), value)
        if key == "quota":
            return Value(f"{value:,}", value)
        shown = number_text(value)
        return Value(shown, float(shown))  # "1 year" when 1.05 is shown as 1
    if isinstance(value, dt.date):
        return Value(date_text(value, language))
    if key.endswith("_hkd"):
        return Value(money(float(value)), float(value))
    if key == "list_version":
        try:
            return Value(date_text(dt.date.fromisoformat(str(value)), language))
        except ValueError:
            return Value(str(value))
    if key == "university_id":
        return Value(university_name(str(value), language))
    if key == "candidates":
        return Value(_list([university_name(str(v), language) for v in value], language))
    if key == "nationality":
        return Value(country_name(str(value), language, texts))
    if key == "scheme":
        return Value(scheme_short_name(str(value), language, texts))
    if key == "area_key":
        return Value(technology_area_name(str(value), language, texts))
    if key == "areas":
        return Value(_list([technology_area_name(str(v), language, texts) for v in value], language))
    return Value(str(value))


def format_params(params: Mapping[str, Any], language: str, texts: Mapping[str, Any] | None = None) -> dict[str, Value]:
    return {key: format_param(key, value, language, texts) for key, value in params.items()}


def render_reason(code: str, params: Mapping[str, Any], language: str, texts: Mapping[str, Any] | None = None) -> str:
    """The reason `code` in `language` (English when the template has no text in it), figures from `params`.

    KeyError when the code has no template or the template names a parameter the reason does not carry.
    """
    texts = load_form_texts() if texts is None else texts
    entry = (texts.get("reasons") or {}).get(code)
    if entry is None:
        raise KeyError(f"reason {code!r} has no template in {FORM_TEXTS_FILE.name}")
    template = str(entry.get(language) or entry[EN])
    return template.format(**format_params(params, language, texts))
