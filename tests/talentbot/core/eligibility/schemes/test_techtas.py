"""TechTAS: an R&D job offer in a technology area, and the degree/experience rule."""

from __future__ import annotations

import pytest

from tests.talentbot.core.eligibility.figures import rule

MIN_YEARS = rule("TechTAS", "bachelor_min_experience_years")


def offer(area: object = "artificial intelligence") -> dict:
    return {"annual_salary_hkd": 600_000, "on_talent_list": False, "technology_area": area}


@pytest.mark.parametrize(
    ("fields", "status", "missing"),
    [
        ({"degree": "master", "job_offer": offer()}, "likely", ()),
        ({"degree": "master", "job_offer": offer("人工智能")}, "likely", ()),
        ({"degree": "doctorate", "job_offer": offer("FinTech")}, "likely", ()),
        ({"degree": "bachelor", "work_experience_years": MIN_YEARS, "job_offer": offer()}, "likely", ()),
        ({"degree": "bachelor", "work_experience_years": MIN_YEARS - 0.5, "job_offer": offer()}, "not_eligible", ()),
        ({"degree": "bachelor", "job_offer": offer()}, "unknown", ("work_experience_years",)),
        ({"degree": "sub_degree", "job_offer": offer()}, "not_eligible", ()),
        ({"degree": "master", "job_offer": offer(None)}, "not_eligible", ()),  # explicit null: not a tech job
        ({"degree": "master", "job_offer": {"annual_salary_hkd": 1}}, "unknown", ("job_offer.technology_area",)),
        ({"degree": "master", "job_offer": offer("accounting")}, "unknown", ("job_offer.technology_area",)),
        ({"degree": "master", "job_offer": None}, "not_eligible", ()),
        ({"degree": "master"}, "unknown", ("job_offer",)),
        ({"degree": "master", "job_offer": offer(), "nationality": "CU"}, "not_eligible", ()),
    ],
)
def test_techtas_rules(scheme_result, fields: dict, status: str, missing: tuple) -> None:
    result = scheme_result("TechTAS", **fields)
    assert (result.status, result.missing) == (status, missing)
