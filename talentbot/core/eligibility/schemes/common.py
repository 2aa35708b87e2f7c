"""What every scheme assessment shares: the evaluation context, checks and how they combine into a result."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Literal

from talentbot.core.eligibility.profile import Profile, degree_rank
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult, Status, dedupe
from talentbot.core.eligibility.ruledata import RuleBook
from talentbot.core.eligibility.universities import UniversityMatcher

FIELD_PRIORITY: tuple[str, ...] = (
    "annual_income_hkd", "degree", "university", "graduation_date", "work_experience_years",
    "mainland_chinese_resident", "job_offer", "job_offer.technology_area", "hk_degree", "hk_degree.level",
    "hk_degree.campus", "hk_degree.graduation_date", "age", "nationality",
)
"""Most decisive first: a single answer to an early field settles more outcomes (income alone can make
TTPS A eligible; the Mainland question splits GEP from ASMTP)."""


@dataclass(frozen=True)
class Context:
    """What an assessment needs besides the profile: the rule data, the matcher and the day."""

    book: RuleBook
    matcher: UniversityMatcher
    day: dt.date


@dataclass(frozen=True)
class Check:
    """The outcome of one criterion."""

    outcome: Literal["pass", "fail", "unknown"]
    reason: str | None = None
    missing: tuple[str, ...] = ()


def passed(reason: str | None = None) -> Check:
    return Check("pass", reason)


def failed(reason: str) -> Check:
    return Check("fail", reason)


def unknown(reason: str, *fields: str) -> Check:
    return Check("unknown", reason, tuple(fields))


@dataclass
class Assessment:
    """Collects checks for one scheme and turns them into a SchemeResult."""

    scheme: str
    sources: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # caveats shown when the outcome is positive

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def result(self, best: Status, category: str | None = None) -> SchemeResult:
        """not_eligible if any check failed, else unknown if any is open, else `best` (eligible or likely)."""
        fails = [c for c in self.checks if c.outcome == "fail"]
        if fails:
            return SchemeResult(self.scheme, "not_eligible", dedupe(c.reason for c in fails if c.reason),
                                sources=dedupe(self.sources))
        opens = [c for c in self.checks if c.outcome == "unknown"]
        if opens:
            missing = order_fields(f for c in opens for f in c.missing)
            return SchemeResult(self.scheme, "unknown", dedupe(c.reason for c in opens if c.reason),
                                missing=missing, sources=dedupe(self.sources))
        reasons = [c.reason for c in self.checks if c.reason] + self.notes
        return SchemeResult(self.scheme, best, dedupe(reasons), sources=dedupe(self.sources), category=category)


def order_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """Distinct field names, most decisive first (FIELD_PRIORITY), unknown names last."""
    unique = dedupe(fields)
    rank = {name: i for i, name in enumerate(FIELD_PRIORITY)}
    return tuple(sorted(unique, key=lambda f: rank.get(f, len(rank))))


def nationality_check(scheme: str, profile: Profile, ctx: Context, assessment: Assessment) -> None:
    """Fail the scheme for nationals it does not apply to on that day."""
    exclusion = ctx.book.exclusion(scheme, profile.nationality, ctx.day)
    if exclusion is None:
        return
    assessment.sources.extend(exclusion.sources)
    if exclusion.verified:
        assessment.add(failed(Reason("nationality_excluded", scheme=scheme, nationality=exclusion.nationality)))
    else:  # the older list: when it was lifted is not confirmed, so the reason says to check
        assessment.add(failed(Reason("nationality_excluded_unverified", scheme=scheme,
                                     nationality=exclusion.nationality)))


def degree_check(scheme: str, profile: Profile) -> Check:
    """A first (bachelor's) degree, which GEP, ASMTP and QMAS normally require; unknown when not given."""
    if profile.degree is None:
        return unknown(Reason("degree_missing", scheme=scheme), "degree")
    if degree_rank(profile.degree) < degree_rank("bachelor"):
        return failed(Reason("degree_below_bachelor", scheme=scheme))
    return passed()


def mainland_resident(profile: Profile) -> bool | None:
    """Whether the person is a Chinese resident of the Mainland: stated, or implied by a non-CN nationality."""
    if profile.mainland_chinese_resident is not None:
        return profile.mainland_chinese_resident
    if profile.nationality is not None and profile.nationality != "CN":
        return False
    return None


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end (30 Nov + 6 months = 30 May; 31 Aug + 6 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
