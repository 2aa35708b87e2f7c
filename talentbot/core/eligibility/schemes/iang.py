"""Immigration Arrangements for Non-local Graduates (IANG): recent (within 6 months) or returning graduates."""

from __future__ import annotations

from talentbot.core.eligibility.profile import Profile, degree_rank
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult, Status
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    add_months,
    failed,
    long_date,
    nationality_check,
    passed,
    unknown,
)

SCHEME = "IANG"


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """IANG for a person with a full-time Hong Kong (or GBA campus) degree of undergraduate level or higher."""
    version = ctx.book.version(SCHEME, ctx.day)
    assert version is not None
    rules = ctx.book.rules
    assessment = Assessment(SCHEME, sources=[ctx.book.scheme(SCHEME)["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, assessment)
    degree = profile.hk_degree
    if profile.has_hk_degree is False:
        assessment.add(failed(Reason("iang_no_hk_degree", "IANG is for non-local graduates of full-time degree "
                                     "programmes in Hong Kong or at a Hong Kong university's Greater Bay Area "
                                     "campus.")))
        return assessment.result("eligible")
    if degree is None:
        assessment.add(unknown(Reason("iang_hk_degree_missing", "IANG is for graduates of Hong Kong degree "
                                      "programmes; not given whether you have one."), "hk_degree"))
        return assessment.result("eligible")
    if degree.level is None:
        assessment.add(unknown(Reason("iang_level_missing", "Level of the Hong Kong degree not given."),
                               "hk_degree.level"))
    elif degree_rank(degree.level) < degree_rank("bachelor"):
        assessment.add(failed(Reason("iang_level_below", "IANG needs an undergraduate or higher qualification.")))
    restricted = profile.nationality in rules["iang_restricted_nationalities"]["nationalities"]
    gba_allowed = bool(version["gba_campus_graduates"])
    if degree.campus is None:
        if restricted or not gba_allowed:
            assessment.add(unknown(Reason("iang_campus_missing", "Whether the degree is from a Hong Kong campus or "
                                          "a Greater Bay Area campus matters here; not given."), "hk_degree.campus"))
    elif degree.campus == "gba" and not gba_allowed:
        assessment.add(failed(Reason("iang_gba_not_yet", "GBA campus graduates can use IANG only from 28 December "
                                     "2022.")))
    elif degree.campus == "gba":
        assessment.add(passed(Reason("iang_gba_pass", "GBA campus graduates are covered (pilot since 28 December "
                                     "2022).")))
    best: Status = "eligible"
    if restricted and degree.campus == "hong_kong":
        best = "likely"
        assessment.notes.append(Reason("iang_restricted_nationality", f"For nationals of {profile.nationality}, "
                                       f"IANG covers only full-time programmes of UGC-funded universities (not "
                                       f"self-financing, continuing-education or exchange programmes).",
                                       nationality=profile.nationality))
    stay = version["first_stay_months"]
    window = version["recent_graduate_window_months"]
    grad = degree.graduation_date
    offer = profile.has_job_offer
    if grad is None:
        if offer:
            assessment.add(passed(Reason("iang_offer_any_time", "With a job offer at degree level and market pay, "
                                         f"IANG does not depend on when you graduated (first stay {stay} months).",
                                         months=stay)))
            return assessment.result("likely")
        assessment.add(unknown(Reason("iang_graduation_missing", f"Without a job offer, IANG needs an application "
                                      f"within {window} months of graduation; graduation date not given.",
                                      window=window), "hk_degree.graduation_date"))
        return assessment.result(best)
    if grad > ctx.day:
        assessment.add(failed(Reason("iang_not_graduated", "The graduation date is after the day checked; IANG is "
                                     "for graduates.")))
        return assessment.result(best)
    deadline = add_months(grad, window)
    if ctx.day <= deadline:
        assessment.add(passed(Reason("iang_recent_pass", f"Recent graduate: applying by {long_date(deadline)}, "
                                     f"within {window} months of graduation, needs no job offer (first stay {stay} "
                                     f"months).", deadline=deadline, window=window, months=stay)))
        return assessment.result(best)
    if offer is False:
        assessment.add(failed(Reason("iang_returning_no_offer", f"More than {window} months after graduation "
                                     f"(after {long_date(deadline)}), IANG needs a job offer in Hong Kong.",
                                     window=window, deadline=deadline)))
    elif offer is None:
        assessment.add(unknown(Reason("iang_returning_offer_missing", f"More than {window} months after "
                                      f"graduation, IANG needs a job offer; not given.", window=window), "job_offer"))
    else:
        assessment.add(passed(Reason("iang_returning_pass", f"Returning graduate with a job offer; the job must be "
                                     f"at a level taken up by degree holders, at market pay (first stay {stay} "
                                     f"months).", months=stay)))
    return assessment.result("likely")
