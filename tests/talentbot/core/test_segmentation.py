"""Segmentation of mixed text: every word once, no whitespace or punctuation tokens, offsets into the text."""

import jieba
import pytest

from talentbot.core.segmentation import segment

_JIEBA = jieba.Tokenizer()


def words(text: str):
    return [w for w, _ in segment(text, _JIEBA.cut)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("TTPS要幾多income", ["TTPS", "要", "幾多", "income"]),
        ("I earn HK$2.5M, ok?", ["I", "earn", "HK", "2.5M", "ok"]),
        ("don't  know", ["don't", "know"]),
        ("  👍 🇭🇰 !!", []),
        ("", []),
        ("top-talent pass", ["top", "talent", "pass"]),
    ],
)
def test_splits_words(text: str, expected) -> None:
    assert words(text) == expected


@pytest.mark.parametrize("text", ["我可唔可以帶埋老婆嚟香港？", "TTPS要幾多income", "高才通 A类 年收入 250万 HKD"])
def test_offsets_point_at_the_words(text: str) -> None:
    for word, start in segment(text, _JIEBA.cut):
        assert text[start : start + len(word)] == word


@pytest.mark.parametrize(
    "text, spans, expected",
    [
        ("申請高才通嘅程序", [(2, 5, "__scheme__")],
         [("申請", None), ("高才通", "__scheme__"), ("嘅", None), ("程序", None)]),
        ("去倫敦", [(1, 3, "__location__")], [("去", None), ("倫敦", "__location__")]),  # word split at the name
        ("TTPS要幾多income", [(0, 4, "__scheme__")],
         [("TTPS", "__scheme__"), ("要", None), ("幾多", None), ("income", None)]),
        ("no names here", [], [("no", None), ("names", None), ("here", None)]),
    ],
)
def test_mask_spans_replaces_names_by_placeholders(text, spans, expected) -> None:
    from talentbot.core.segmentation import mask_spans

    masked = mask_spans(segment(text, _JIEBA.cut), text, spans)
    assert [(w, label) for w, _, label in masked] == expected
    assert all(text[start : start + len(w)] == w for w, start, _ in masked)
