"""Platform locales become language hints (only en / zh-Hant / zh-Hans)."""
from __future__ import annotations

from typing import Optional

import pytest

from connectors.locale import language_hint, language_metadata, language_of_reply


@pytest.mark.parametrize(
    "locale, hint",
    [
        ("zh-CN", "zh-Hans"),
        ("zh_CN", "zh-Hans"),  # WeChat spelling
        ("zh-hans", "zh-Hans"),  # Telegram spelling
        ("zh-SG", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh-HK", "zh-Hant"),
        ("zh_TW", "zh-Hant"),
        ("zh-hant", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("yue", "zh-Hant"),
        ("en", "en"),
        ("en-GB", "en"),
        ("zh", None),  # script unknown
        ("ja", None),
        ("", None),
        (None, None),
    ],
)
def test_language_hint(locale: Optional[str], hint: Optional[str]) -> None:
    assert language_hint(locale) == hint


def test_metadata_only_when_known() -> None:
    assert language_metadata("zh-CN") == {"language": "zh-Hans"}
    assert language_metadata("de") == {}


@pytest.mark.parametrize(
    "text, language",
    [
        ("Am I eligible for TTPS?", "en"),
        ("高才通要咩條件？", "zh-Hant"),
        ("高才通申请条件是什么？", "zh-Hans"),
        ("你好", None),  # the same in both scripts
        ("", None),
    ],
)
def test_language_of_reply(text: str, language: Optional[str]) -> None:
    assert language_of_reply(text) == language
