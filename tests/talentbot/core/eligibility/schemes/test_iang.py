"""IANG: recent non-local graduates (no offer needed) or later ones with a job offer; GBA campus pilot."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.eligibility.ruledata import load_rulebook
from talentbot.core.eligibility.schemes.common import add_months
from talentbot.core.eligibility.schemes.iang import gba_campus_graduates_since
from tests.talentbot.core.eligibility.figures import rule

GRADUATED = dt.date(2022, 11, 30)
HK_MASTER = {"level": "master", "graduation_date": GRADUATED.isoformat(), "campus": "hong_kong"}
DEADLINE = add_months(GRADUATED, rule("IANG", "recent_graduate_window_months", GRADUATED))
"""The last day a recent graduate applies without a job offer (the window is in the rule data)."""
DAY_AFTER = DEADLINE + dt.timedelta(days=1)
GBA_SINCE = gba_campus_graduates_since(load_rulebook())


def test_the_deadline_is_the_same_day_of_the_month_window_months_later() -> None:
    months = rule("IANG", "recent_graduate_window_months", GRADUATED)
    assert (DEADLINE.year - GRADUATED.year) * 12 + DEADLINE.month - GRADUATED.month == months
    assert DEADLINE.day == GRADUATED.day


@pytest.mark.parametrize(
    ("as_of", "job_offer", "status"),
    [
        ((GRADUATED + dt.timedelta(days=1)).isoformat(), None, "eligible"),  # just graduated
        (DEADLINE.isoformat(), None, "eligible"),  # the last day of the window: still within
        (DAY_AFTER.isoformat(), None, "not_eligible"),  # one day later: needs an offer
        (DAY_AFTER.isoformat(), {"annual_salary_hkd": 400_000}, "likely"),
        ("2030-01-01", {"annual_salary_hkd": 400_000}, "likely"),  # no time limit for returning graduates
    ],
)
def test_recent_graduate_window(scheme_result, as_of: str, job_offer: dict | None, status: str) -> None:
    result = scheme_result("IANG", as_of=as_of, hk_degree=HK_MASTER, job_offer=job_offer)
    assert result.status == status


def test_after_the_window_without_offer_information_asks_for_it(scheme_result) -> None:
    result = scheme_result("IANG", as_of="2024-01-01", hk_degree=HK_MASTER)
    assert (result.status, result.missing) == ("unknown", ("job_offer",))


@pytest.mark.parametrize(
    ("as_of", "status"),
    [((GBA_SINCE - dt.timedelta(days=1)).isoformat(), "not_eligible"), (GBA_SINCE.isoformat(), "eligible")],
)
def test_gba_campus_graduates_from_the_day_the_pilot_began(scheme_result, as_of: str, status: str) -> None:
    degree = {"level": "bachelor", "graduation_date": add_months(GBA_SINCE, -3).isoformat(), "campus": "gba"}
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
