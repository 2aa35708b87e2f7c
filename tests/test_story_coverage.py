"""The conversation test stories cover every intent of the spec in every language."""

from __future__ import annotations

import re
from typing import Optional, Set, Tuple

import yaml

from talentbot.core import paths
from talentbot.core.language import detect
from talentbot.core.spec import INTENTS, LANGUAGES

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))")


def covered() -> Set[Tuple[str, Optional[str]]]:
    pairs: Set[Tuple[str, Optional[str]]] = set()
    for file in sorted(paths.TEST_STORIES.glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for story in data.get("stories") or []:
            language = None  # script-neutral Chinese (不用了) keeps the story's script, as it does at run time
            for step in story.get("steps") or []:
                if "user" in step and "intent" in step:
                    text = _ANNOTATION.sub(r"\1", step["user"]).strip()
                    language = detect(text, current=language).language or language
                    pairs.add((step["intent"], language))
    return pairs


def test_every_intent_is_tested_in_every_language() -> None:
    missing = sorted((intent, language) for intent in INTENTS for language in LANGUAGES)
    missing = [pair for pair in missing if pair not in covered()]
    assert missing == []
