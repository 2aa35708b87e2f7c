"""The result JSON keeps exactly the shape of interfaces §3."""

from __future__ import annotations

import json

from talentbot.core.eligibility import SCHEMES, evaluate, parse_profile


def test_json_shape_is_exactly_interfaces_section_3() -> None:
    evaluation = evaluate(parse_profile({"as_of": "2023-03-01", "annual_income_hkd": 2600000}))
    data = json.loads(evaluation.to_json_text())
    assert list(data) == ["as_of", "rules_version", "results"]
    assert data["as_of"] == "2023-03-01"
    assert isinstance(data["rules_version"], str) and data["rules_version"]
    schemes = [r["scheme"] for r in data["results"]]
    assert schemes == list(SCHEMES) == ["TTPS", "GEP", "ASMTP", "QMAS", "TechTAS", "IANG"]
    for result in data["results"]:
        assert list(result) == ["scheme", "category", "status", "reasons", "missing", "sources"]
        assert result["status"] in {"eligible", "likely", "not_eligible", "unknown"}
        assert all(isinstance(r, str) and r for r in result["reasons"])
        assert result["sources"] and all(s.startswith("http") for s in result["sources"])
        if result["scheme"] != "TTPS" or result["status"] not in ("eligible", "likely"):
            assert result["category"] is None
        assert bool(result["missing"]) == (result["status"] == "unknown")


def test_rules_version_names_the_university_list_in_force() -> None:
    before = evaluate(parse_profile({"as_of": "2025-12-31"})).rules_version
    after = evaluate(parse_profile({"as_of": "2026-01-01"})).rules_version
    assert before.endswith("universities-2025-01-01")
    assert after.endswith("universities-2026-01-01")
    assert before.split("+")[0] == after.split("+")[0]  # same data files
