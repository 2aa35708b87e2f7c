"""The handoff texts: every text in the three languages, Cantonese written as Cantonese, placeholders that fill."""

from __future__ import annotations

import re
import string

import pytest

from talentbot.core.handoff import datafiles
from talentbot.core.handoff.texts import LANGUAGES, saved_replies, user_text

TEXTS = datafiles.load(datafiles.TEXTS_FILE)
USER_KEYS = sorted(TEXTS["user"])
CANTONESE = re.compile("[咩嘅喺冇咗哋俾嚟啦喇嘢係唔]")
SIMPLIFIED_ONLY = set("这们们发请应让问题经为关")
TRADITIONAL_ONLY = set("這們發請應讓問題經為關")


def _fields(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_file_names_its_source_and_date() -> None:
    assert TEXTS["source"] and TEXTS["as_of"]


@pytest.mark.parametrize("key", USER_KEYS + [f"saved:{name}" for name in TEXTS["saved_replies"]])
def test_every_text_exists_in_the_three_languages_with_the_same_placeholders(key: str) -> None:
    by_language = TEXTS["saved_replies"][key[6:]] if key.startswith("saved:") else TEXTS["user"][key]
    assert set(by_language) == set(LANGUAGES)
    assert len({frozenset(_fields(text)) for text in by_language.values()}) == 1


@pytest.mark.parametrize("key", USER_KEYS + [f"saved:{name}" for name in TEXTS["saved_replies"]])
def test_scripts_are_not_mixed(key: str) -> None:
    by_language = TEXTS["saved_replies"][key[6:]] if key.startswith("saved:") else TEXTS["user"][key]
    assert not SIMPLIFIED_ONLY & set(by_language["zh-Hant"])
    assert not TRADITIONAL_ONLY & set(by_language["zh-Hans"])
    assert not CANTONESE.search(by_language["zh-Hans"])


@pytest.mark.parametrize("key", USER_KEYS)
def test_traditional_user_texts_are_written_cantonese(key: str) -> None:
    assert CANTONESE.search(TEXTS["user"][key]["zh-Hant"])


def test_user_text_fills_placeholders_and_falls_back_to_english() -> None:
    assert "number 3" in user_text("still_waiting", "en", place=3)
    assert user_text("cancelled", "fr") == user_text("cancelled", "en")


def test_saved_replies_for_one_language() -> None:
    replies = saved_replies("zh-Hant")
    assert set(replies) == set(TEXTS["saved_replies"])
    assert all(isinstance(text, str) and text for text in replies.values())
