"""Reason codes stay invisible to the rules module's JSON (interfaces §3 reasons are strings), and a reason's
sentence is the English template of its code filled with its parameters."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle

import pytest

from talentbot.core.eligibility import evaluate, parse_profile
from talentbot.core.eligibility.reasons import Reason, reason_code
from talentbot.core.eligibility.wording import load_form_texts, money
from tests.talentbot.core.eligibility.figures import rule

THRESHOLD = rule("TTPS", "category_a_min_income_hkd")
STAY_A = rule("TTPS", "first_stay_months")["A"]


def test_a_reason_is_its_english_sentence() -> None:
    reason = Reason("ttps_a_income_below", income_hkd=1_000_000, threshold_hkd=THRESHOLD)
    template = load_form_texts()["reasons"]["ttps_a_income_below"]["en"]
    assert reason == template.format(income_hkd="HK$1,000,000", threshold_hkd=money(THRESHOLD))
    assert json.dumps([reason]) == json.dumps([str(reason)])
    assert reason_code(reason) == "ttps_a_income_below"
    assert reason.params == {"income_hkd": 1_000_000, "threshold_hkd": THRESHOLD}
    assert reason_code("plain") is None


def test_code_and_params_survive_copy_and_pickle() -> None:
    reason = Reason("iang_recent_pass", deadline=dt.date(2025, 5, 30), window=6, months=24)
    for clone in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert clone == reason and clone.code == reason.code and clone.params == reason.params


def test_english_units_follow_the_number() -> None:
    assert "with 1 year of experience" in Reason("techtas_bachelor_pass", years=1, min_years=1)
    assert "with 2.5 years of experience" in Reason("techtas_bachelor_pass", years=2.5, min_years=1)


def test_evaluation_reasons_carry_codes_and_the_json_is_unchanged() -> None:
    income = THRESHOLD + 100_000
    evaluation = evaluate(parse_profile({"as_of": "2025-03-01", "annual_income_hkd": income}), ["TTPS"])
    [reason] = evaluation.get("TTPS").reasons
    assert reason_code(reason) == "ttps_a_income_pass"
    assert evaluation.to_json()["results"][0]["reasons"] == [
        f"Category A: annual income of {money(income)} reaches the {money(THRESHOLD)} threshold "
        f"(first stay {STAY_A} months)."]


@pytest.mark.parametrize("value,shown", [(3, "3"), (2.5, "2.5"), (3.09925, "3"), (2.96, "2.9"), (1.05, "1")])
def test_years_computed_from_dates_are_shown_with_one_decimal_never_rounded_up(value, shown):
    """2.96 years must not read as "3" beside a 3-year minimum it misses."""
    from talentbot.core.eligibility.wording import format_param

    written = format_param("work_experience_years", value, "en")
    assert str(written) == shown
    assert format(written, "year") == f"{shown} year" + ("" if shown == "1" else "s")
