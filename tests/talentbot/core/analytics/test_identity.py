"""The keyed hashes naming conversations and events, and where their salt comes from."""

from __future__ import annotations

import stat

import pytest

from talentbot.core.analytics.identity import SALT_VARIABLE, SaltMissing, conversation_key, event_key, salt_from


def test_keys_are_stable_keyed_and_reveal_nothing() -> None:
    salt = b"k" * 32
    assert conversation_key("telegram:1", salt) == conversation_key("telegram:1", salt)
    assert conversation_key("telegram:1", salt) != conversation_key("telegram:1", b"j" * 32)
    assert conversation_key("telegram:1", salt) != conversation_key("telegram:2", salt)
    assert event_key("a", "user", 1.5, salt) == event_key("a", "user", float("1.5"), salt)
    assert event_key("a", "user", 1.5, salt) != event_key("a", "bot", 1.5, salt)
    assert event_key("a", "user", 1796109186.5326767, salt) != event_key("a", "user", 1796109186.5326769, salt)
    assert "telegram" not in conversation_key("telegram:1", salt) and len(conversation_key("x", salt)) == 64


def test_production_refuses_to_run_without_a_salt(tmp_path) -> None:
    with pytest.raises(SaltMissing, match=SALT_VARIABLE):
        salt_from({}, production=True, salt_file=tmp_path / "salt")
    with pytest.raises(SaltMissing, match="shorter"):
        salt_from({SALT_VARIABLE: "short"}, production=True)
    assert salt_from({SALT_VARIABLE: "s" * 20}, production=True) == b"s" * 20
    assert not (tmp_path / "salt").exists()


def test_the_embedded_set_up_keeps_a_generated_salt_for_its_owner_only(tmp_path) -> None:
    path = tmp_path / "var" / "analytics-salt"
    first = salt_from({}, production=False, salt_file=path)
    assert salt_from({}, production=False, salt_file=path) == first and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
