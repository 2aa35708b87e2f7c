"""TTPS rules: Category A income, B/C degree and experience, the five-year window, dates and nationalities."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.eligibility.ruledata import in_force, load_rulebook
from talentbot.core.eligibility.schemes.ttps import first_stay_months
from tests.talentbot.core.eligibility.figures import AS_OF, rule

OXFORD = {"degree": "bachelor", "university": "University of Oxford"}
THRESHOLD = rule("TTPS", "category_a_min_income_hkd")
MIN_YEARS = rule("TTPS", "category_b_min_experience_years")
WINDOW = rule("TTPS", "graduation_window_years")
FIRST_YEAR = AS_OF.year - WINDOW
"""The earliest year of graduation Category C accepts on AS_OF (counted by year of graduation)."""
LONG_AGO = f"{FIRST_YEAR - 5}-06-30"
"""A graduation well before Category C's window."""


@pytest.mark.parametrize(
    ("income", "status", "category"),
    [
        (THRESHOLD, "eligible", "A"),  # exactly the threshold: reaches it (>=)
        (THRESHOLD - 1, "not_eligible", None),  # one dollar less
        (THRESHOLD * 4, "eligible", "A"),
        (0, "not_eligible", None),
    ],
)
def test_category_a_income_threshold(scheme_result, income: int, status: str, category: str | None) -> None:
    result = scheme_result("TTPS", annual_income_hkd=income, degree="none")
    assert (result.status, result.category) == (status, category)


def test_income_unknown_and_no_degree_route_left_is_unknown_asking_income(scheme_result) -> None:
    result = scheme_result("TTPS", degree="none")
    assert result.status == "unknown"
    assert result.missing == ("annual_income_hkd",)


@pytest.mark.parametrize(
    ("years", "graduated", "status", "category"),
    [
        (MIN_YEARS, LONG_AGO, "eligible", "B"),  # exactly the minimum
        (MIN_YEARS - 0.1, LONG_AGO, "not_eligible", None),  # too little for B, graduated too long ago for C
        (MIN_YEARS + 3, LONG_AGO, "eligible", "B"),
        (MIN_YEARS - 1, f"{FIRST_YEAR + 2}-06-30", "likely", "C"),  # C is subject to the annual quota
        (0, f"{AS_OF.year - 1}-06-30", "likely", "C"),
        # only work after graduation counts: graduated under a year ago, so too little for B whatever is claimed
        (MIN_YEARS + 2, f"{AS_OF.year - 1}-06-30", "likely", "C"),
    ],
)
def test_categories_b_and_c(scheme_result, years: float, graduated: str, status: str, category: str | None) -> None:
    result = scheme_result("TTPS", annual_income_hkd=THRESHOLD // 5, graduation_date=graduated,
                           work_experience_years=years, **OXFORD)
    assert (result.status, result.category) == (status, category)


def _window_cases(as_of: dt.date) -> list[tuple[str, str, str]]:
    first = as_of.year - rule("TTPS", "graduation_window_years", as_of)
    return [
        (as_of.isoformat(), f"{first}-12-31", "likely"),  # the first year of the window: inside, by year
        (as_of.isoformat(), f"{first}-01-01", "likely"),
        (as_of.isoformat(), f"{first - 1}-12-31", "not_eligible"),  # the year before: outside
    ]


@pytest.mark.parametrize(
    ("as_of", "graduated", "status"),
    _window_cases(AS_OF) + _window_cases(dt.date(2026, 1, 2)),
)
def test_category_c_window_is_counted_by_year_of_graduation(
    scheme_result, as_of: str, graduated: str, status: str
) -> None:
    result = scheme_result("TTPS", as_of=as_of, annual_income_hkd=0, work_experience_years=MIN_YEARS - 1,
                           graduation_date=graduated, **OXFORD)
    assert result.status == status


def test_edge_year_of_the_window_says_to_confirm(scheme_result) -> None:
    result = scheme_result("TTPS", annual_income_hkd=0, work_experience_years=MIN_YEARS - 1,
                           graduation_date=f"{FIRST_YEAR}-06-30", **OXFORD)
    assert any(f"edge of the {WINDOW}-year window" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2022-12-27", "not_eligible"), ("2022-12-28", "eligible")],
)
def test_ttps_did_not_exist_before_28_december_2022(scheme_result, as_of: str, status: str) -> None:
    result = scheme_result("TTPS", as_of=as_of, annual_income_hkd=THRESHOLD)
    assert result.status == status
    if status == "not_eligible":
        assert "did not exist before 28 December 2022" in result.reasons[0]


CHANGE = dt.date(2024, 11, 1)
"""Category A's first stay changed on this day (facts.md section 1.4); the months themselves are in the data."""


def _stay_in_data(category: str, day: dt.date) -> int:
    """The first stay of the version whose dates cover `day`, looked up without RuleBook.version."""
    [version] = [v for v in load_rulebook().scheme("TTPS")["versions"] if in_force(v, day)]
    return int(version["first_stay_months"][category])


@pytest.mark.parametrize(
    "day", [dt.date(2022, 12, 28), CHANGE - dt.timedelta(days=1), CHANGE, dt.date(2026, 1, 1)],
)
def test_first_stay_follows_the_version_in_force(day: dt.date) -> None:
    for category in ("A", "B", "C"):
        assert first_stay_months(load_rulebook(), category, day) == _stay_in_data(category, day)


