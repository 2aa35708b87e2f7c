"""GEP (一般就業政策, for non-Mainland residents) and ASMTP (輸入內地人才計劃, for Mainland residents)."""

from __future__ import annotations

from typing import Any, Mapping

from talentbot.core.eligibility.profile import Profile
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult
from talentbot.core.eligibility.ruledata import required_date
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    degree_check,
    failed,
    mainland_resident,
    nationality_check,
    passed,
    unknown,
)


def assess_gep(profile: Profile, ctx: Context) -> SchemeResult:
    """GEP: a confirmed job offer for a professional who is not a Chinese resident of the Mainland."""
    assessment = _start("GEP", ctx)
    resident = mainland_resident(profile)
    if resident is True:
        assessment.add(failed(Reason("gep_mainland_resident")))
    elif resident is None:
        assessment.add(unknown(Reason("gep_residence_missing"), "mainland_chinese_resident"))
    elif profile.nationality == "CN":
        overseas = ctx.book.rules["prc_passport_overseas"]
        assessment.notes.append(Reason("gep_prc_overseas", min_years=overseas["min_years"]))
    return _common("GEP", profile, ctx, assessment)


def assess_asmtp(profile: Profile, ctx: Context) -> SchemeResult:
    """ASMTP: the same criteria as GEP, for Chinese residents of the Mainland."""
    assessment = _start("ASMTP", ctx)
    resident = mainland_resident(profile)
    if resident is False:
        assessment.add(failed(Reason("asmtp_not_mainland")))
    elif resident is None:
        assessment.add(unknown(Reason("asmtp_residence_missing"), "mainland_chinese_resident"))
    return _common("ASMTP", profile, ctx, assessment)


def _start(scheme: str, ctx: Context) -> Assessment:
    version = ctx.book.version(scheme, ctx.day)
    assert version is not None  # both schemes are modelled open-ended into the past
    return Assessment(scheme, sources=[ctx.book.scheme(scheme)["page"], *version["sources"]])


def _common(scheme: str, profile: Profile, ctx: Context, assessment: Assessment) -> SchemeResult:
    version = ctx.book.version(scheme, ctx.day)
    assert version is not None
    if scheme == "GEP":
        nationality_check(scheme, profile, ctx, assessment)
    offer = profile.job_offer
    if profile.has_job_offer is False:
        assessment.add(failed(Reason("job_offer_required", scheme=scheme)))
    elif offer is None:
        assessment.add(unknown(Reason("job_offer_missing", scheme=scheme), "job_offer"))
    else:
        assessment.add(passed(Reason("job_offer_pass", scheme=scheme)))
        waiver = _market_test_waiver(offer.annual_salary_hkd, offer.on_talent_list, version)
        if waiver:
            assessment.notes.append(waiver)
    assessment.add(degree_check(scheme, profile))
    assessment.notes.append(Reason("employment_job_conditions", months=version["first_stay_months"]))
    return assessment.result("likely")


def _market_test_waiver(
    salary: float | None, on_talent_list: bool | None, version: Mapping[str, Any]
) -> Reason | None:
    minimum = version["market_test_waiver_min_salary_hkd"]
    if version["market_test_waiver_talent_list"] and on_talent_list:
        return Reason("market_test_talent_list")
    if minimum is not None and salary is not None and salary >= minimum:
        since = required_date(version["effective_from"], "effective_from of a version with a salary waiver")
        return Reason("market_test_salary", salary_hkd=salary, minimum_hkd=minimum, since=since)
    return None
