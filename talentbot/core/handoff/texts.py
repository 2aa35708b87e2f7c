"""What the user is told about the handoff and the staff's saved replies, in en / zh-Hant / zh-Hans (data in
bot/texts/handoff.yml, read and checked through talentbot.core.i18n)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Mapping, Optional

from talentbot.core import i18n
from talentbot.core.handoff import datafiles
from talentbot.core.handoff.hours import HONG_KONG
from talentbot.core.i18n import LANGUAGES as LANGUAGES

CHECKED_SECTIONS = ("user", "saved_replies")
"""The sections of name → text-in-each-language; `when` holds per-language formats and names."""


def load_texts() -> Mapping[str, Any]:
    """The handoff's texts, refused at start-up when one lacks a language."""
    data = i18n.load(datafiles.TEXTS_FILE)
    i18n.require_complete({section: data[section] for section in CHECKED_SECTIONS}, str(datafiles.TEXTS_FILE))
    return data


def _texts(texts: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
    return texts if texts is not None else load_texts()


def _language(language: str) -> str:
    """A ticket carries one of our codes (the slot takes no other); anything else gets the default."""
    return i18n.supported(language)


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
    """The user-facing text `key` (a name under `user:` in bot/texts/handoff.yml: queued, with_staff, resolved...)
    filled in."""
    template: str = _texts(texts)["user"][key][_language(language)]
    return template.format(**values)


def saved_replies(language: Optional[str] = None, texts: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Saved replies by name: every language's text, or only `language`'s when given (for the console's picker)."""
    replies = _texts(texts)["saved_replies"]
    if language is None:
        return {name: dict(by_language) for name, by_language in replies.items()}
    return {name: by_language[_language(language)] for name, by_language in replies.items()}
