"""The connectors' own texts exist in all three languages; unknown language gives the channel's fallback pair."""
from __future__ import annotations

import pytest

from connectors.texts import LANGUAGES, load_texts, parse_texts


def test_every_text_in_every_language() -> None:
    texts = load_texts()
    for name, variants in texts.texts.items():
        assert set(LANGUAGES) <= set(variants), name


def test_cantonese_is_written_as_cantonese() -> None:
    assert "嘅" in load_texts().text("welcome", "zh-Hant", "wechat")
    assert "的" in load_texts().text("welcome", "zh-Hans", "wechat")


@pytest.mark.parametrize("channel, first, second", [("wechat", "zh-Hans", "en"), ("telegram", "en", "zh-Hant")])
def test_unknown_language_is_bilingual(channel: str, first: str, second: str) -> None:
    texts = load_texts()
    assert texts.text("welcome", None, channel) == (
        texts.texts["welcome"][first] + "\n\n" + texts.texts["welcome"][second]
    )


def test_a_missing_translation_fails_when_loading() -> None:
    with pytest.raises(ValueError, match="zh-Hans"):
        parse_texts({"texts": {"x": {"en": "a", "zh-Hant": "b"}}, "fallback_languages": {}, "language_names": {}})
