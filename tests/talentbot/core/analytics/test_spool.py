"""The host's spool of conversation events: appended per turn, claimed with leases, removed once delivered."""

from __future__ import annotations

import threading

from talentbot.core.analytics.spool import Spool, spool_path


def test_rows_come_back_in_order_with_their_headers_and_go_once_removed(tmp_path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.append([('{"event": "user"}', {"talentbot-turn": "{}"}), ('{"event": "bot"}', None)], now=100.0)
    claimed = spool.claim(10, now=101.0)
    assert [(s.body, s.headers, s.created) for s in claimed] == [
        ('{"event": "user"}', {"talentbot-turn": "{}"}, 100.0), ('{"event": "bot"}', {}, 100.0)]
    assert spool.claim(10, now=102.0) == []  # held by the lease
    spool.release([claimed[1].id])
    assert [s.id for s in spool.claim(10, now=102.0)] == [claimed[1].id]
    assert [s.id for s in spool.claim(10, lease_s=60, now=200.0)] == [claimed[0].id, claimed[1].id]  # leases ran out
    spool.remove([s.id for s in claimed])
    assert spool.pending() == 0
    spool.close()


def test_processes_sharing_the_file_never_claim_the_same_row(tmp_path) -> None:
    path = tmp_path / "spool.sqlite3"
    Spool(path).append([(f'{{"n": {n}}}', None) for n in range(2000)])
    claims: list = []

    def claimer() -> None:
        spool = Spool(path)  # a connection of its own, as another process has
        while batch := spool.claim(37):
            claims.extend(s.id for s in batch)
        spool.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claims) == sorted(set(claims)) and len(claims) == 2000


def test_purge_deletes_old_rows_sent_or_not(tmp_path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.append([("old", None)], now=1000.0)
    spool.append([("new", None)], now=5000.0)
    assert spool.purge(created_before=2000.0) == 1
    assert [s.body for s in spool.claim(10, now=6000.0)] == ["new"]


def test_the_spool_path(tmp_path) -> None:
    assert spool_path(None, {}).name == "events-spool.sqlite3"
    assert spool_path(None, {"TALENTBOT_EVENTS_SPOOL": str(tmp_path / "s.db")}) == tmp_path / "s.db"
    assert spool_path(str(tmp_path / "x.db"), {"TALENTBOT_EVENTS_SPOOL": "ignored"}) == tmp_path / "x.db"


def test_a_look_at_an_empty_spool_waits_for_no_writer(tmp_path) -> None:
    """An idle sender or consumer looks often; that look is a read, so it neither waits for another process's write
    lock (here held open) nor holds up the Rasa server's appends."""
    import sqlite3
    import time

    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    writer = sqlite3.connect(str(path), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert spool.claim(10) == []
        assert time.monotonic() - started < 1.0  # not BUSY_TIMEOUT_S
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    spool.close()