def test_category_a_first_stay_grew_on_1_november_2024_and_b_did_not() -> None:
    book, before, after = load_rulebook(), CHANGE - dt.timedelta(days=1), CHANGE
    a_before, a_after = first_stay_months(book, "A", before), first_stay_months(book, "A", after)
    assert a_before is not None and a_after is not None and a_before < a_after
    assert first_stay_months(book, "B", before) == first_stay_months(book, "B", after)


def test_category_a_reason_states_the_stay_in_force(scheme_result) -> None:
    before, after = CHANGE - dt.timedelta(days=1), CHANGE
    for day in (before, after):
        result = scheme_result("TTPS", as_of=day.isoformat(), annual_income_hkd=THRESHOLD)
        assert f"{_stay_in_data('A', day)} months" in result.reasons[0]


@pytest.mark.parametrize(
    ("nationality", "as_of", "status"),
    [
        ("AF", "2025-03-01", "not_eligible"),
        ("CU", "2025-03-01", "not_eligible"),
        ("KP", "2025-03-01", "not_eligible"),
        ("VN", "2023-10-24", "not_eligible"),  # older list (date of change UNVERIFIED)
        ("VN", "2023-10-25", "eligible"),
        ("LA", "2025-03-01", "eligible"),
        ("NP", "2025-03-01", "eligible"),
        ("GB", "2025-03-01", "eligible"),
    ],
)
def test_nationality_exclusions(scheme_result, nationality: str, as_of: str, status: str) -> None:
    result = scheme_result("TTPS", as_of=as_of, nationality=nationality, annual_income_hkd=THRESHOLD)
    assert result.status == status


def test_unverified_exclusion_is_marked_so(scheme_result) -> None:
    result = scheme_result("TTPS", as_of="2023-06-01", nationality="NP", annual_income_hkd=THRESHOLD)
    assert "UNVERIFIED" in result.reasons[0]


def test_university_not_in_our_copy_is_unknown_with_the_official_link_never_not_eligible(scheme_result) -> None:
    result = scheme_result("TTPS", annual_income_hkd=THRESHOLD // 25, degree="bachelor",
                           university="University of Sydney", graduation_date="2015-06-30", work_experience_years=8)
    assert result.status == "unknown"
    assert "university" in result.missing
    assert any("https://www.immd.gov.hk/pdf/aggregate_list.pdf" in r for r in result.reasons)


def test_ambiguous_university_asks_which(scheme_result) -> None:
    result = scheme_result("TTPS", annual_income_hkd=0, degree="bachelor", university="Jiao Tong University",
                           graduation_date="2015-06-30", work_experience_years=8)
    assert result.status == "unknown" and result.missing == ("university",)
    assert "Shanghai Jiao Tong University" in result.reasons[0]


@pytest.mark.parametrize(
    ("university", "as_of", "status"),
    [
        ("Politecnico di Milano", "2025-12-31", "not_eligible"),  # added 1 Jan 2026
        ("Politecnico di Milano", "2026-01-01", "eligible"),
        ("University of Freiburg", "2025-12-31", "eligible"),  # removed 1 Jan 2026
        ("University of Freiburg", "2026-01-01", "not_eligible"),
        ("Wuhan University", "2023-10-31", "not_eligible"),  # added 1 Nov 2023
        ("Wuhan University", "2023-11-01", "eligible"),
        ("University of Goettingen", "2023-06-01", "unknown"),  # before 2023-11 our copy cannot tell
    ],
)
def test_university_list_versions_by_date(scheme_result, university: str, as_of: str, status: str) -> None:
    result = scheme_result("TTPS", as_of=as_of, annual_income_hkd=0, degree="master", university=university,
                           graduation_date="2012-06-30", work_experience_years=10)
    assert result.status == status


@pytest.mark.parametrize("degree", ["none", "sub_degree"])
def test_b_and_c_need_a_bachelor_or_higher(scheme_result, degree: str) -> None:
    result = scheme_result("TTPS", annual_income_hkd=0, degree=degree, university="MIT",
                           graduation_date="2015-06-30", work_experience_years=8)
    assert result.status == "not_eligible"


def test_category_c_excludes_non_local_hong_kong_bachelors(scheme_result) -> None:
    result = scheme_result("TTPS", annual_income_hkd=0, degree="bachelor", university="HKU",
                           graduation_date="2024-06-30", work_experience_years=0,
                           hk_degree={"level": "bachelor", "graduation_date": "2024-06-30", "campus": "hong_kong"})
    assert result.status == "not_eligible"
    assert any("IANG" in r for r in result.reasons)


def test_mainland_residents_are_told_about_the_consent_letter(scheme_result) -> None:
    result = scheme_result("TTPS", mainland_chinese_resident=True, nationality="CN", annual_income_hkd=THRESHOLD)
    assert result.status == "eligible"
    assert any("letter of consent" in r for r in result.reasons)


def test_a_beats_unknown_b(scheme_result) -> None:
    result = scheme_result("TTPS", annual_income_hkd=THRESHOLD + 100_000, degree="bachelor")
    assert (result.status, result.category, result.missing) == ("eligible", "A", ())
