"""The channel state store's part in `talentbot privacy`: finding, exporting and deleting the keys about one user,
and keeping no key beyond the retention. On SQLite and on the shared Redis (a database number and a key prefix of
these tests' own, removed afterwards)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import redis

from connectors.output import remember_language
from connectors.state import Purged, RedisStateStore, SQLiteStateStore, is_user_key
from connectors.window import record_inbound

REDIS_DB_URL = "redis://127.0.0.1:6379/12"
"""Not 0 (the other connector tests) nor 1 (`talentbot run --production`'s channel state)."""
DAY = 24 * 3600.0
USER = "wechat:oAbCdEf123456"
OTHER = "wechat:oAbCdEf1234567"  # an id that starts like USER's


@pytest.fixture
async def sqlite_state(tmp_path: Path):
    store = SQLiteStateStore(tmp_path / "connectors-state.sqlite3")
    yield store
    await store.close()


@pytest.fixture
async def redis_state():
    client = redis.Redis.from_url(REDIS_DB_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"talentbot-privacy-test:{uuid.uuid4().hex}:"
    store = RedisStateStore(REDIS_DB_URL, prefix=prefix)
    yield store
    await store.close()
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["sqlite", "redis"])
def state(request: pytest.FixtureRequest):
    return request.getfixturevalue(f"{request.param}_state")


async def _write_what_the_channels_write(state, sender_id: str) -> set[str]:
    """The keys the channels keep about a user (connectors/output.py, window.py, wechat/channel.py, the WeChat
    event dedup of connectors/platform.py), written as they write them; returns their names."""
    await remember_language(state, sender_id, "zh-Hant")
    await record_inbound(state, sender_id, 48 * 3600)
    await state.put(f"choices:{sender_id}", '["/ask_scheme_info"]', ttl_s=DAY)
    await state.put(f"hint:{sender_id}", "zh-Hans", ttl_s=30 * DAY)
    native = sender_id.partition(":")[2]
    await state.claim(f"wechat:event:{native}:1764489600", DAY)
    await state.claim(f"wechat:event:{native}:1764489600:pending", 120)
    return {f"lang:{sender_id}", f"window:{sender_id}", f"choices:{sender_id}", f"hint:{sender_id}",
            f"wechat:event:{native}:1764489600", f"wechat:event:{native}:1764489600:pending"}


async def _write_keys_of_no_user(state) -> None:
    await state.claim("wechat:msg:24681357", DAY)  # message ids, update ids, tokens name no user
    await state.claim("telegram:123456789", DAY)
    await state.put("wechat:token:wx123", "ACCESS_TOKEN", ttl_s=7000)


@pytest.mark.parametrize("key, expected", [
    (f"lang:{USER}", True), (f"window:{USER}", True), (f"wechat:event:{USER[7:]}:1764489600:pending", True),
    (f"lang:{OTHER}", False), (f"wechat:event:{OTHER[7:]}:1764489600", False), ("wechat:msg:1", False),
    ("telegram:12345", False), (f"x{USER}", False),
])
def test_the_keys_about_a_user_are_told_from_the_others(key: str, expected: bool) -> None:
    assert is_user_key(key, USER) is expected


async def test_a_users_keys_are_found_exported_and_deleted_and_no_one_elses(state) -> None:
    mine = await _write_what_the_channels_write(state, USER)
    theirs = await _write_what_the_channels_write(state, OTHER)
    await _write_keys_of_no_user(state)

    held = await state.user_keys(USER)
    assert {k.key for k in held} == mine
    language = next(k for k in held if k.key == f"lang:{USER}")
    assert language.value == "zh-Hant" and language.expires_at == pytest.approx(time.time() + 30 * DAY, abs=60)

    assert await state.forget_user(USER) == len(mine)
    assert await state.user_keys(USER) == []
    assert [await state.get(key) for key in sorted(mine)] == [None] * len(mine)
    assert {k.key for k in await state.user_keys(OTHER)} == theirs  # the look-alike id keeps its keys
    assert await state.get("wechat:token:wx123") == "ACCESS_TOKEN"
    assert await state.forget_user(USER) == 0


async def test_ids_with_glob_and_like_characters_match_only_themselves(state) -> None:
    odd = "rest:a*b?c[d]e%f_g\\h"
    await state.put(f"lang:{odd}", "en", ttl_s=DAY)
    await state.put("lang:rest:aXbYc[d]e%fZg\\h", "en", ttl_s=DAY)
    assert [k.key for k in await state.user_keys(odd)] == [f"lang:{odd}"]
    assert await state.forget_user(odd) == 1
    assert await state.get("lang:rest:aXbYc[d]e%fZg\\h") == "en"


async def test_no_key_outlives_the_retention(state) -> None:
    await state.put("forever", "1")  # no expiry
    await state.put(f"lang:{USER}", "en", ttl_s=30 * DAY)
    purged = await state.purge(7 * DAY)  # a retention shorter than the keys' own lifetimes
    assert purged.capped == 2
    expiries = {k.key: k.expires_at for k in await state.user_keys(USER)}
    assert expiries[f"lang:{USER}"] == pytest.approx(time.time() + 7 * DAY, abs=60)
    assert await state.purge(7 * DAY) == Purged(expired=0, capped=0)  # idempotent
    assert await state.purge(180 * DAY) == Purged(expired=0, capped=0)  # a longer retention lengthens nothing


async def test_sqlite_deletes_expired_keys_and_overwrites_what_it_deletes(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = tmp_path / "connectors-state.sqlite3"
    store = SQLiteStateStore(path, clock=lambda: now[0])
    try:
        await store.put("window:telegram:1", "1", ttl_s=10)
        await store.put(f"lang:{USER}", "zh-Hant", ttl_s=DAY)
        now[0] += 11
        assert await store.purge(180 * DAY) == Purged(expired=1, capped=0)
        assert await store.forget_user(USER) == 1
    finally:
        await store.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))
    assert USER.encode() not in on_disk  # not in free pages, nor in the write-ahead log
