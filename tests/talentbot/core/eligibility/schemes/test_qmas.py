"""QMAS prerequisites: the minimum age, a first degree normally, nationality; never more than `likely`."""

from __future__ import annotations

import pytest

from tests.talentbot.core.eligibility.figures import rule

MIN_AGE = rule("QMAS", "min_age")


@pytest.mark.parametrize(
    ("age", "status"),
    [(MIN_AGE - 1, "not_eligible"), (MIN_AGE, "likely"), (MIN_AGE + 52, "likely")],
)
def test_minimum_age_and_no_upper_limit(scheme_result, age: int, status: str) -> None:
    assert scheme_result("QMAS", age=age, degree="bachelor", nationality="GB").status == status


def test_unknown_age_and_degree_are_asked_in_order(scheme_result) -> None:
    result = scheme_result("QMAS")
    assert result.status == "unknown"
    assert result.missing == ("degree", "age")


@pytest.mark.parametrize("nationality", ["AF", "CU", "KP"])
def test_qmas_nationality_exclusions(scheme_result, nationality: str) -> None:
    assert scheme_result("QMAS", age=30, degree="master", nationality=nationality).status == "not_eligible"


@pytest.mark.parametrize(
    ("as_of", "quota_note"),
    [("2022-12-31", True), ("2023-01-01", False)],
)
def test_annual_quota_suspended_from_1_january_2023(scheme_result, as_of: str, quota_note: bool) -> None:
    result = scheme_result("QMAS", as_of=as_of, age=30, degree="master")
    assert any("annual quota" in r for r in result.reasons) is quota_note


@pytest.mark.parametrize("as_of", ["2024-10-31", "2024-11-01"])
def test_points_are_not_invented(scheme_result, as_of: str) -> None:
    result = scheme_result("QMAS", as_of=as_of, age=30, degree="doctorate")
    assert result.status == "likely"
    assert any("UNVERIFIED" in r for r in result.reasons)


def test_the_selection_reason_quotes_the_figures_of_its_version(scheme_result) -> None:
    old = scheme_result("QMAS", as_of="2024-10-31", age=30, degree="master")
    new = scheme_result("QMAS", as_of="2024-11-01", age=30, degree="master")
    pass_mark, maximum = rule("QMAS", "points_pass_mark", "2024-10-31"), rule("QMAS", "points_maximum", "2024-10-31")
    assert any(f"pass mark {pass_mark} of {maximum}" in r for r in old.reasons)
    least, criteria = rule("QMAS", "questionnaire_min_criteria"), rule("QMAS", "questionnaire_criteria")
    assert any(f"at least {least} of {criteria} criteria" in r for r in new.reasons)
