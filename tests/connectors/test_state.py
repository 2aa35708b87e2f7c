"""Every StateStore implementation (embedded SQLite, Redis) keeps the same promises."""
from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from connectors.state import RedisStateStore, SQLiteStateStore, open_state_store


async def test_claim_is_true_once_then_false(any_store) -> None:
    assert await any_store.claim("wechat:msg:1", ttl_s=60) is True
    assert await any_store.claim("wechat:msg:1", ttl_s=60) is False
    assert await any_store.claim("wechat:msg:2", ttl_s=60) is True


async def test_concurrent_claims_have_one_winner(any_store) -> None:
    results = await asyncio.gather(*(any_store.claim("telegram:update:9", ttl_s=60) for _ in range(10)))
    assert results.count(True) == 1


async def test_put_get_replace_delete(any_store) -> None:
    assert await any_store.get("k") is None
    await any_store.put("k", "v1")
    await any_store.put("k", "高才通")
    assert await any_store.get("k") == "高才通"
    await any_store.delete("k")
    assert await any_store.get("k") is None


async def test_pop_returns_the_value_once(any_store) -> None:
    await any_store.put("choices:wechat:o1", '["/greet"]', ttl_s=60)
    assert await any_store.pop("choices:wechat:o1") == '["/greet"]'
    assert await any_store.pop("choices:wechat:o1") is None


async def test_values_expire_after_their_ttl(any_store) -> None:
    await any_store.put("token", "t", ttl_s=0.2)
    assert await any_store.claim("seen", ttl_s=0.2) is True
    await asyncio.sleep(0.35)
    assert await any_store.get("token") is None
    assert await any_store.claim("seen", ttl_s=0.2) is True  # a dedup key is forgotten after its ttl


async def test_sqlite_is_shared_by_two_stores_on_one_file(tmp_path: Path) -> None:
    """Two processes (here two store objects) on the same file see one state: dedup works across workers."""
    first, second = SQLiteStateStore(tmp_path / "s.db"), SQLiteStateStore(tmp_path / "s.db")
    assert await first.claim("wechat:msg:7", ttl_s=60) is True
    assert await second.claim("wechat:msg:7", ttl_s=60) is False
    await first.put("wechat:token:app", "abc")
    assert await second.get("wechat:token:app") == "abc"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def keys_in_file(path: Path) -> set[str]:
    """Every key in the file, expired or not, read as another process would."""
    with sqlite3.connect(path) as conn:
        return {key for (key,) in conn.execute("SELECT key FROM kv")}


def lock_file(path: Path) -> sqlite3.Connection:
    """Another process taking the file's write lock (released by COMMIT)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_sqlite_call_waiting_for_another_process_lock_leaves_the_event_loop_free(
    sqlite_store, tmp_path: Path
) -> None:
    """A write queued behind another process's lock waits off the loop: other chats keep being served meanwhile."""
    await sqlite_store.put("warm", "up")
    other = lock_file(tmp_path / "state.sqlite3")
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    put = asyncio.create_task(sqlite_store.put("k", "v"))
    try:
        await asyncio.sleep(0.3)
        assert not put.done()  # still waiting for the lock...
        assert ticks >= 5  # ...while the loop ran the heartbeat (about 30 ticks; 0 if the wait blocked it)
        other.execute("COMMIT")
        await asyncio.wait_for(put, timeout=5)
    finally:
        beat.cancel()
        other.close()
    assert await sqlite_store.get("k") == "v"


async def test_sqlite_get_does_not_wait_for_another_process_writer(sqlite_store, tmp_path: Path) -> None:
    await sqlite_store.put("wechat:token:app", "abc")
    other = lock_file(tmp_path / "state.sqlite3")
    try:
        assert await asyncio.wait_for(sqlite_store.get("wechat:token:app"), timeout=1) == "abc"
    finally:
        other.close()


