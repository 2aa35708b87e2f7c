"""Every StateStore implementation (embedded SQLite, Redis) keeps the same promises."""
from __future__ import annotations

import asyncio
from pathlib import Path

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
