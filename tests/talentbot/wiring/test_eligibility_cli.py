"""`talentbot eligibility`: JSON in, JSON out, exit 0; malformed input: one line on stderr, exit 2."""

from __future__ import annotations

import io
import json

import pytest

from talentbot.wiring.eligibility_cli import run


def call(text: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(io.StringIO(text), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_valid_profile_prints_one_result() -> None:
    code, out, err = call('{"as_of": "2023-03-01", "annual_income_hkd": 2500000, "degree": "none"}')
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["results"][0] == {**data["results"][0], "scheme": "TTPS", "status": "eligible", "category": "A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"age": "thirty"}', "age must be a whole number"),
        ('{"degree": "diploma"}', "degree must be one of"),
        ('{"graduation_date": "2020-13-01"}', "graduation_date must be a real date"),
        ('{"annual_income_hkd": -100}', "must not be negative"),
        ('{"colour": "blue"}', "unknown field"),
    ],
)
def test_malformed_input_exits_2_with_one_line(text: str, message: str) -> None:
    code, out, err = call(text)
    assert code == 2 and out == ""
    assert message in err and err.startswith("error: ")
    assert err.count("\n") == 1
