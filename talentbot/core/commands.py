"""Whole-message commands (stop, skip) in three languages, from bot/texts/commands.yml.

One list per command for the whole assistant: "stop" ends the eligibility check and takes a waiting user out of
the staff queue, so a phrase that works for one works for the other. A message matches only when all of it is
the phrase (after `normalise`, with one polite word before or after taken away): a longer message is a question.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from talentbot.core import i18n

COMMANDS_FILE = i18n.TEXTS_DIR / "commands.yml"
STOP = "stop"
SKIP = "skip"


def normalise(text: str) -> str:
    """Case, width, spaces and punctuation removed, so 「唔使喇！」, "Cancel." and "ｃａｎｃｅｌ" compare equal."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S"))))


@dataclass(frozen=True)
class Phrases:
    """The normalised phrases of one command, and the polite words that may stand before or after one."""

    phrases: frozenset[str]
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether the whole message is one of the phrases."""
        core = normalise(text)
        if not core:
            return False
        heads = [core] + [core[len(word):] for word in self.before if core.startswith(word) and core != word]
        return any(head in self.phrases or any(head.endswith(word) and head[: -len(word)] in self.phrases
                                               for word in self.after)
                   for head in heads)


def _normalised(words: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({normalise(str(word)) for word in words} - {""}, key=len, reverse=True))


def parse_commands(data: Mapping[str, Any]) -> dict[str, Phrases]:
    """Every command's phrases; ValueError when a command has no phrase for one of the languages."""
    problems = [f"{name} has no phrases in {', '.join(gaps)}" for name in (STOP, SKIP)
                if (gaps := [code for code in i18n.LANGUAGES if not (data.get(name) or {}).get(code)])]
    if problems:
        raise ValueError("; ".join(problems))
    before, after = _normalised(data.get("polite_before") or ()), _normalised(data.get("polite_after") or ())
    return {name: Phrases(frozenset(_normalised(p for code in i18n.LANGUAGES for p in data[name][code])), before, after)
            for name in (STOP, SKIP)}


@lru_cache(maxsize=4)
def load_commands(path: Path = COMMANDS_FILE) -> dict[str, Phrases]:
    return parse_commands(i18n.load(path))
