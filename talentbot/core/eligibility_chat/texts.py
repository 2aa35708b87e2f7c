"""The form's texts (bot/forms/eligibility.yml): loaded once, looked up by section, key and language."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from talentbot.core import i18n
from talentbot.core.eligibility.wording import FORM_TEXTS_FILE, load_form_texts

TEXTS_FILE = FORM_TEXTS_FILE
CHECKED_SECTIONS = ("questions", "choices", "fields", "messages", "result", "schemes", "technology_areas", "reasons")
"""The sections of name → text-in-each-language (the others hold settings such as the official list's address)."""


@dataclass(frozen=True)
class Texts:
    """The parsed texts file; `get` falls back to English for a language without a text."""

    data: Mapping[str, Any]

    def entry(self, section: str, key: str) -> Mapping[str, Any] | None:
        """The raw entry (a mapping of language → text, plus extras such as `choices`)."""
        return (self.data.get(section) or {}).get(key)

    def get(self, section: str, key: str, language: str, **params: Any) -> str:
        """The text in `language`, placeholders filled; KeyError if the key is not in the file."""
        entry = self.entry(section, key)
        if entry is None:
            raise KeyError(f"{section}.{key} is not in {TEXTS_FILE.name}")
        template = i18n.pick(entry, language)
        return str(template).format(**params) if params else str(template)

    def has(self, section: str, key: str) -> bool:
        return self.entry(section, key) is not None

    @property
    def official_university_list(self) -> str:
        return str(self.data["official_university_list"])


def parse_texts(data: Mapping[str, Any]) -> Texts:
    """Check the shape (every entry has all three languages) and wrap it."""
    i18n.require_complete({section: data.get(section) or {} for section in CHECKED_SECTIONS}, TEXTS_FILE.name)
    return Texts(data)


@functools.lru_cache(maxsize=1)
def load_texts(path: Path = TEXTS_FILE) -> Texts:
    """The texts file, read once per process (by wording.load_form_texts, which the reasons share)."""
    return parse_texts(load_form_texts(path))
