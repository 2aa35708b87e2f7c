"""Technology Talent Admission Scheme (科技人才入境計劃): R&D jobs in a technology area with a quota-holding company."""

from __future__ import annotations

from typing import Mapping, Sequence

from talentbot.core.eligibility.profile import Profile, degree_rank
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    failed,
    nationality_check,
    passed,
    unknown,
)
from talentbot.core.eligibility.universities import normalise

SCHEME = "TechTAS"


def technology_area_key(text: str, areas: Mapping[str, Sequence[str]]) -> str | None:
    """The area key for a name as written ("AI", 人工智能, "fintech"), or None if it is not one of the areas."""
    wanted = normalise(text).replace(" ", "_")
    for key, names in areas.items():
        if wanted == key or any(normalise(name).replace(" ", "_") == wanted for name in names):
            return key
    return None


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """Job offer in a listed technology area and the degree/experience rule; the employer's ITC quota, the
    STEM ranking of the university and the pay are for ITC and ImmD, so the best outcome is `likely`."""
    version = ctx.book.version(SCHEME, ctx.day)
    assert version is not None
    static = ctx.book.scheme(SCHEME)
    assessment = Assessment(SCHEME, sources=[static["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, assessment)
    offer = profile.job_offer
    if profile.has_job_offer is False:
        assessment.add(failed(Reason("techtas_offer_required")))
    elif offer is None:
        assessment.add(unknown(Reason("techtas_offer_missing"), "job_offer"))
    elif not offer.technology_area_given:
        assessment.add(unknown(Reason("techtas_area_missing"), "job_offer.technology_area"))
    elif offer.technology_area is None:
        assessment.add(failed(Reason("techtas_area_none")))
    else:
        key = technology_area_key(offer.technology_area, static["technology_areas"])
        if key is None:
            assessment.add(unknown(Reason("techtas_area_unknown", area=offer.technology_area,
                                          areas=tuple(static["technology_areas"])), "job_offer.technology_area"))
        else:
            assessment.add(passed(Reason("techtas_area_pass", area_key=key)))
    minimum_years = version["bachelor_min_experience_years"]
    if profile.degree is None:
        assessment.add(unknown(Reason("techtas_degree_missing"), "degree"))
    elif degree_rank(profile.degree) < degree_rank("bachelor"):
        assessment.add(failed(Reason("techtas_degree_below")))
    elif profile.degree == "bachelor":
        years = profile.work_experience_years
        if years is None:
            assessment.add(unknown(Reason("techtas_experience_missing", min_years=minimum_years),
                                   "work_experience_years"))
        elif years < minimum_years:
            assessment.add(failed(Reason("techtas_experience_below", min_years=minimum_years, years=years)))
        else:
            assessment.add(passed(Reason("techtas_bachelor_pass", years=years, min_years=minimum_years)))
    else:
        assessment.add(passed(Reason("techtas_postgraduate_pass")))
    assessment.notes.append(Reason("techtas_conditions", ranking=static["stem_ranking_top"]))
    return assessment.result("likely")
