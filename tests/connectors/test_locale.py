"""Platform locales become language hints (only en / zh-Hant / zh-Hans)."""
from __future__ import annotations

from typing import Optional

import pytest

from connectors.locale import language_hint, language_metadata


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

