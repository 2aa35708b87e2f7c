"""evaluate() and next_questions(): scheme order, one scheme only, asking only what changes the outcome."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from talentbot.core.eligibility import SCHEMES, evaluate, next_questions, parse_profile
from talentbot.core.eligibility.result import STATUS_RANK


def test_only_the_requested_scheme() -> None:
    evaluation = evaluate(parse_profile({}), ["TTPS"])
    assert [r.scheme for r in evaluation.results] == ["TTPS"]


def test_next_questions_for_ttps_only_asks_ttps_fields_income_first() -> None:
    assert next_questions(parse_profile({"as_of": "2025-03-01"}), ["TTPS"]) == [
        "annual_income_hkd", "degree", "university"]


def test_next_questions_stop_once_settled() -> None:
    profile = parse_profile({"as_of": "2025-03-01", "annual_income_hkd": 3_000_000})
    assert next_questions(profile, ["TTPS"]) == []


def test_next_questions_skip_what_was_answered() -> None:
    profile = parse_profile({"as_of": "2025-03-01", "annual_income_hkd": 1, "degree": "bachelor",
                             "university": "Southern Cross University"})
    assert next_questions(profile, ["TTPS"]) == []  # only the official list can settle it


def test_next_questions_put_shared_fields_first() -> None:
    questions = next_questions(parse_profile({"as_of": "2025-03-01"}))
    assert questions[0] == "degree"  # needed by TTPS, GEP, ASMTP, QMAS and TechTAS
    assert set(questions) >= {"annual_income_hkd", "job_offer", "mainland_chinese_resident", "hk_degree", "age"}


def _profiles() -> st.SearchStrategy[dict]:
    dates = st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
    optional = lambda s: st.one_of(st.none(), s)  # noqa: E731
    return st.fixed_dictionaries({}, optional={
        "as_of": dates,
        "age": optional(st.integers(0, 130)),
        "mainland_chinese_resident": optional(st.booleans()),
        "nationality": optional(st.sampled_from(["GB", "CN", "AF", "VN", "US", "KP", "LA"])),
        "annual_income_hkd": optional(st.floats(0, 1e9, allow_nan=False)),
        "degree": optional(st.sampled_from(["none", "sub_degree", "bachelor", "master", "doctorate"])),
        "university": optional(st.one_of(st.text(max_size=40),
                                         st.sampled_from(["MIT", "港大", "Standford", "Jiao Tong"]))),
        "graduation_date": optional(dates),
        "work_experience_years": optional(st.floats(0, 80, allow_nan=False)),
        "hk_degree": optional(st.fixed_dictionaries({}, optional={
            "level": optional(st.sampled_from(["none", "sub_degree", "bachelor", "master", "doctorate"])),
            "graduation_date": optional(dates), "campus": optional(st.sampled_from(["hong_kong", "gba"]))})),
        "job_offer": optional(st.fixed_dictionaries({}, optional={
            "annual_salary_hkd": optional(st.floats(0, 1e8, allow_nan=False)),
            "on_talent_list": optional(st.booleans()),
            "technology_area": optional(st.sampled_from(["robotics", "AI", "baking", "金融科技"]))})),
    })


@settings(max_examples=300, deadline=None)
@given(_profiles())
def test_no_profile_crashes_and_every_result_is_well_formed(data: dict) -> None:
    evaluation = evaluate(parse_profile(data))
    assert [r.scheme for r in evaluation.results] == list(SCHEMES)
    json.dumps(evaluation.to_json())
    for result in evaluation.results:
        assert bool(result.missing) == (result.status == "unknown")
        assert result.reasons and result.sources
    next_questions(parse_profile(data))


@settings(max_examples=200, deadline=None)
@given(_profiles(), st.floats(0, 1e8, allow_nan=False), st.floats(0, 1e8, allow_nan=False))
def test_more_income_never_makes_ttps_a_less_eligible(data: dict, low: float, extra: float) -> None:
    poorer = evaluate(parse_profile({**data, "annual_income_hkd": low}), ["TTPS"]).get("TTPS")
    richer = evaluate(parse_profile({**data, "annual_income_hkd": low + extra}), ["TTPS"]).get("TTPS")
    assert STATUS_RANK[richer.status] >= STATUS_RANK[poorer.status]
    if poorer.category == "A":
        assert richer.category == "A"