async def test_sqlite_expired_keys_are_never_returned_even_before_the_purge(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteStateStore(tmp_path / "s.db", clock=clock, purge_every_s=3600)
    await store.put("token", "t", ttl_s=10)
    await store.put("choices", '["/greet"]', ttl_s=10)
    assert await store.claim("seen", ttl_s=10) is True
    clock.now += 10  # the ttl ends exactly now: expired
    assert await store.get("token") is None
    assert await store.pop("choices") is None
    assert keys_in_file(tmp_path / "s.db") == {"token", "choices", "seen"}  # no purge has run: the queries skip them
    assert await store.claim("seen", ttl_s=10) is True  # an expired dedup key is claimed again, with a fresh ttl
    clock.now += 9
    assert await store.claim("seen", ttl_s=10) is False
    await store.close()


async def test_sqlite_purges_expired_keys_at_most_once_per_interval(tmp_path: Path) -> None:
    clock = Clock(0.0)
    store = SQLiteStateStore(tmp_path / "s.db", clock=clock, purge_every_s=60)
    await store.put("a", "1", ttl_s=1)  # the first write purges (nothing yet)
    await store.put("b", "1", ttl_s=1)
    clock.now = 59
    await store.put("c", "1")
    assert keys_in_file(tmp_path / "s.db") == {"a", "b", "c"}  # expired, but the next purge is not due
    clock.now = 60
    await store.delete("nothing")
    assert keys_in_file(tmp_path / "s.db") == {"c"}
    await store.close()


async def test_sqlite_first_write_of_a_process_purges_what_earlier_runs_left(tmp_path: Path) -> None:
    clock = Clock(0.0)
    earlier = SQLiteStateStore(tmp_path / "s.db", clock=clock)
    await earlier.put("old", "1", ttl_s=1)
    await earlier.close()
    clock.now = 5
    later = SQLiteStateStore(tmp_path / "s.db", clock=clock)
    await later.put("new", "1")
    assert keys_in_file(tmp_path / "s.db") == {"new"}
    await later.close()


async def test_sqlite_reuses_one_connection_and_reopens_after_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def counting_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    store = SQLiteStateStore(tmp_path / "s.db")
    for n in range(5):
        await store.put(f"k{n}", "v")
        assert await store.get(f"k{n}") == "v"
    assert len(opened) == 1
    await store.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        opened[0].execute("SELECT 1")
    assert await store.get("k0") == "v"  # a call after close opens a new connection
    assert len(opened) == 2
    await store.close()


async def test_sqlite_in_memory_keeps_one_database_across_calls() -> None:
    store = SQLiteStateStore(":memory:")
    assert await store.claim("wechat:msg:1", ttl_s=60) is True
    assert await store.claim("wechat:msg:1", ttl_s=60) is False
    await store.put("k", "v")
    assert await store.pop("k") == "v"
    await store.close()


def _use_after_fork(store: SQLiteStateStore) -> None:
    """In the child: the store inherited from the parent still answers (on a thread and connection of its own)."""
    assert asyncio.run(asyncio.wait_for(store.get("k"), timeout=5)) == "v"
    asyncio.run(store.put("k", "child"))
    asyncio.run(store.close())


def test_sqlite_store_keeps_working_in_a_forked_child(tmp_path: Path) -> None:
    """A store used before a fork (e.g. by a server's parent process) works in the child instead of waiting forever
    on the parent's worker thread, which the child does not have."""
    store = SQLiteStateStore(tmp_path / "s.db")
    asyncio.run(store.put("k", "v"))
    child = multiprocessing.get_context("fork").Process(target=_use_after_fork, args=(store,))
    child.start()
    child.join(timeout=15)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("the forked child hung on the store")
    assert child.exitcode == 0
    assert asyncio.run(store.get("k")) == "child"
    asyncio.run(store.close())


async def test_redis_stores_with_different_prefixes_do_not_share(redis_store) -> None:
    other = RedisStateStore("redis://127.0.0.1:6379/0", prefix=redis_store._prefix + "other:")
    try:
        await redis_store.put("k", "mine")
        assert await other.get("k") is None
    finally:
        await other.delete("k")
        await other.close()


@pytest.mark.parametrize(
    "url, kind",
    [
        ("", SQLiteStateStore),
        ("sqlite:///{tmp}/x.db", SQLiteStateStore),
        ("redis://127.0.0.1:6379/0", RedisStateStore),
    ],
)
def test_open_state_store_from_environment(
    url: str, kind: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default SQLite file is relative to the working directory
    store = open_state_store({"CONNECTORS_STATE_URL": url.format(tmp=tmp_path)})
    assert isinstance(store, kind)


def test_open_state_store_refuses_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="CONNECTORS_STATE_URL"):
        open_state_store({"CONNECTORS_STATE_URL": "memcached://x"})
