"""Word segmentation of mixed Chinese/English text, independent of Rasa.

Latin-script words and numbers are split on their own edges; runs of Han characters are cut by Jieba with our
user dictionary (scheme names, Cantonese words such as 可唔可以, 係咪, 點樣). Whitespace, punctuation and emoji
never become tokens (Rasa's JiebaTokenizer keeps whitespace tokens in mixed text, an upstream bug).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Callable, Iterable, List, Optional, Tuple

Segmenter = Callable[[str], Iterable[str]]
"""Cuts a run of Han characters into words (jieba.Tokenizer.cut with HMM)."""

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD_CHAR = f"[^\\W_{_HAN}]"
_PIECE = re.compile(f"(?P<han>[{_HAN}]+)|(?P<word>{_WORD_CHAR}+(?:['’.]{_WORD_CHAR}+)*)")


def segment(text: str, cut_han: Segmenter) -> List[Tuple[str, int]]:
    """(word, start offset) pairs covering every letter, digit and Han character of `text`."""
    tokens: List[Tuple[str, int]] = []
    for piece in _PIECE.finditer(text):
        if piece.group("han"):
            offset = piece.start()
            for word in cut_han(piece.group("han")):
                tokens.append((word, offset))
                offset += len(word)
        else:
            tokens.append((piece.group("word"), piece.start()))
    return tokens


Span = Tuple[int, int, str]
"""(start, end, placeholder) of a recognised name, e.g. (0, 3, "__scheme__") for 高才通."""


def mask_spans(tokens: List[Tuple[str, int]], text: str, spans: Iterable[Span]) -> List[Tuple[str, int, Optional[str]]]:
    """Merges each span into one token carrying its placeholder; words partly inside a span keep their outside part.

    Returns (word, start, placeholder or None) triples in text order. Lets the intent classifier learn from the
    words around a name ("申請 __scheme__ 嘅程序") instead of from the name itself.
    """
    spans = sorted(spans)
    out: List[Tuple[str, int, Optional[str]]] = [(text[s:e], s, label) for s, e, label in spans]
    cuts = _cuts(spans)
    cut_ends = [e for _, e in cuts]
    for word, start in tokens:
        end = start + len(word)
        # Only the cuts ending after the word's start and starting before its end touch it: found by bisection,
        # so the whole loop is linear in tokens + spans (trying every span for every word was quadratic).
        at = bisect_right(cut_ends, start)
        while at < len(cuts) and cuts[at][0] < end:
            s, e = cuts[at]
            if start < s:
                out.append((text[start:s], start, None))
            start = max(start, e)
            at += 1
        if start < end:
            out.append((text[start:end], start, None))
    return sorted(out, key=lambda item: item[1])


def _cuts(spans: List[Span]) -> List[Tuple[int, int]]:
    """The sorted spans with overlapping ones merged: disjoint, so their ends are sorted too. (Spans that only touch
    stay apart, and so does an empty span, which splits a word as cutting it out one span at a time did.)"""
    cuts: List[Tuple[int, int]] = []
    for s, e, _ in spans:
        if cuts and s < cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(cuts[-1][1], e))
        else:
            cuts.append((s, e))
    return cuts
