"""Immigration Arrangements for Non-local Graduates (IANG): recent graduates (no job offer needed)
or returning graduates with a job offer; the window and the stays are in data/rules.yml."""

from __future__ import annotations

import datetime as dt

from talentbot.core.eligibility.profile import Profile, degree_rank
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult, Status
from talentbot.core.eligibility.ruledata import RuleBook, required_date
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    add_months,
    failed,
    nationality_check,
    passed,
    unknown,
)

SCHEME = "IANG"


def gba_campus_graduates_since(book: RuleBook) -> dt.date:
    """The first day graduates of Greater Bay Area campuses could use IANG: the first version admitting them."""
    for version in book.scheme(SCHEME)["versions"]:
        if version["gba_campus_graduates"]:
            return required_date(version["effective_from"], "effective_from of the first IANG version with GBA")
    raise ValueError("no IANG rule version admits Greater Bay Area campus graduates")


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """IANG for a person with a full-time Hong Kong (or GBA campus) degree of undergraduate level or higher."""
    version = ctx.book.version(SCHEME, ctx.day)
    assert version is not None
    rules = ctx.book.rules
    assessment = Assessment(SCHEME, sources=[ctx.book.scheme(SCHEME)["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, assessment)
    degree = profile.hk_degree
    if profile.has_hk_degree is False:
        assessment.add(failed(Reason("iang_no_hk_degree")))
        return assessment.result("eligible")
    if degree is None:
        assessment.add(unknown(Reason("iang_hk_degree_missing"), "hk_degree"))
        return assessment.result("eligible")
    if degree.level is None:
        assessment.add(unknown(Reason("iang_level_missing"), "hk_degree.level"))
    elif degree_rank(degree.level) < degree_rank("bachelor"):
        assessment.add(failed(Reason("iang_level_below")))
    restricted = profile.nationality in rules["iang_restricted_nationalities"]["nationalities"]
    gba_allowed = bool(version["gba_campus_graduates"])
    if degree.campus is None:
        if restricted or not gba_allowed:
            assessment.add(unknown(Reason("iang_campus_missing"), "hk_degree.campus"))
    elif degree.campus == "gba" and not gba_allowed:
        assessment.add(failed(Reason("iang_gba_not_yet", since=gba_campus_graduates_since(ctx.book))))
    elif degree.campus == "gba":
        assessment.add(passed(Reason("iang_gba_pass", since=gba_campus_graduates_since(ctx.book))))
    best: Status = "eligible"
    if restricted and degree.campus == "hong_kong":
        best = "likely"
        assessment.notes.append(Reason("iang_restricted_nationality", nationality=profile.nationality))
    stay = version["first_stay_months"]
    window = version["recent_graduate_window_months"]
    grad = degree.graduation_date
    offer = profile.has_job_offer
    if grad is None:
        if offer:
            assessment.add(passed(Reason("iang_offer_any_time", months=stay)))
            return assessment.result("likely")
        assessment.add(unknown(Reason("iang_graduation_missing", window=window), "hk_degree.graduation_date"))
        return assessment.result(best)
    if grad > ctx.day:
        assessment.add(failed(Reason("iang_not_graduated")))
        return assessment.result(best)
    deadline = add_months(grad, window)
    if ctx.day <= deadline:
        assessment.add(passed(Reason("iang_recent_pass", deadline=deadline, window=window, months=stay)))
        return assessment.result(best)
    if offer is False:
        assessment.add(failed(Reason("iang_returning_no_offer", window=window, deadline=deadline)))
    elif offer is None:
        assessment.add(unknown(Reason("iang_returning_offer_missing", window=window), "job_offer"))
    else:
        assessment.add(passed(Reason("iang_returning_pass", months=stay)))
    return assessment.result("likely")
