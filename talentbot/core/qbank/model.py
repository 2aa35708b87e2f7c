"""Typed question-bank entries: what the YAML files under bot/questions/ hold once loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from talentbot.core.content.model import ANSWER_INTENTS, LANGUAGES, SCHEMES, TOPICS, Change, Localized

__all__ = ["ANSWER_INTENTS", "LANGUAGES", "SCHEMES", "TOPICS", "Bank", "Change", "QuestionEntry"]


@dataclass(frozen=True)
class QuestionEntry:
    """One question people ask, the ways they ask it, and its answer with its source."""

    id: str  # "<area>.<what>", e.g. "ttps.quota"
    intent: str  # the answer intent it belongs to (interfaces.md §2)
    questions: Mapping[str, tuple[str, ...]]  # language -> paraphrases; the first is the button label
    answer: Localized  # the short answer
    source: tuple[str, ...]  # official URL(s)
    as_of: date  # revision date of the source
    schemes: tuple[str, ...] = ()  # schemes it is about; () for questions about no single scheme
    topic: str | None = None  # living topic, if any
    more: Localized | None = None  # "tell me more" part
    unverified: tuple[str, ...] = ()  # editor notes: facts the reference marks UNVERIFIED
    related: tuple[str, ...] = ()  # ids of entries a user may want next
    changed: tuple[Change, ...] = ()  # dated changes behind the answer, for "since when?" follow-ups
    file: str = ""  # the YAML file it came from, for editors' error messages

    def label(self, language: str) -> str:
        """The short question shown on a "Did you mean" button."""
        return self.questions[language][0]


@dataclass(frozen=True)
class Bank:
    """Every entry, by id, loaded once per process."""

    entries: tuple[QuestionEntry, ...]
    by_id: Mapping[str, QuestionEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_id:
            object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    def get(self, entry_id: str) -> QuestionEntry | None:
        return self.by_id.get(entry_id)

    def __len__(self) -> int:
        return len(self.entries)
