"""The form's texts (bot/forms/eligibility.yml): loaded once, looked up by section, key and language."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from talentbot.core.language import EN, LANGUAGES

TEXTS_FILE = Path(__file__).resolve().parents[3] / "bot" / "forms" / "eligibility.yml"


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
        template = entry.get(language) or entry[EN]
        return str(template).format(**params) if params else str(template)

    def has(self, section: str, key: str) -> bool:
        return self.entry(section, key) is not None

    @property
    def official_university_list(self) -> str:
        return str(self.data["official_university_list"])


def parse_texts(data: Mapping[str, Any]) -> Texts:
    """Check the shape (every entry has all three languages) and wrap it."""
    for section in ("questions", "choices", "fields", "messages", "result", "schemes", "reasons"):
        for key, entry in (data.get(section) or {}).items():
            missing = [lang for lang in LANGUAGES if not (isinstance(entry, Mapping) and entry.get(lang))]
            if missing:
                raise ValueError(f"{TEXTS_FILE.name}: {section}.{key} has no text for {', '.join(missing)}")
    return Texts(data)


@functools.lru_cache(maxsize=1)
def load_texts(path: Path = TEXTS_FILE) -> Texts:
    """The texts file, read once per process."""
    return parse_texts(yaml.safe_load(path.read_text(encoding="utf-8")))
