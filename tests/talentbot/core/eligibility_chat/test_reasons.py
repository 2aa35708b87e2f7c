"""Reason codes added to the rules module stay invisible to its JSON (interfaces §3 reasons are strings)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle

from talentbot.core.eligibility import evaluate, parse_profile
from talentbot.core.eligibility.reasons import Reason, reason_code


def test_a_reason_is_its_english_sentence() -> None:
    reason = Reason("ttps_a_income_pass", "Category A: ok.", income_hkd=2_600_000)
    assert reason == "Category A: ok." and json.dumps([reason]) == '["Category A: ok."]'
    assert reason_code(reason) == "ttps_a_income_pass" and reason.params == {"income_hkd": 2_600_000}
    assert reason_code("plain") is None


def test_code_and_params_survive_copy_and_pickle() -> None:
    reason = Reason("iang_recent_pass", "x", deadline=dt.date(2025, 5, 30))
    for clone in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert clone == reason and clone.code == reason.code and clone.params == reason.params


def test_evaluation_reasons_carry_codes_and_the_json_is_unchanged() -> None:
    evaluation = evaluate(parse_profile({"as_of": "2025-03-01", "annual_income_hkd": 2_600_000}), ["TTPS"])
    [reason] = evaluation.get("TTPS").reasons
    assert reason_code(reason) == "ttps_a_income_pass"
    assert evaluation.to_json()["results"][0]["reasons"] == [
        "Category A: annual income of HK$2,600,000 reaches the HK$2,500,000 threshold (first stay 36 months)."]
