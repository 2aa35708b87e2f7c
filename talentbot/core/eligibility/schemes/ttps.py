"""Top Talent Pass Scheme (高才通): categories A (income), B (eligible degree + years of work), C (recent graduate).

Every figure (income threshold, years, stays, quota) comes from data/rules.yml; the wording of the reasons from the
templates of bot/forms/eligibility.yml."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from talentbot.core.eligibility.profile import Profile, degree_rank
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import STATUS_RANK, SchemeResult, dedupe
from talentbot.core.eligibility.ruledata import RuleBook
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    failed,
    nationality_check,
    order_fields,
    passed,
    unknown,
)
from talentbot.core.eligibility.universities import MatchStatus, list_version_id

SCHEME = "TTPS"


def first_stay_months(book: RuleBook, category: str, day: dt.date) -> int | None:
    """Initial stay in months granted to a category on `day` (None before TTPS existed)."""
    version = book.version(SCHEME, day)
    return None if version is None else int(version["first_stay_months"][category])


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """The TTPS result: the best category, or why none fits, or what is still needed."""
    static = ctx.book.scheme(SCHEME)
    version = ctx.book.version(SCHEME, ctx.day)
    if version is None:
        start = ctx.book.start_date(SCHEME)
        if start is None:  # an open-ended first version leaves no earlier day without one
            raise ValueError(f"{SCHEME} has no rule version in force on {ctx.day}: the versions leave a gap")
        return SchemeResult(SCHEME, "not_eligible", (Reason("ttps_not_yet_open", start=start),),
                            sources=(static["page"],))
    gate = Assessment(SCHEME, sources=[static["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, gate)
    if any(c.outcome == "fail" for c in gate.checks):
        return gate.result("eligible")

    a = _category_a(profile, version, ctx)
    bc, bc_category = _categories_b_c(profile, version, ctx, static)
    best, category = (a, "A") if STATUS_RANK[a.status] >= STATUS_RANK[bc.status] else (bc, bc_category)
    other = bc if best is a else a
    sources = dedupe([*gate.sources, *best.sources, *other.sources])
    if best.status in ("eligible", "likely"):
        reasons = list(best.reasons)
        if profile.mainland_chinese_resident:
            reasons.append(Reason("ttps_mainland_consent"))
        return SchemeResult(SCHEME, best.status, dedupe(reasons), sources=sources, category=category)
    if best.status == "unknown":
        missing = order_fields([*a.missing, *bc.missing])
        reasons = [*best.reasons, *other.reasons]
        return SchemeResult(SCHEME, "unknown", dedupe(reasons), missing=missing, sources=sources)
    return SchemeResult(SCHEME, "not_eligible", dedupe([*a.reasons, *bc.reasons]), sources=sources)


def _category_a(profile: Profile, version: Mapping[str, Any], ctx: Context) -> SchemeResult:
    threshold = version["category_a_min_income_hkd"]
    stay = version["first_stay_months"]["A"]
    check = Assessment(SCHEME)
    income = profile.annual_income_hkd
    if income is None:
        check.add(unknown(Reason("ttps_a_income_missing", threshold_hkd=threshold), "annual_income_hkd"))
    elif income >= threshold:
        check.add(passed(Reason("ttps_a_income_pass", income_hkd=income, threshold_hkd=threshold, months=stay)))
    else:
        check.add(failed(Reason("ttps_a_income_below", income_hkd=income, threshold_hkd=threshold)))
    return check.result("eligible", "A")


def _categories_b_c(
    profile: Profile, version: Mapping[str, Any], ctx: Context, static: Mapping[str, Any]
) -> tuple[SchemeResult, str | None]:
    """Categories B and C share the degree test; the years of experience and graduation decide which."""
    official = static["official_university_list"]
    check = Assessment(SCHEME, sources=[official])
    if profile.degree is None:
        check.add(unknown(Reason("ttps_bc_degree_missing"), "degree"))
    elif degree_rank(profile.degree) < degree_rank("bachelor"):
        check.add(failed(Reason("ttps_bc_degree_below")))
    university_ok = _university_check(profile, ctx, check, official)
    if any(c.outcome == "fail" for c in check.checks) or profile.degree is None or not university_ok:
        return check.result("eligible"), None

    min_years = version["category_b_min_experience_years"]
    experience_window = version["category_b_experience_window_years"]
    window = version["graduation_window_years"]
    grad = profile.graduation_date
    if grad is not None and grad > ctx.day:
        check.add(failed(Reason("ttps_bc_not_graduated")))
        return check.result("eligible"), None
    experience = profile.work_experience_years
    if experience is None:
        fields = ["work_experience_years"] + (["graduation_date"] if grad is None else [])
        check.add(unknown(Reason("ttps_bc_experience_missing", min_years=min_years), *fields))
        return check.result("eligible"), None
    since_grad = None if grad is None else (ctx.day - grad).days / 365.25
    counted = experience if since_grad is None else min(experience, since_grad)
    if counted >= min_years:
        b = {"years": counted, "min_years": min_years, "window": experience_window,
             "months": version["first_stay_months"]["B"]}
        # without a graduation date the years cannot be capped at the time since graduation: say so
        check.add(passed(Reason("ttps_b_pass", **b) if grad is not None
                         else Reason("ttps_b_pass_assumed_after_graduation", **b)))
        return check.result("eligible", "B"), "B"
    if counted < experience:
        check.notes.append(Reason("ttps_work_after_graduation"))
    if grad is None:
        check.add(unknown(Reason("ttps_c_graduation_missing", window=window), "graduation_date"))
        return check.result("eligible"), None
    first_year = ctx.day.year - window
    if grad.year < first_year:
        check.add(failed(Reason("ttps_bc_fail", min_years=min_years, first_year=first_year, year=grad.year,
                                years=counted)))
        return check.result("eligible"), None
    hk = profile.hk_degree
    if hk is not None and hk.level == "bachelor" and hk.campus == "hong_kong":
        check.add(failed(Reason("ttps_c_hk_bachelor")))
        return check.result("eligible"), None
    c = {"year": grad.year, "min_years": min_years, "quota": version["category_c_annual_quota"],
         "months": version["first_stay_months"]["C"]}
    check.add(passed(Reason("ttps_c_pass", **c) if version["category_c_quota_verified"]
                     else Reason("ttps_c_pass_quota_unverified", **c)))
    if grad.year == first_year:
        check.notes.append(Reason("ttps_c_window_edge", year=grad.year, window=window))
    return check.result("likely", "C"), "C"


def _university_check(profile: Profile, ctx: Context, check: Assessment, official: str) -> bool:
    """Adds the university check; True when the university is confirmed on the list in force."""
    if profile.university is None:
        if profile.degree is None or degree_rank(profile.degree) >= degree_rank("bachelor"):
            check.add(unknown(Reason("ttps_university_missing"), "university"))
        return False
    match = ctx.matcher.match(profile.university)
    version_id = list_version_id(ctx.book, ctx.day)
    if match.status is MatchStatus.AMBIGUOUS:
        check.add(unknown(Reason("ttps_university_ambiguous", university=profile.university,
                                 candidates=tuple(u.id for u in match.candidates)), "university"))
        return False
    if match.status is MatchStatus.NOT_FOUND or version_id is None:
        check.add(unknown(Reason("ttps_university_not_found", university=profile.university, url=official),
                          "university"))
        return False
    university = match.university
    assert university is not None
    check.sources.append(university.source)
    on_list = university.on_list(version_id)
    if on_list is True:
        check.add(passed(Reason("ttps_university_on_list", university_id=university.id, list_version=version_id)))
        return True
    if on_list is False:
        if university.removed is not None and version_id >= university.removed:
            check.add(failed(Reason("ttps_university_removed", university_id=university.id,
                                    list_version=university.removed)))
        else:
            check.add(failed(Reason("ttps_university_added_later", university_id=university.id,
                                    list_version=university.added)))
        return False
    check.add(unknown(Reason("ttps_university_undetermined", university_id=university.id, list_version=version_id,
                             url=official), "university"))
    return False
