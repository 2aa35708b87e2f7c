"""Loads the rule data (data/*.yml) and picks the version in force on a given day."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

DATA_DIR = Path(__file__).with_name("data")
RULE_FILES: tuple[str, ...] = ("rules.yml", "universities.yml", "currency.yml")
"""Every data file that changes an outcome; their content hash is part of `rules_version`."""


def to_date(value: Any) -> dt.date | None:
    """YAML dates arrive as str (quoted) or date (bare); None stays None."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def required_date(value: Any, what: str) -> dt.date:
    """`to_date` of a date the data must give: ValueError naming `what` when it is null."""
    day = to_date(value)
    if day is None:
        raise ValueError(f"{what} is null; a date is required")
    return day


def in_force(item: Mapping[str, Any], day: dt.date) -> bool:
    """Whether a dated item applies on `day`: effective_from inclusive, effective_to exclusive."""
    start, end = to_date(item.get("effective_from")), to_date(item.get("effective_to"))
    return (start is None or start <= day) and (end is None or day < end)


@dataclass(frozen=True)
class Exclusion:
    """A nationality to whom a scheme does not apply on that day."""

    nationality: str
    verified: bool
    effective_to: dt.date | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RuleBook:
    """The parsed rule data, with lookups by scheme and day."""

    rules: Mapping[str, Any]
    universities: Mapping[str, Any]
    currency: Mapping[str, Any]
    content_hash: str

    def scheme(self, name: str) -> Mapping[str, Any]:
        """The scheme's static entry (page URL, lists that do not change by version)."""
        entry: Mapping[str, Any] = self.rules["schemes"][name]
        return entry

    def version(self, name: str, day: dt.date) -> Mapping[str, Any] | None:
        """The scheme's rule version in force on `day`, or None if the scheme did not exist then."""
        versions: list[Mapping[str, Any]] = self.scheme(name)["versions"]
        for version in versions:
            if in_force(version, day):
                return version
        return None

    def start_date(self, name: str) -> dt.date | None:
        """The first day we model for the scheme (None: open-ended)."""
        return to_date(self.scheme(name)["versions"][0].get("effective_from"))

    def exclusion(self, scheme: str, nationality: str | None, day: dt.date) -> Exclusion | None:
        """The nationality exclusion hitting this person on `day`, if any."""
        if nationality is None:
            return None
        for item in self.rules["nationality_exclusions"]:
            if scheme in item["schemes"] and nationality in item["nationalities"] and in_force(item, day):
                return Exclusion(
                    nationality=nationality,
                    verified=bool(item.get("verified", False)),
                    effective_to=to_date(item.get("effective_to")),
                    sources=tuple(item.get("sources", ())),
                )
        return None

    def university_list_version(self, day: dt.date) -> Mapping[str, Any] | None:
        """The TTPS university list version in force on `day` (None before the first list)."""
        current = None
        for version in self.universities["list_versions"]:
            if required_date(version["effective_from"], "a university list version's effective_from") <= day:
                current = version
        return current

    def rules_version(self, day: dt.date) -> str:
        """Identifies the data behind a result: content hash plus the university list version in force."""
        lst = self.university_list_version(day)
        return f"data-{self.content_hash}+universities-{lst['id'] if lst else 'none'}"


@functools.lru_cache(maxsize=1)
def load_rulebook() -> RuleBook:
    """Read and cache the data files once per process (evaluation must stay well under 1 ms)."""
    texts = {name: (DATA_DIR / name).read_bytes() for name in RULE_FILES}
    digest = hashlib.sha256(b"".join(texts[name] for name in RULE_FILES)).hexdigest()[:12]
    return RuleBook(
        rules=yaml.safe_load(texts["rules.yml"]),
        universities=yaml.safe_load(texts["universities.yml"]),
        currency=yaml.safe_load(texts["currency.yml"]),
        content_hash=digest,
    )
