"""Cue lists (data/cues.yml) compiled for matching: is it a question, a request to be assessed, a call for a person."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

from talentbot.core.qbank.text import fold

CUES_FILE = Path(__file__).resolve().parent / "data" / "cues.yml"
KINDS = ("question", "assessment", "assessment_weak", "human", "challenge", "filler", "condition",
         "since_when", "about_assistant", "language_request")
_LATIN = re.compile(r"[a-z]")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Cues:
    """One compiled pattern per kind of cue."""

    patterns: dict[str, re.Pattern[str]]

    def has(self, kind: str, text: str) -> bool:
        return bool(text) and self.patterns[kind].search(" ".join(fold(text).split())) is not None

    def cut(self, kinds: Iterable[str], text: str) -> str:
        """The folded text with every cue of these kinds cut out: what else it says."""
        rest = " ".join(fold(text).split())
        for kind in kinds:
            rest = self.patterns[kind].sub(" ", rest)
        return rest

    def without(self, kinds: Iterable[str], text: str) -> str:
        """`cut`, and punctuation and spaces too: empty when the text says nothing but those cues."""
        return _NOT_WORD.sub("", self.cut(kinds, text))


def compile_cues(lists: Iterable[str]) -> re.Pattern[str]:
    """Latin cues as whole words, Han and punctuation cues anywhere; all folded like the text."""
    parts = []
    for cue in sorted({fold(c) for c in lists}, key=len, reverse=True):
        body = re.escape(cue).replace(r"\ ", r"\s+")
        if _LATIN.match(cue[0]):
            body = r"(?<![a-z0-9])" + body
        if _LATIN.match(cue[-1]):
            body += r"(?![a-z0-9])"
        parts.append(body)
    return re.compile("|".join(parts) or r"(?!)")


@lru_cache(maxsize=2)
def load_cues(path: Path = CUES_FILE) -> Cues:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Cues({kind: compile_cues(c for cues in (data.get(kind) or {}).values() for c in cues) for kind in KINDS})
