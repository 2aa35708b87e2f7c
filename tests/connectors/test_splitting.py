"""Long answers are split between sentences, within the limit as each platform counts it."""
from __future__ import annotations

import pytest

from connectors.splitting import split_for_limits, utf8_length, utf16_length


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("Short.", 100, ["Short."]),
        ("", 10, []),
        ("   ", 10, []),
        ("Hello there. How are you? I am fine.", 20, ["Hello there.", "How are you?", "I am fine."]),
        ("Hello there. How are you? I am fine.", 26, ["Hello there. How are you?", "I am fine."]),
        ("高才通是甚麼？它是一個計劃。你可以申請。", 10, ["高才通是甚麼？", "它是一個計劃。", "你可以申請。"]),
        ("Line one\nLine two\nLine three", 18, ["Line one\nLine two", "Line three"]),
        ("a" * 25, 10, ["a" * 10, "a" * 10, "a" * 5]),  # one sentence longer than the limit: hard cut
        ("word " * 6, 12, ["word word", "word word", "word word"]),  # cut at spaces inside a long sentence
        ('He said "yes." Then left.', 15, ['He said "yes."', "Then left."]),
    ],
)
def test_split(text: str, limit: int, expected: list[str]) -> None:
    assert split_for_limits(text, limit) == expected


@pytest.mark.parametrize("measure", [len, utf8_length, utf16_length])
@pytest.mark.parametrize("limit", [7, 30, 100])
def test_every_part_fits_and_nothing_is_lost(measure, limit: int) -> None:
    text = "高才通計劃（TTPS）要咩條件？ 年薪達二百五十萬港元。😀 You may also qualify under QMAS! " * 5
    parts = split_for_limits(text, limit, measure)
    assert all(measure(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_byte_and_utf16_measures() -> None:
    assert utf8_length("高") == 3
    assert utf16_length("😀") == 2
    assert split_for_limits("高才通", 6, utf8_length) == ["高才", "通"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_for_limits("x", 0)
