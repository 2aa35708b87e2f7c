"""Reads the YAML content files of bot/content/ into typed entries, refusing incomplete ones."""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from talentbot.core import i18n
from talentbot.core.content.model import SCHEMES, Change, Content, Entry, Localized, Office
from talentbot.core.content.validate import validate

#: Environment variable naming another content folder (e.g. an editor's draft); default DEFAULT_DIR.
CONTENT_DIR_ENV = "TALENTBOT_CONTENT_DIR"
#: The content shipped with the repository.
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "bot" / "content"
#: The file of labels and templates shared by all subjects (not answers themselves).
PHRASES_FILE = "ui.yml"
#: A space YAML's folded style (`>-`) puts where an editor wrapped a Chinese line: between two CJK
#: characters or CJK punctuation it is dropped, so wrapped Chinese reads as written.
_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_WRAP_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


class ContentError(ValueError):
    """The content files are unreadable or break a rule; the message lists every problem found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid content:\n- " + "\n- ".join(self.problems))


def content_dir() -> Path:
    """The folder the action server reads, so an editor can point it at a draft without code."""
    return Path(os.environ.get(CONTENT_DIR_ENV) or DEFAULT_DIR)


@lru_cache(maxsize=4)
def load_content(directory: Path | None = None) -> Content:
    """Loads and validates every *.yml of `directory` once per process (cached: answers never hit disk)."""
    folder = Path(directory) if directory is not None else content_dir()
    problems: list[str] = []
    entries: list[Entry] = []
    offices: list[Office] = []
    phrases: dict[str, Localized] = {}
    cues: dict[str, tuple[str, ...]] = {}
    more_cues: dict[str, tuple[str, ...]] = {}
    scheme_menu: tuple[str, ...] = SCHEMES
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise ContentError([f"no content files in {folder}"])
    for path in files:
        try:
            data = i18n.read(path)
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: not valid YAML: {error}")
            continue
        except ValueError:
            problems.append(f"{path.name}: expected a mapping at the top level")
            continue
        if not isinstance(data, dict):
            problems.append(f"{path.name}: expected a mapping at the top level")
            continue
        if path.name == PHRASES_FILE:
            phrases.update({str(k): dict(v) for k, v in (data.get("phrases") or {}).items()})
            for language, values in (data.get("more_cues") or {}).items():
                more_cues[str(language)] = tuple(str(v) for v in values)
            scheme_menu = tuple(str(s) for s in data.get("scheme_menu") or SCHEMES)
            continue
        for raw in data.get("entries") or []:
            entries.extend(_parse(path.name, raw, _entry, problems))
        for raw in data.get("offices") or []:
            offices.extend(_parse(path.name, raw, _office, problems))
        for language, values in (data.get("overview_cues") or {}).items():
            cues[str(language)] = tuple(str(v) for v in values)
    content = Content(
        entries=tuple(entries), offices=tuple(offices), phrases=phrases, overview_cues=cues, more_cues=more_cues,
        scheme_menu=scheme_menu,
    )
    problems.extend(validate(content))
    if problems:
        raise ContentError(problems)
    return content


def _parse(file_name: str, raw: Any, build: Any, problems: list[str]) -> list[Any]:
    """One parsed record, or none with a problem naming file and key (a typo must not crash the server)."""
    if not isinstance(raw, dict):
        problems.append(f"{file_name}: an item is not a mapping: {raw!r}")
        return []
    try:
        return [build(raw)]
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"{file_name}: {raw.get('key', '?')}: missing or malformed field {error}")
        return []


def _localized(value: Any) -> Localized | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"expected texts by language, got {value!r}")
    return {str(k): _WRAP_SPACE.sub("", str(v).strip()) for k, v in value.items() if v is not None}


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _sources(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _entry(raw: Mapping[str, Any]) -> Entry:
    return Entry(
        key=str(raw["key"]),
        intent=str(raw["intent"]),
        summary=_localized(raw["summary"]) or {},
        source=_sources(raw.get("source")),
        as_of=_date(raw["as_of"]),
        scheme=raw.get("scheme"),
        topic=raw.get("topic"),
        title=_localized(raw.get("title")),
        more=_localized(raw.get("more")),
        changed=tuple(
            Change(
                date=_date(c["date"]),
                note=_localized({k: v for k, v in c.items() if k not in ("date", "source")}) or {},
                source=str(c.get("source", "")),
            )
            for c in raw.get("changed") or []
        ),
        unverified=tuple(str(u) for u in raw.get("unverified") or []),
        menu=raw.get("menu"),
    )


def _office(raw: Mapping[str, Any]) -> Office:
    return Office(
        key=str(raw["key"]),
        region=str(raw["region"]),
        name=_localized(raw["name"]) or {},
        team=str(raw["team"]),
        places=tuple(str(p) for p in raw.get("places") or []),
        source=_sources(raw.get("source")),
        as_of=_date(raw["as_of"]),
        covers=_localized(raw.get("covers")),
        website=raw.get("website"),
    )
