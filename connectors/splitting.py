"""Splits long answers into messages within a platform's length limit, at sentence boundaries where possible."""
from __future__ import annotations

import re
from typing import Callable

Measure = Callable[[str], int]

# A sentence ends after Western or Chinese end punctuation (with any closing quotes/brackets) or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;…])[\"'”’」』）)]*\s*|\n+")


def utf8_length(text: str) -> int:
    """Length in UTF-8 bytes: WeChat counts bytes (a Chinese character is 3)."""
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: Telegram counts these (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _sentences(text: str) -> list[str]:
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            pieces.append(text[start:match.end()])
            start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return [p for p in pieces if p]


def _fitting_prefix(piece: str, limit: int, measure: Measure) -> int:
    """Length of the longest prefix within the limit (at least one character, so splitting always advances)."""
    low, high = 1, len(piece)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(piece[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _hard_cut(piece: str, limit: int, measure: Measure) -> list[str]:
    """Cuts a sentence longer than the limit: at the last space that fits, else at the last character that fits."""
    out = []
    while measure(piece) > limit:
        cut = _fitting_prefix(piece, limit, measure)
        space = piece.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        out.append(piece[:cut])
        piece = piece[cut:]
    if piece:
        out.append(piece)
    return out


def split_for_limits(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Messages of at most ``limit`` (as ``measure`` counts), splitting between sentences, never inside a
    sentence unless a single sentence is longer than the limit. Joined back they give the text (whitespace
    at the cuts trimmed). An empty text gives no message."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    if measure(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for sentence in _sentences(text):
        if measure(current + sentence.rstrip()) <= limit:
            current += sentence
            continue
        if current.strip():
            chunks.append(current.strip())
        current = ""
        if measure(sentence.rstrip()) <= limit:
            current = sentence
        else:
            parts = _hard_cut(sentence.strip(), limit, measure)
            chunks.extend(p.strip() for p in parts[:-1] if p.strip())
            current = parts[-1]
    if current.strip():
        chunks.append(current.strip())
    return chunks
