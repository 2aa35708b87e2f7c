"""IANG: non-local graduates within six months (no offer needed) or later with a job offer; GBA campus pilot."""

from __future__ import annotations

import pytest

HK_MASTER = {"level": "master", "graduation_date": "2022-11-30", "campus": "hong_kong"}


@pytest.mark.parametrize(
    ("as_of", "job_offer", "status"),
    [
        ("2023-03-01", None, "eligible"),  # three months after graduation
        ("2023-05-30", None, "eligible"),  # exactly six months: still within
        ("2023-05-31", None, "not_eligible"),  # one day later: needs an offer
        ("2023-05-31", {"annual_salary_hkd": 400_000}, "likely"),
        ("2030-01-01", {"annual_salary_hkd": 400_000}, "likely"),  # no time limit for returning graduates
    ],
)
def test_six_month_window(scheme_result, as_of: str, job_offer: dict | None, status: str) -> None:
    result = scheme_result("IANG", as_of=as_of, hk_degree=HK_MASTER, job_offer=job_offer)
    assert result.status == status


def test_after_six_months_without_offer_information_asks_for_it(scheme_result) -> None:
    result = scheme_result("IANG", as_of="2024-01-01", hk_degree=HK_MASTER)
    assert (result.status, result.missing) == ("unknown", ("job_offer",))


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2022-12-27", "not_eligible"), ("2022-12-28", "eligible")],
)
def test_gba_campus_graduates_from_28_december_2022(scheme_result, as_of: str, status: str) -> None:
    degree = {"level": "bachelor", "graduation_date": "2022-09-30", "campus": "gba"}
    assert scheme_result("IANG", as_of=as_of, hk_degree=degree, job_offer=None).status == status


@pytest.mark.parametrize(
    ("hk_degree", "status", "missing"),
    [
        (None, "not_eligible", ()),
        ({"level": "sub_degree", "graduation_date": "2025-01-10", "campus": "hong_kong"}, "not_eligible", ()),
        ({"level": "bachelor", "campus": "hong_kong"}, "unknown", ("hk_degree.graduation_date",)),
    ],
)
def test_hk_degree_needed(scheme_result, hk_degree: dict | None, status: str, missing: tuple) -> None:
    result = scheme_result("IANG", as_of="2025-03-01", hk_degree=hk_degree, job_offer=None)
    assert (result.status, result.missing) == (status, missing)


def test_hk_degree_not_given_is_asked(scheme_result) -> None:
    assert scheme_result("IANG").missing == ("hk_degree",)


@pytest.mark.parametrize(
    ("nationality", "campus", "status"),
    [
        ("VN", "hong_kong", "likely"),  # only UGC-funded programmes: a case officer's check
        ("VN", "gba", "eligible"),
        ("AF", "hong_kong", "not_eligible"),
        ("GB", "hong_kong", "eligible"),
    ],
)
def test_iang_nationality_rules(scheme_result, nationality: str, campus: str, status: str) -> None:
    degree = {"level": "bachelor", "graduation_date": "2025-01-10", "campus": campus}
    assert scheme_result("IANG", as_of="2025-03-01", nationality=nationality, hk_degree=degree).status == status
