"""Top Talent Pass Scheme (高才通): categories A (income), B (eligible degree + 3 years' work), C (recent graduate)."""

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
    hkd,
    long_date,
    nationality_check,
    order_fields,
    passed,
    unknown,
)
from talentbot.core.eligibility.universities import MatchStatus, list_version_id

SCHEME = "TTPS"


def first_stay_months(book: RuleBook, category: str, day: dt.date) -> int | None:
    """Initial stay granted to a category on `day` (A: 24 months from 28 Dec 2022, 36 from 1 Nov 2024)."""
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
        return SchemeResult(SCHEME, "not_eligible",
                            (Reason("ttps_not_yet_open", f"TTPS did not exist before {long_date(start)}; it opened on "
                                    f"that day.", start=start),),
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
            reasons.append(Reason("ttps_mainland_consent", "Mainland residents must also submit a letter of consent "
                                  "from their work unit or the relevant Mainland authorities."))
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
        check.add(unknown(Reason("ttps_a_income_missing", f"Category A needs annual income of at least "
                                 f"{hkd(threshold)} in the year before applying; income not given.",
                                 threshold_hkd=threshold), "annual_income_hkd"))
    elif income >= threshold:
        check.add(passed(Reason("ttps_a_income_pass", f"Category A: annual income of {hkd(income)} reaches the "
                                f"{hkd(threshold)} threshold (first stay {stay} months).",
                                income_hkd=income, threshold_hkd=threshold, months=stay)))
    else:
        check.add(failed(Reason("ttps_a_income_below", f"Category A: annual income of {hkd(income)} is below the "
                                f"{hkd(threshold)} threshold.", income_hkd=income, threshold_hkd=threshold)))
    return check.result("eligible", "A")


def _categories_b_c(
    profile: Profile, version: Mapping[str, Any], ctx: Context, static: Mapping[str, Any]
) -> tuple[SchemeResult, str | None]:
    """Categories B and C share the degree test; the years of experience and graduation decide which."""
    official = static["official_university_list"]
    check = Assessment(SCHEME, sources=[official])
    if profile.degree is None:
        check.add(unknown(Reason("ttps_bc_degree_missing", "Categories B and C need a bachelor's degree or higher; "
                                 "degree not given."), "degree"))
    elif degree_rank(profile.degree) < degree_rank("bachelor"):
        check.add(failed(Reason("ttps_bc_degree_below", "Categories B and C need a bachelor's degree or higher "
                                "from an eligible university.")))
    university_ok = _university_check(profile, ctx, check, official)
    if any(c.outcome == "fail" for c in check.checks) or profile.degree is None or not university_ok:
        return check.result("eligible"), None

    min_years = version["category_b_min_experience_years"]
    window = version["graduation_window_years"]
    grad = profile.graduation_date
    if grad is not None and grad > ctx.day:
        check.add(failed(Reason("ttps_bc_not_graduated", "Categories B and C need the degree to have been "
                                "awarded already.")))
        return check.result("eligible"), None
    experience = profile.work_experience_years
    if experience is None:
        fields = ["work_experience_years"] + (["graduation_date"] if grad is None else [])
        check.add(unknown(Reason("ttps_bc_experience_missing", "Years of work experience decide between "
                                 "Category B (3 or more) and C."), *fields))
        return check.result("eligible"), None
    since_grad = None if grad is None else (ctx.day - grad).days / 365.25
    counted = experience if since_grad is None else min(experience, since_grad)
    if counted >= min_years:
        note = "" if grad is not None else ", assuming it was gained after graduation"
        check.add(passed(Reason("ttps_b_pass", f"Category B: eligible-university degree and {counted:g} years of "
                                f"work experience, at least {min_years} in the past five years{note} (first stay "
                                f"{version['first_stay_months']['B']} months).", years=counted,
                                min_years=min_years, months=version["first_stay_months"]["B"])))
        return check.result("eligible", "B"), "B"
    if counted < experience:
        check.notes.append(Reason("ttps_work_after_graduation", "Only work after graduation counts."))
    if grad is None:
        check.add(unknown(Reason("ttps_c_graduation_missing", f"Category C needs graduation within the past "
                                 f"{window} years; graduation date not given.", window=window), "graduation_date"))
        return check.result("eligible"), None
    first_year = ctx.day.year - window
    if grad.year < first_year:
        check.add(failed(Reason("ttps_bc_fail", f"Category B needs {min_years} years of work experience and "
                                f"Category C graduation in {first_year} or later; graduated in {grad.year} with "
                                f"{counted:g} years.", min_years=min_years, first_year=first_year,
                                year=grad.year, years=counted)))
        return check.result("eligible"), None
    hk = profile.hk_degree
    if hk is not None and hk.level == "bachelor" and hk.campus == "hong_kong":
        check.add(failed(Reason("ttps_c_hk_bachelor", "Category C does not apply to non-local students with a "
                                "full-time Hong Kong bachelor's degree; IANG is the route for them.")))
        return check.result("eligible"), None
    quota = version["category_c_annual_quota"]
    quota_text = f"{quota:,}" + ("" if version["category_c_quota_verified"] else ", current figure UNVERIFIED")
    check.add(passed(Reason("ttps_c_pass", f"Category C: eligible-university graduate of {grad.year} with under "
                            f"{min_years} years of work experience; subject to the annual quota ({quota_text}), "
                            f"first come first served (first stay {version['first_stay_months']['C']} months).",
                            year=grad.year, min_years=min_years, quota=quota,
                            months=version["first_stay_months"]["C"])))
    if grad.year == first_year:
        check.notes.append(Reason("ttps_c_window_edge", f"Graduation in {grad.year} is at the edge of the "
                                  f"five-year window, which ImmD counts by year of graduation; confirm with the "
                                  f"Immigration Department.", year=grad.year))
    return check.result("likely", "C"), "C"


def _university_check(profile: Profile, ctx: Context, check: Assessment, official: str) -> bool:
    """Adds the university check; True when the university is confirmed on the list in force."""
    if profile.university is None:
        if profile.degree is None or degree_rank(profile.degree) >= degree_rank("bachelor"):
            check.add(unknown(Reason("ttps_university_missing", "Categories B and C need a degree from an eligible "
                                     "university; university not given."), "university"))
        return False
    match = ctx.matcher.match(profile.university)
    version_id = list_version_id(ctx.book, ctx.day)
    if match.status is MatchStatus.AMBIGUOUS:
        names = ", ".join(u.name() for u in match.candidates)
        check.add(unknown(Reason("ttps_university_ambiguous", f"'{profile.university}' could be one of several "
                                 f"universities on our list ({names}); which one?", university=profile.university),
                          "university"))
        return False
    if match.status is MatchStatus.NOT_FOUND or version_id is None:
        check.add(unknown(Reason("ttps_university_not_found", f"We could not find '{profile.university}' in our "
                                 f"copy of the eligible-university list, which is partial; check the official "
                                 f"list: {official}", university=profile.university, url=official), "university"))
        return False
    university = match.university
    assert university is not None
    check.sources.append(university.source)
    on_list = university.on_list(version_id)
    if on_list is True:
        check.add(passed(Reason("ttps_university_on_list", f"{university.name()} is on the eligible-university "
                                f"list in force from {version_id}.", university_id=university.id,
                                list_version=version_id)))
        return True
    if on_list is False:
        if university.removed is not None and version_id >= university.removed:
            check.add(failed(Reason("ttps_university_removed", f"{university.name()} was removed from the "
                                    f"eligible-university list on {university.removed}.",
                                    university_id=university.id, list_version=university.removed)))
        else:
            check.add(failed(Reason("ttps_university_added_later", f"{university.name()} joined the "
                                    f"eligible-university list only on {university.added}.",
                                    university_id=university.id, list_version=university.added)))
        return False
    check.add(unknown(Reason("ttps_university_undetermined", f"Our partial copy cannot tell whether "
                             f"{university.name()} was on the list in force from {version_id}; check the official "
                             f"list: {official}", university_id=university.id, list_version=version_id,
                             url=official), "university"))
    return False
