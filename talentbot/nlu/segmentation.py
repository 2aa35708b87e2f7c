"""Word segmentation of mixed Chinese/English text, independent of Rasa.

Latin-script words and numbers are split on their own edges; runs of Han characters are cut by Jieba with our
user dictionary (scheme names, Cantonese words such as 可唔可以, 係咪, 點樣). Whitespace, punctuation and emoji
never become tokens (Rasa's JiebaTokenizer keeps whitespace tokens in mixed text, an upstream bug).
"""

from __future__ import annotations

import re
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
    for word, start in tokens:
        pieces = [(start, start + len(word))]
        for s, e, _ in spans:
            pieces = [p for a, b in pieces for p in ((a, min(b, s)), (max(a, e), b)) if p[0] < p[1]]
        out.extend((text[a:b], a, None) for a, b in pieces)
    return sorted(out, key=lambda item: item[1])
