"""QMAS prerequisites: age 18 or above, a first degree normally, nationality; never more than `likely`."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("age", "status"),
    [(17, "not_eligible"), (18, "likely"), (70, "likely")],
)
def test_age_18_or_above_no_upper_limit(scheme_result, age: int, status: str) -> None:
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


def test_points_are_not_invented(scheme_result) -> None:
    result = scheme_result("QMAS", as_of="2025-03-01", age=30, degree="doctorate")
    assert result.status == "likely"
    assert any("UNVERIFIED" in r for r in result.reasons)
