"""Gazetteer: finds known names (schemes, topics, places, languages) in text and maps them to canonical values.

Pure logic, no Rasa import. Matching is by characters, not tokens, so it works the same for Chinese (no word
boundaries) and English (whole words only), and entity spans never depend on how a tokenizer segments the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Tuple

_ASCII_WORD_CHAR = re.compile(r"[A-Za-z0-9]")


def fold(text: str) -> str:
    """Case- and width-folds text character by character, so offsets in the result are offsets in the input."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char).lower()
        out.append(folded if len(folded) == 1 else char.lower() if len(char.lower()) == 1 else char)
    return "".join(out)


@dataclass(frozen=True)
class EntityMatch:
    """One name found in a text: `text[start:end]` is the surface form, `value` the canonical value."""

    entity: str
    value: str
    start: int
    end: int
    text: str


_SHORT_CAPS = re.compile(r"[A-Z]{1,2}")
"""Two-letter capitals (US, UK, SG, DC) match only as capitals: "us" and "uk"-like words are ordinary text."""


class Gazetteer:
    """Longest-match lookup of surface forms; Latin-script names match whole words only ("GEP" not in "GEPT")."""

    def __init__(self, entries: Mapping[Tuple[str, str], str]) -> None:
        """`entries` maps (entity, surface form) to the canonical value."""
        self._by_surface: Dict[str, Tuple[str, str]] = {}
        self._exact: Dict[str, Tuple[str, str]] = {}
        for (entity, surface), value in entries.items():
            surface = surface.strip()
            if _SHORT_CAPS.fullmatch(surface):
                self._exact.setdefault(surface, (entity, value))
                continue
            key = re.sub(r"\s+", " ", fold(surface))
            if key and key not in self._by_surface:
                self._by_surface[key] = (entity, value)
        self._pattern = self._compile(self._by_surface)
        self._exact_pattern = self._compile(self._exact)

    @staticmethod
    def _compile(surfaces: Iterable[str]) -> "re.Pattern[str] | None":
        alternatives = []
        for surface in sorted(surfaces, key=lambda s: (-len(s), s)):
            body = re.escape(surface).replace(r"\ ", r"\s+")
            if _ASCII_WORD_CHAR.match(surface[0]):
                body = r"(?<![A-Za-z0-9])" + body
            if _ASCII_WORD_CHAR.match(surface[-1]):
                body = body + r"(?![A-Za-z0-9])"
            alternatives.append(body)
        return re.compile("|".join(alternatives)) if alternatives else None

    def find(self, text: str) -> List[EntityMatch]:
        """All non-overlapping names in `text`, leftmost first, the longest at each position."""
        if not text:
            return []
        matches = []
        for pattern, table, haystack in (
            (self._pattern, self._by_surface, fold(text)),
            (self._exact_pattern, self._exact, text),
        ):
            for found in pattern.finditer(haystack) if pattern else ():
                entity, value = table[re.sub(r"\s+", " ", found.group(0))]
                start, end = found.span()
                matches.append(EntityMatch(entity, value, start, end, text[start:end]))
        return _without_overlaps(matches)

    def to_entries(self) -> List[List[str]]:
        """Serialisable form: [entity, surface, value] rows (surfaces case-folded, except two-letter capitals)."""
        rows = {**self._by_surface, **self._exact}
        return [[entity, surface, value] for surface, (entity, value) in sorted(rows.items())]

    @classmethod
    def from_entries(cls, rows: Iterable[Iterable[str]]) -> "Gazetteer":
        return cls({(entity, surface): value for entity, surface, value in rows})

    def __len__(self) -> int:
        return len(self._by_surface) + len(self._exact)


def _without_overlaps(matches: List[EntityMatch]) -> List[EntityMatch]:
    """Keeps the longest of overlapping matches (then the leftmost), in text order.

    Greedy in that order; whether a match overlaps one already kept is read from a map of the characters taken,
    so each check costs the match's length, not the number of matches kept (comparing with every kept match was
    quadratic: a 10,000-character message of 「高才通」 took 1.2 s here alone). Each pattern's matches do not overlap
    one another, so all checks together cost at most twice the text's length. Matches are never empty (every
    surface form has a character), so "overlaps" and "shares a character" are the same thing.
    """
    if not matches:
        return []
    taken = bytearray(max(m.end for m in matches))
    kept: List[EntityMatch] = []
    for match in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if taken.find(1, match.start, match.end) == -1:
            taken[match.start : match.end] = b"\x01" * (match.end - match.start)
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)
