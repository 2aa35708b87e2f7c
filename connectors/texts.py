"""The connectors' own texts (welcome, unsupported-message note, prompts) in three languages, from
bot/texts/channels.yml through talentbot.core.i18n (the languages, the fallback rule, the completeness check)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from talentbot.core import i18n
from talentbot.core.i18n import LANGUAGES as LANGUAGES

TEXTS_FILE = i18n.TEXTS_DIR / "channels.yml"


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
        return i18n.together(variants, self.fallback_languages[channel])


def parse_texts(data: Mapping[str, Any]) -> Texts:
    """Checks that every text exists in all three languages, so a missing translation fails at start-up."""
    texts = data["texts"]
    i18n.require_complete({"texts": texts})
    return Texts(
        texts={name: {code: str(v).strip() for code, v in variants.items()} for name, variants in texts.items()},
        fallback_languages=dict(data["fallback_languages"]),
        language_names=dict(data["language_names"]),
    )


@lru_cache(maxsize=1)
def load_texts(path: Path = TEXTS_FILE) -> Texts:
    """The channels' texts (read once per process)."""
    return parse_texts(i18n.load(path))
