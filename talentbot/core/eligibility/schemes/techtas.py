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
        assessment.add(failed(Reason("techtas_offer_required", "TechTAS needs a full-time R&D job offer from a "
                                     "company with a TechTAS quota.")))
    elif offer is None:
        assessment.add(unknown(Reason("techtas_offer_missing", "TechTAS needs an R&D job offer in a technology "
                                      "area; not given."), "job_offer"))
    elif not offer.technology_area_given:
        assessment.add(unknown(Reason("techtas_area_missing", "TechTAS needs the job to be R&D in a technology "
                                      "area; area not given."), "job_offer.technology_area"))
    elif offer.technology_area is None:
        assessment.add(failed(Reason("techtas_area_none", "TechTAS is only for R&D jobs in one of its technology "
                                     "areas.")))
    else:
        key = technology_area_key(offer.technology_area, static["technology_areas"])
        if key is None:
            areas = ", ".join(k.replace("_", " ") for k in static["technology_areas"])
            assessment.add(unknown(Reason("techtas_area_unknown", f"'{offer.technology_area}' is not one of the "
                                          f"TechTAS areas we know ({areas}).", area=offer.technology_area),
                                   "job_offer.technology_area"))
        else:
            assessment.add(passed(Reason("techtas_area_pass", f"The job is in a TechTAS technology area "
                                         f"({key.replace('_', ' ')}).", area_key=key)))
    minimum_years = version["bachelor_min_experience_years"]
    if profile.degree is None:
        assessment.add(unknown(Reason("techtas_degree_missing", "TechTAS needs a STEM degree; degree not given."),
                               "degree"))
    elif degree_rank(profile.degree) < degree_rank("bachelor"):
        assessment.add(failed(Reason("techtas_degree_below", "TechTAS needs a STEM degree; without one, only proven "
                                     "technical skills are considered, case by case.")))
    elif profile.degree == "bachelor":
        years = profile.work_experience_years
        if years is None:
            assessment.add(unknown(Reason("techtas_experience_missing", f"Bachelor's holders need at least "
                                          f"{minimum_years} year of relevant work experience; experience not "
                                          f"given.", min_years=minimum_years), "work_experience_years"))
        elif years < minimum_years:
            assessment.add(failed(Reason("techtas_experience_below", f"Bachelor's holders need at least "
                                         f"{minimum_years} year of relevant work experience; you have {years:g}.",
                                         min_years=minimum_years, years=years)))
        else:
            assessment.add(passed(Reason("techtas_bachelor_pass", f"Bachelor's degree with {years:g} years of "
                                         f"experience (at least {minimum_years}).", years=years,
                                         min_years=minimum_years)))
    else:
        assessment.add(passed(Reason("techtas_postgraduate_pass", "A master's or doctoral degree needs no work "
                                     "experience.")))
    assessment.notes.append(Reason("techtas_conditions", "The employer must hold a TechTAS quota from the "
                                   "Innovation and Technology Commission, the degree must be in STEM from a top-100 "
                                   "university for STEM subjects, and the pay at market level."))
    return assessment.result("likely")
