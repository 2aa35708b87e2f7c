"""Profile parsing: interfaces §3 fields, null meaning "none" for job_offer/hk_degree, one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.eligibility.profile import ProfileError, parse_profile


def test_full_example_of_interfaces_parses() -> None:
    profile = parse_profile({
        "as_of": "2023-03-01", "age": 34, "mainland_chinese_resident": False, "nationality": "gb",
        "annual_income_hkd": 2600000, "degree": "bachelor", "university": "University of Oxford",
        "graduation_date": "2015-07-01", "work_experience_years": 6,
        "hk_degree": {"level": "master", "graduation_date": "2022-11-30", "campus": "hong_kong"},
        "job_offer": {"annual_salary_hkd": 900000, "on_talent_list": False, "technology_area": None},
    })
    assert profile.as_of == dt.date(2023, 3, 1)
    assert profile.nationality == "GB"
    assert profile.hk_degree is not None and profile.hk_degree.graduation_date == dt.date(2022, 11, 30)
    assert profile.job_offer is not None and profile.job_offer.technology_area_given
    assert profile.job_offer.technology_area is None


def test_missing_as_of_defaults_to_today() -> None:
    assert parse_profile({}).as_of == dt.date.today()


@pytest.mark.parametrize(
    ("data", "has_offer", "has_hk_degree"),
    [
        ({}, None, None),  # missing: unknown
        ({"job_offer": None, "hk_degree": None}, False, False),  # explicit null: has none
        ({"job_offer": {}, "hk_degree": {}}, True, True),
    ],
)
def test_null_means_none_and_missing_means_unknown(
    data: dict, has_offer: bool | None, has_hk_degree: bool | None
) -> None:
    profile = parse_profile(data)
    assert profile.has_job_offer is has_offer
    assert profile.has_hk_degree is has_hk_degree


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"anual_income_hkd": 1}, "unknown field 'anual_income_hkd'"),
        ({"annual_income_hkd": -1}, "must not be negative"),
        ({"annual_income_hkd": "2.5M"}, "annual_income_hkd must be a number"),
        ({"annual_income_hkd": True}, "must be a number"),
        ({"age": 30.5}, "age must be a whole number"),
        ({"age": 200}, "age must be between"),
        ({"degree": "diploma"}, "degree must be one of"),
        ({"graduation_date": "2020-02-30"}, "must be a real date"),
        ({"graduation_date": "June 2020"}, "graduation_date must be a real date"),
        ({"as_of": 2023}, "as_of must be a date string"),
        ({"nationality": "GBR"}, "ISO 3166-1 alpha-2"),
        ({"mainland_chinese_resident": "no"}, "must be true or false"),
        ({"work_experience_years": -2}, "must not be negative"),
        ({"hk_degree": {"campus": "shenzhen"}}, "hk_degree.campus must be one of"),
        ({"hk_degree": "HKU"}, "hk_degree must be an object or null"),
        ({"job_offer": {"salary": 1}}, "unknown field job_offer.salary"),
        ({"job_offer": {"annual_salary_hkd": -5}}, "job_offer.annual_salary_hkd must not be negative"),
    ],
)
def test_malformed_profiles_get_a_one_line_error_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(data)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
