"""GEP and ASMTP: who uses which by residence/nationality, the job offer and the degree."""

from __future__ import annotations

import pytest

from tests.talentbot.core.eligibility.figures import rule

OFFER = {"annual_salary_hkd": 900_000, "on_talent_list": False, "technology_area": None}
WAIVER_SALARY = rule("GEP", "market_test_waiver_min_salary_hkd")


@pytest.mark.parametrize(
    ("fields", "gep", "asmtp"),
    [
        ({"mainland_chinese_resident": True, "nationality": "CN"}, "not_eligible", "likely"),
        ({"mainland_chinese_resident": False, "nationality": "GB"}, "likely", "not_eligible"),
        ({"mainland_chinese_resident": False, "nationality": "CN"}, "likely", "not_eligible"),  # overseas Chinese
        ({"nationality": "FR"}, "likely", "not_eligible"),  # a non-CN nationality implies non-Mainland
        ({"nationality": "CN"}, "unknown", "unknown"),
        ({}, "unknown", "unknown"),
    ],
)
def test_mainland_residents_use_asmtp_others_gep(scheme_result, fields: dict, gep: str, asmtp: str) -> None:
    common = {"degree": "bachelor", "job_offer": OFFER, **fields}
    assert scheme_result("GEP", **common).status == gep
    assert scheme_result("ASMTP", **common).status == asmtp
    if gep == "unknown":
        assert scheme_result("GEP", **common).missing == ("mainland_chinese_resident",)


@pytest.mark.parametrize(
    ("job_offer", "status"),
    [(None, "not_eligible"), (OFFER, "likely")],
)
def test_a_confirmed_job_offer_is_needed(scheme_result, job_offer: dict | None, status: str) -> None:
    assert scheme_result("GEP", nationality="GB", degree="master", job_offer=job_offer).status == status


def test_job_offer_not_given_is_asked(scheme_result) -> None:
    result = scheme_result("GEP", nationality="GB", degree="master")
    assert (result.status, result.missing) == ("unknown", ("job_offer",))


@pytest.mark.parametrize("nationality", ["AF", "CU", "KP"])
def test_gep_nationality_exclusions(scheme_result, nationality: str) -> None:
    assert scheme_result("GEP", nationality=nationality, degree="master", job_offer=OFFER).status == "not_eligible"


def test_no_degree_is_not_the_normal_route(scheme_result) -> None:
    result = scheme_result("GEP", nationality="GB", degree="none", job_offer=OFFER)
    assert result.status == "not_eligible"
    assert "case by case" in result.reasons[0]


@pytest.mark.parametrize(
    ("as_of", "salary", "waived"),
    [("2022-12-27", WAIVER_SALARY, False), ("2022-12-28", WAIVER_SALARY, True),
     ("2022-12-28", WAIVER_SALARY - 1, False)],
)
def test_market_test_waiver_from_28_december_2022(scheme_result, as_of: str, salary: int, waived: bool) -> None:
    offer = {"annual_salary_hkd": salary, "on_talent_list": False, "technology_area": None}
    result = scheme_result("GEP", as_of=as_of, nationality="GB", degree="bachelor", job_offer=offer)
    assert any("recruitment difficulty" in r for r in result.reasons) is waived


@pytest.mark.parametrize("as_of", ["2022-12-27", "2022-12-28"])
def test_first_stay_of_the_version_in_force(scheme_result, as_of: str) -> None:
    result = scheme_result("ASMTP", as_of=as_of, mainland_chinese_resident=True, degree="bachelor", job_offer=OFFER)
    assert any(f"first stay {rule('ASMTP', 'first_stay_months', as_of)} months" in r for r in result.reasons)


def test_first_stay_grew_on_28_december_2022() -> None:
    for scheme in ("GEP", "ASMTP"):
        assert rule(scheme, "first_stay_months", "2022-12-27") < rule(scheme, "first_stay_months", "2022-12-28")
