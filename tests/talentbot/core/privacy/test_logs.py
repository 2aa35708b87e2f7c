"""Log files under var/: the user's id masked in place (nothing else moves), lines naming them found, files not
written to within the retention deleted."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path

from talentbot.core.privacy import logs

USER = "wechat:oAbCdEf123456"


def test_the_id_and_the_platforms_own_id_are_masked_in_place(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    before = (f"2026-11-30 10:00:01 ERROR The assistant failed on a wechat message of {USER}\n"
              "2026-11-30 10:00:02 INFO WeChat user locale unknown for oAbCdEf123456: timeout\n"
              "2026-11-30 10:00:03 INFO someone else: wechat:oAbCdEf1234567 and oAbCdEf123456x\n").encode()
    log.write_bytes(before)
    appender = open(log, "ab")  # a server appending to the same file meanwhile
    assert [m.line for m in logs.mentions(tmp_path, USER)] == [1, 2]
    assert logs.redact(tmp_path, USER) == 2
    appender.write(b"2026-11-30 10:00:04 INFO appended while masking\n")
    appender.close()
    after = log.read_bytes()
    assert len(after) == len(before) + len(b"2026-11-30 10:00:04 INFO appended while masking\n")
    assert b"oAbCdEf123456\n" not in after and f"{USER}\n".encode() not in after
    assert b"wechat message of " + b"*" * len(USER) in after
    assert b"wechat:oAbCdEf1234567 and oAbCdEf123456x" in after  # other ids untouched
    assert logs.mentions(tmp_path, USER) == [] and logs.redact(tmp_path, USER) == 0


def test_short_platform_ids_are_masked_only_as_the_full_id(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    log = tmp_path / "sub" / "actions.log"
    log.write_text("action failed for telegram:42\nretrying in 42 s\n", encoding="utf-8")
    assert logs.redact(tmp_path, "telegram:42") == 1
    assert log.read_text(encoding="utf-8") == "action failed for ***********\nretrying in 42 s\n"


def test_rotated_compressed_logs_are_masked_too(tmp_path: Path) -> None:
    rotated = tmp_path / "rasa.log.2.gz"
    with gzip.open(rotated, "wb") as file:
        file.write(b"handoff store unavailable; message of telegram:987654321 goes to the assistant\n")
    assert len(logs.mentions(tmp_path, "telegram:987654321")) == 1
    assert logs.redact(tmp_path, "telegram:987654321") == 1
    with gzip.open(rotated, "rb") as file:
        assert b"987654321" not in file.read()


def test_log_files_not_written_within_the_retention_are_deleted(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    old, live, other = tmp_path / "rasa.log.1", tmp_path / "rasa.log", tmp_path / "handoff.sqlite3"
    for path in (old, live, other):
        path.write_text("x", encoding="utf-8")
    stamp = (now - dt.timedelta(days=200)).timestamp()
    os.utime(old, (stamp, stamp))
    os.utime(other, (stamp, stamp))
    assert logs.purge(tmp_path, now - dt.timedelta(days=180)) == [str(old)]
    assert not old.exists() and live.exists() and other.exists()  # only log files


def test_aliases_such_as_the_log_pseudonym_are_masked_too(tmp_path: Path) -> None:
    log = tmp_path / "actions.log"
    log.write_text('{"message": "could not open a handoff ticket for anon-0123456789abcdef"}\n'
                   '{"message": "could not open a handoff ticket for anon-fedcba9876543210"}\n', encoding="utf-8")
    assert [m.line for m in logs.mentions(tmp_path, USER, ["anon-0123456789abcdef"])] == [1]
    assert logs.redact(tmp_path, USER, ["anon-0123456789abcdef"]) == 1
    assert "anon-0123456789abcdef" not in log.read_text(encoding="utf-8")
    assert "anon-fedcba9876543210" in log.read_text(encoding="utf-8")
