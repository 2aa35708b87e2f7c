"""Reads the YAML files of bot/questions/ into a Bank, refusing incomplete entries (every problem listed)."""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from talentbot.core import i18n
from talentbot.core.content.loader import _WRAP_SPACE
from talentbot.core.qbank.model import Bank, Change, QuestionEntry

#: Environment variable naming another bank folder (an editor's draft); default DEFAULT_DIR.
BANK_DIR_ENV = "TALENTBOT_QUESTIONS_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "bot" / "questions"


class BankError(ValueError):
    """The bank's files are unreadable or break a rule; `problems` lists every one."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid question bank:\n- " + "\n- ".join(self.problems))


def bank_dir() -> Path:
    return Path(os.environ.get(BANK_DIR_ENV) or DEFAULT_DIR)


def read_bank(directory: Path | None = None) -> tuple[Bank, list[str]]:
    """The entries that could be read, and the problems of those that could not (no validation rules yet)."""
    folder = Path(directory) if directory is not None else bank_dir()
    problems: list[str] = []
    entries: list[QuestionEntry] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            data = i18n.read(path)
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: not valid YAML: {error}")
            continue
        except ValueError:
            problems.append(f"{path.name}: expected a mapping with a list of `entries`")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            problems.append(f"{path.name}: expected a mapping with a list of `entries`")
            continue
        for raw in data["entries"]:
            try:
                entries.append(parse_entry(raw, path.name))
            except (KeyError, TypeError, ValueError) as error:
                name = raw.get("id", "?") if isinstance(raw, dict) else "?"
                problems.append(f"{path.name}: {name}: missing or malformed field {error}")
    return Bank(tuple(entries)), problems


@lru_cache(maxsize=4)
def load_bank(directory: Path | None = None, check_clashes: bool = False) -> Bank:
    """Loads and validates the bank once per process; BankError lists every problem. Servers skip the slow
    clash check by default: `talentbot validate` (part of `make test`) runs it."""
    from talentbot.core.qbank.validate import validate

    bank, problems = read_bank(directory)
    problems += validate(bank, check_clashes=check_clashes)
    if problems:
        raise BankError(problems)
    return bank


def parse_entry(raw: Mapping[str, Any], file: str = "") -> QuestionEntry:
    if not isinstance(raw, Mapping):
        raise TypeError(f"an entry is not a mapping: {raw!r}")
    return QuestionEntry(
        id=str(raw["id"]),
        intent=str(raw["intent"]),
        questions=_questions(raw["questions"]),
        answer=_texts(raw["answer"]),
        source=_strings(raw.get("source")),
        as_of=_date(raw["as_of"]),
        schemes=_strings(raw.get("schemes")),
        topic=str(raw["topic"]) if raw.get("topic") else None,
        more=_texts(raw["more"]) if raw.get("more") else None,
        unverified=_strings(raw.get("unverified")),
        related=_strings(raw.get("related")),
        changed=tuple(_change(c) for c in raw.get("changed") or ()),
        file=file,
    )


def _change(raw: Any) -> Change:
    if not isinstance(raw, Mapping):
        raise TypeError(f"changed: expected a mapping with date, source and a note per language, got {raw!r}")
    return Change(date=_date(raw["date"]), note=_texts({k: v for k, v in raw.items() if k not in ("date", "source")}),
                  source=str(raw.get("source") or ""))


def _questions(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise TypeError("questions: expected lists by language")
    return {str(lang): tuple(" ".join(str(q).split()) for q in qs or () if str(q).strip())
            for lang, qs in value.items()}


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected texts by language, got {value!r}")
    return {str(k): _WRAP_SPACE.sub("", str(v).strip()) for k, v in value.items() if v is not None}


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
