"""The connectors' own texts (welcome, unsupported-message note, prompts) in three languages, read from texts.yml."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
"""The assistant's languages (interfaces.md §1), in menu order."""

TEXTS_FILE = Path(__file__).with_name("texts.yml")


@dataclass(frozen=True)
class Texts:
    """The parsed data file: ``texts[name][language]``, per-channel fallback languages, language names."""

    texts: dict[str, dict[str, str]]
    fallback_languages: dict[str, list[str]]
    language_names: dict[str, str]

    def text(self, name: str, language: Optional[str], channel: str) -> str:
        """The text in ``language``; when the language is unknown, the channel's fallback languages together."""
        variants = self.texts[name]
        if language in variants:
            return variants[language]
        return "\n\n".join(variants[code] for code in self.fallback_languages[channel])


def parse_texts(data: dict) -> Texts:
    """Checks that every text exists in all three languages, so a missing translation fails at start-up."""
    texts = data["texts"]
    for name, variants in texts.items():
        missing = [code for code in LANGUAGES if not variants.get(code)]
        if missing:
            raise ValueError(f"text {name!r} lacks {missing}")
    return Texts(
        texts={name: {code: str(v).strip() for code, v in variants.items()} for name, variants in texts.items()},
        fallback_languages=dict(data["fallback_languages"]),
        language_names=dict(data["language_names"]),
    )


@lru_cache(maxsize=1)
def load_texts(path: Path = TEXTS_FILE) -> Texts:
    """The texts of ``texts.yml`` (read once per process)."""
    with open(path, encoding="utf-8") as handle:
        return parse_texts(yaml.safe_load(handle))
