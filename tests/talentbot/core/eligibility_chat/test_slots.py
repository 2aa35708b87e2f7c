"""Slot values → the interfaces §3 profile, and which slot is asked next."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.eligibility import parse_profile
from talentbot.core.eligibility.schemes.common import FIELD_PRIORITY
from talentbot.core.eligibility_chat.slots import (
    FIELD_SLOTS,
    FORM_SLOTS,
    SKIPPED,
    profile_data,
    scope_from_slot,
    scope_to_slot,
    slots_to_ask,
)


def test_every_field_the_engine_asks_about_has_a_slot() -> None:
    assert set(FIELD_PRIORITY) <= set(FIELD_SLOTS)
    assert len(set(FORM_SLOTS)) == len(FORM_SLOTS)


@pytest.mark.parametrize(
    "values, expected",
    [
        ({}, {}),
        ({"elig_income": 2600000.0, "elig_degree": "master"}, {"annual_income_hkd": 2600000.0, "degree": "master"}),
        ({"elig_income": SKIPPED, "elig_age": 34.0}, {"age": 34}),
        ({"elig_job_offer": "no", "elig_tech_area": "none"}, {"job_offer": None}),
        ({"elig_job_offer": "yes", "elig_tech_area": "none"}, {"job_offer": {"technology_area": None}}),
        ({"elig_job_offer": "yes", "elig_tech_area": "fintech"}, {"job_offer": {"technology_area": "fintech"}}),
        ({"elig_job_offer": "yes"}, {"job_offer": {}}),
        ({"elig_hk_degree": "no", "elig_hk_level": "master"}, {"hk_degree": None}),
        ({"elig_hk_degree": "yes", "elig_hk_level": "master", "elig_hk_campus": "gba"},
         {"hk_degree": {"level": "master", "campus": "gba"}}),
        ({"elig_mainland": "yes"}, {"mainland_chinese_resident": True}),
    ],
)
def test_profile_data(values: dict, expected: dict) -> None:
    data = profile_data(values)
    assert data == expected
    parse_profile(data)  # always a valid profile


def test_as_of_is_passed_on() -> None:
    assert profile_data({}, dt.date(2025, 3, 1)) == {"as_of": "2025-03-01"}


def test_skipped_and_answered_slots_are_not_asked_again() -> None:
    fields = ["annual_income_hkd", "degree", "university"]
    assert slots_to_ask(fields, {"elig_income": SKIPPED, "elig_degree": "master"}) == ["elig_university"]


@pytest.mark.parametrize("schemes, slot", [([], None), (["TTPS"], "TTPS"), (["TTPS", "QMAS", "TTPS"], "TTPS,QMAS")])
def test_scope_round_trip(schemes: list, slot: str | None) -> None:
    assert scope_to_slot(schemes) == slot
    assert scope_from_slot(slot) == (schemes and list(dict.fromkeys(schemes)) or None)
