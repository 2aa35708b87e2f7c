"""What the user is told about the handoff and the staff's saved replies, in en / zh-Hant / zh-Hans (data in
texts.yml)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Mapping, Optional

from talentbot.core.handoff import datafiles
from talentbot.core.handoff.hours import HONG_KONG

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
"""The language codes of interfaces §1."""

FALLBACK_LANGUAGE = "en"
"""Used when a ticket carries a language we have no text for (should not happen: the slot takes the three codes)."""


def _texts(texts: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
    return texts if texts is not None else datafiles.load(datafiles.TEXTS_FILE)


def _language(language: str) -> str:
    return language if language in LANGUAGES else FALLBACK_LANGUAGE


def format_opening(moment: dt.datetime, language: str, texts: Optional[Mapping[str, Any]] = None) -> str:
    """When staff are next in, written as the user's language writes dates, in Hong Kong time."""
    data = _texts(texts)["when"]
    language = _language(language)
    local = moment.astimezone(HONG_KONG)
    month_names = data.get("month_names", {}).get(language) or [str(month) for month in range(1, 13)]
    template: str = data["format"][language]
    return template.format(
        weekday=data["weekdays"][language][local.weekday()], day=local.day, month=local.month,
        month_name=month_names[local.month - 1], time=local.strftime("%H:%M"))


def user_text(key: str, language: str, texts: Optional[Mapping[str, Any]] = None, **values: Any) -> str:
    """The user-facing text `key` (queued, queued_outside_hours, still_waiting, cancelled, resolved) filled in."""
    template: str = _texts(texts)["user"][key][_language(language)]
    return template.format(**values)


def saved_replies(language: Optional[str] = None, texts: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Saved replies by name: every language's text, or only `language`'s when given (for the console's picker)."""
    replies = _texts(texts)["saved_replies"]
    if language is None:
        return {name: dict(by_language) for name, by_language in replies.items()}
    return {name: by_language[_language(language)] for name, by_language in replies.items()}
