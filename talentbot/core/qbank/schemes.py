"""Scheme names cut out of questions before ranking: the scheme is matched on its own (`choose.scheme_fit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from talentbot.core.gazetteer import Gazetteer
from talentbot.core.qbank.text import Masker

SCHEME_ENTITY = "scheme"
#: Longest text ranked: real questions are a few hundred characters; a pasted essay must not cost seconds.
MAX_RANKED_CHARS = 2000


def masker(gazetteer: Gazetteer) -> Masker:
    """A Masker blanking every scheme name the gazetteer knows (other names, e.g. topics, stay: they carry meaning)."""

    def mask(text: str) -> tuple[str, tuple[str, ...]]:
        text = text[:MAX_RANKED_CHARS]
        schemes: list[str] = []
        pieces: list[str] = []
        last = 0
        for match in gazetteer.find(text):
            if match.entity != SCHEME_ENTITY:
                continue
            pieces.append(text[last:match.start])
            pieces.append(" ")
            last = match.end
            if match.value not in schemes:
                schemes.append(match.value)
        pieces.append(text[last:])
        return "".join(pieces), tuple(schemes)

    return mask


def gazetteer_from_lookup(path: Path) -> Gazetteer:
    """The scheme names of a Rasa NLU lookup file (lookup table + synonyms), for use outside a trained model."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    synonyms: dict[str, str] = {}
    surfaces: list[str] = []
    for block in data.get("nlu") or []:
        items = _items(block.get("examples") or "")
        if block.get("lookup") == SCHEME_ENTITY:
            surfaces.extend(items)
        elif "synonym" in block:
            synonyms.update({item.casefold(): str(block["synonym"]) for item in items})
    values = set(synonyms.values())
    entries = {}
    for surface in surfaces:
        value = synonyms.get(surface.casefold(), surface)
        if value in values or surface in values:
            entries[(SCHEME_ENTITY, surface)] = value
    return Gazetteer(entries)


def _items(examples: str) -> Iterable[str]:
    for line in examples.splitlines():
        line = line.strip()
        if line.startswith("- "):
            yield line[2:].strip()
