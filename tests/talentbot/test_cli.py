"""The `talentbot` command line: sub-commands reach their modules and bad input exits 2."""

import io
import json

import pytest

from talentbot import cli


def test_eligibility_reads_json_and_prints_a_result(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"as_of": "2023-03-01", "annual_income_hkd": 2500000}'))
    assert cli.main(["eligibility"]) == 0
    result = json.loads(capsys.readouterr().out)
    ttps = next(r for r in result["results"] if r["scheme"] == "TTPS")
    assert (ttps["status"], ttps["category"]) == ("eligible", "A")


def test_eligibility_rejects_malformed_input(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert cli.main(["eligibility"]) == 2
    assert capsys.readouterr().err.strip()


def test_staff_add_creates_an_account_once(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery\n"))
    assert cli.main(["staff", "add", "--username", "alice", "--role", "agent"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery\n"))
    assert cli.main(["staff", "add", "--username", "alice", "--role", "agent"]) != 0


def test_unknown_options_are_refused() -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--bogus"])
    assert exit_.value.code == 2
