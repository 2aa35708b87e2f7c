"""The one home of the assistant's languages: their codes, the fallback rule, and the loader of translated texts.

Every user-facing text lives in a YAML file under `bot/` (answers in bot/content, the question bank in
bot/questions, the eligibility form in bot/forms, the channels' and the handoff's texts in bot/texts) and reaches
Python through `load` (or `read`, for a loader that caches its own parsed form), and `missing`, the completeness
check the files' own loaders run at start-up. `pick` is the fallback rule: the user's language when we have it,
else English. Only a message whose language is not known yet (a first greeting) shows several languages together
(`together`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import yaml

from talentbot.core import paths

EN = "en"
ZH_HANT = "zh-Hant"
ZH_HANS = "zh-Hans"
LANGUAGES: tuple[str, ...] = (EN, ZH_HANT, ZH_HANS)
"""The reply languages of ../shared/spec/interfaces.md §1, in menu order: English, Traditional Chinese (written
Hong Kong Cantonese included), Simplified Chinese."""

DEFAULT_LANGUAGE = EN
"""The language of a reply when the user's is not one of ours (a ticket or a slot should never carry another)."""

TEXTS_DIR = paths.ROOT / "bot" / "texts"
"""The channels' notices and the handoff's texts (the other text files have folders of their own under bot/)."""

Localized = Mapping[str, str]
"""One text in each of LANGUAGES, keyed by language code."""


def supported(language: Optional[str]) -> str:
    """`language` if we write it, else the default: the rule every reply follows."""
    return language if language is not None and language in LANGUAGES else DEFAULT_LANGUAGE


def pick(variants: Localized, language: Optional[str]) -> str:
    """The text in the user's language; English when that language (or its text) is missing."""
    return variants.get(supported(language)) or variants[DEFAULT_LANGUAGE]


def together(variants: Localized, languages: Iterable[str]) -> str:
    """The text in several languages, one paragraph each: for a message whose language is not known yet."""
    return "\n\n".join(variants[code] for code in languages)


def missing(variants: Any) -> list[str]:
    """The languages `variants` has no (non-empty) text for: all of them when it is not a mapping at all."""
    if not isinstance(variants, Mapping):
        return list(LANGUAGES)
    return [code for code in LANGUAGES if not str(variants.get(code) or "").strip()]


def incomplete(entries: Mapping[str, Any], where: str) -> list[str]:
    """One problem per entry of `entries` (name → variants) that lacks a language, said with `where` it is."""
    return [f"{where}.{name} has no text for {', '.join(gaps)}"
            for name, variants in entries.items() if (gaps := missing(variants))]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the question bank is about 1 MB


def read(path: Path) -> Mapping[str, Any]:
    """A text file's data, read now: for loaders that keep their own parsed, checked form (an empty file is an
    empty mapping; yaml.YAMLError for broken YAML; ValueError for anything but a mapping)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{path} must hold a mapping")
    return data


def require_complete(sections: Mapping[str, Mapping[str, Any]], where: str = "") -> None:
    """ValueError naming every text of `sections` (section name → entries) that lacks a language: a loader calls it
    at start-up, so a missing translation stops the process rather than a user's reply."""
    problems = [problem for section, entries in sections.items() for problem in incomplete(entries, section)]
    if problems:
        raise ValueError((f"{where}: " if where else "") + "; ".join(problems))


@functools.lru_cache(maxsize=None)
def load(path: Path) -> Mapping[str, Any]:
    """A text file's data, read once per process (the files change only with a deployment)."""
    return read(path)
