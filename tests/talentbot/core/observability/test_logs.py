"""talentbot.core.observability.logs: JSON lines, and sender ids by pseudonym only."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest

from talentbot.core.observability import logs


def record(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("talentbot.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_is_one_json_object_on_one_line() -> None:
    line = logs.JsonFormatter().format(record("ticket %s: %s\nsecond line", 7, "高才通"))
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "process"}
    assert entry["message"] == "ticket 7: 高才通\nsecond line" and "高才通" in line  # UTF-8, not \\u escapes
    assert (entry["level"], entry["logger"]) == ("WARNING", "talentbot.test")
    assert entry["process"] > 0 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_an_error_carries_its_traceback_in_the_same_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        line = logs.JsonFormatter().format(record("failed", exc_info=sys.exc_info()))
    entry = json.loads(line)
    assert "\n" not in line and "ValueError: broken" in entry["exception"] and "Traceback" in entry["exception"]


@pytest.mark.parametrize("value, expected", [("json", True), (" JSON ", True), ("text", False), ("", False)])
def test_json_is_opt_in(value: str, expected: bool) -> None:
    assert logs.wants_json({logs.FORMAT_VARIABLE: value}) is expected
    assert logs.wants_json({}) is False


def test_use_json_formats_every_existing_handler(monkeypatch) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    named = logging.getLogger("tests.observability.named")
    monkeypatch.setattr(named, "handlers", [handler])
    monkeypatch.setattr(named, "propagate", False)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    try:
        assert logs.configure({logs.FORMAT_VARIABLE: "json"}) is True
        named.warning("hello %s", "there")
    finally:
        logging.captureWarnings(False)
    assert json.loads(stream.getvalue())["message"] == "hello there"
    assert logs.configure({}) is False


def test_a_pseudonym_is_stable_keyed_and_reveals_nothing() -> None:
    salted = {logs.SALT_VARIABLE: "one salt"}
    sender = "telegram:123456789"
    name = logs.pseudonym(sender, salted)
    assert re.fullmatch(r"anon-[0-9a-f]{16}", name) and "123456789" not in name
    assert logs.pseudonym(sender, salted) == name
    assert logs.pseudonym("telegram:123456788", salted) != name
    assert logs.pseudonym(sender, {logs.SALT_VARIABLE: "another salt"}) != name
    assert logs.pseudonym(sender, {}) == logs.pseudonym(sender, {})  # the process's own salt: stable within it
    assert logs.pseudonym("\ud800 lone surrogate", {}).startswith("anon-")
