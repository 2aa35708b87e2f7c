"""`talentbot review report`: the content-gap report from the analytics database, as text, JSON and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.analytics.tables import Table
from talentbot.core.handoff.store import utcnow
from talentbot.wiring.cli import build_parser
from talentbot.wiring.gap_report_cli import aligned, main, width

SALT = b"s" * 32


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    monkeypatch.delenv("TALENTBOT_CONTENT_STALE_DAYS", raising=False)
    store = AnalyticsStore.from_url(url)
    now = utcnow()
    rows = []
    for minutes, (sender, text, actions, stated) in enumerate([
        ("a", "how much to renew my visa", ["utter_ask_rephrase"], {}),
        ("a", "What is TTPS?", ["action_answer"], {"answer": {"kind": "content", "id": "schemes.TTPS"}}),
        ("a", "talk to a person", ["action_handoff"], {"handoff": {"ticket": 1, "status": "waiting"}}),
    ]):
        intent = "nlu_fallback" if minutes == 0 else "ask"
        event = {"sender_id": sender, "event": "user", "timestamp": (now - dt.timedelta(minutes=10 - minutes))
                 .timestamp(), "text": text, "input_channel": "rest",
                 "parse_data": {"intent": {"name": intent, "confidence": 0.5}}}
        made = message_row(event, {"v": 1, "language": "en", "actions": actions, "outcome": stated}, SALT, now)
        assert made is not None
        rows.append(made)
    store.add(rows)
    store.close()
    return url


def run(*argv: str) -> tuple[int, str]:
    args = build_parser().parse_args(["review", "report", *argv])
    out = io.StringIO()
    return main(args, out), out.getvalue()


def test_the_text_report(database: str) -> None:
    status, text = run()
    assert status == 0
    assert text.startswith("Content-gap report, ") and "1 messages not understood" in text
    assert "how much to renew my visa" in text and "schemes.TTPS" in text
    assert "Bank entries whose as-of date is more than 365 days old" in text


def test_json_and_one_table(database: str) -> None:
    status, text = run("--format", "json", "--stale-days", "100000")
    body = json.loads(text)
    assert status == 0 and body["stale_days"] == 100000 and body["tables"]["stale"]["rows"] == []
    assert body["tables"]["handoff_entries"]["rows"] == [["content", "schemes.TTPS", "", 1, 1, 1.0]]
    _, only = run("--format", "json", "--table", "unanswered")
    assert list(json.loads(only)["tables"]) == ["unanswered"]


def test_csv(database: str) -> None:
    status, text = run("--format", "csv", "--table", "handoff_entries")
    assert status == 0 and text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["Kind", "Answer", "Question", "Times given", "Followed by a handoff", "Share"],
        ["content", "schemes.TTPS", "", "1", "1", "1.0"]]
    _, every = run("--format", "csv")
    assert every.count("\ufeff") == 1 and "# unanswered: " in every and "# stale: " in every


@pytest.mark.parametrize("argv", [["--days", "0"], ["--days", "400"], ["--stale-days", "0"]])
def test_bad_options(database: str, argv: list) -> None:
    assert run(*argv)[0] == 2


def test_a_database_without_analytics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    status, text = run("--table", "unanswered")
    assert status == 0 and "No analytics yet" in text and "(none)" in text
    assert not (tmp_path / "empty.sqlite3").exists()  # a report makes no database


def test_columns_line_up_with_chinese() -> None:
    lines = aligned(Table("t", "T", ("Question", "Messages"), [("可唔可以帶狗", 2), ("dog?", 10)]))
    assert lines == ["  Question      Messages", "  可唔可以帶狗  2", "  dog?" + " " * 10 + "10"]
    assert width(lines[1]) == len(lines[0]) - len("Messages") + 1  # a Chinese character takes two columns
