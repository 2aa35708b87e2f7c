"""The eligibility result of interfaces §3: one SchemeResult per scheme, wrapped in an Evaluation."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Iterable, Literal, TypedDict

from talentbot.core.spec import SCHEMES as SCHEMES  # every result lists the schemes in this order (interfaces §3)

Status = Literal["eligible", "likely", "not_eligible", "unknown"]

STATUS_RANK: dict[str, int] = {"eligible": 3, "likely": 2, "unknown": 1, "not_eligible": 0}
"""Better outcomes rank higher: used to pick a TTPS category and to order a reply."""


class SchemeResultJSON(TypedDict):
    """Wire format of one scheme's result (interfaces §3)."""

    scheme: str
    category: str | None  # TTPS only: A, B or C when eligible or likely
    status: str
    reasons: list[str]  # short English sentences
    missing: list[str]  # profile fields still needed, most decisive first
    sources: list[str]  # official URLs behind the reasons


class EvaluationJSON(TypedDict):
    """Wire format of the whole result (interfaces §3)."""

    as_of: str
    rules_version: str
    results: list[SchemeResultJSON]


@dataclass(frozen=True)
class SchemeResult:
    """The outcome for one scheme; `missing` is non-empty only when status is unknown."""

    scheme: str
    status: Status
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    category: str | None = None

    @property
    def settled(self) -> bool:
        """Whether more information could still change this outcome."""
        return self.status != "unknown"

    def to_json(self) -> SchemeResultJSON:
        """The dict of interfaces §3, keys in its order."""
        return {
            "scheme": self.scheme,
            "category": self.category,
            "status": self.status,
            "reasons": list(self.reasons),
            "missing": list(self.missing),
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Evaluation:
    """Every scheme's result for one profile on one day, with the data version that produced it."""

    as_of: dt.date
    rules_version: str
    results: tuple[SchemeResult, ...] = field(default_factory=tuple)

    def get(self, scheme: str) -> SchemeResult:
        """The result for one scheme; KeyError if it was not evaluated."""
        for result in self.results:
            if result.scheme == scheme:
                return result
        raise KeyError(scheme)

    def fitting(self) -> list[SchemeResult]:
        """Schemes that fit (eligible first, then likely), for a reply that names them first."""
        good = [r for r in self.results if r.status in ("eligible", "likely")]
        return sorted(good, key=lambda r: -STATUS_RANK[r.status])

    def to_json(self) -> EvaluationJSON:
        """The dict of interfaces §3."""
        return {
            "as_of": self.as_of.isoformat(),
            "rules_version": self.rules_version,
            "results": [r.to_json() for r in self.results],
        }

    def to_json_text(self) -> str:
        """The JSON text printed by `talentbot eligibility`."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Keep the first occurrence of each string, in order (reasons, sources and missing fields)."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)
