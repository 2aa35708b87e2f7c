"""Conversation ids are namespaced by channel."""
from __future__ import annotations

import pytest

from connectors.senders import channel_of, namespaced, native_id


@pytest.mark.parametrize(
    "channel, native, sender_id",
    [
        ("wechat", "oABC-123_x", "wechat:oABC-123_x"),
        ("telegram", 42, "telegram:42"),
        ("telegram", -1001234, "telegram:-1001234"),
        ("whatsapp", "85291234567", "whatsapp:85291234567"),
    ],
)
def test_round_trip(channel: str, native: object, sender_id: str) -> None:
    assert namespaced(channel, native) == sender_id
    assert native_id(channel, sender_id) == str(native)
    assert channel_of(sender_id) == channel


def test_same_native_id_on_two_channels_gives_two_conversations() -> None:
    assert namespaced("telegram", "12345") != namespaced("whatsapp", "12345")


@pytest.mark.parametrize("sender_id", ["whatsapp:123", "123", "telegram:", "telegramx:1"])
def test_native_id_refuses_ids_of_other_channels(sender_id: str) -> None:
    with pytest.raises(ValueError):
        native_id("telegram", sender_id)


def test_empty_native_id_is_refused() -> None:
    with pytest.raises(ValueError):
        namespaced("wechat", "")
