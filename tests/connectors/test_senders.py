"""Conversation ids are namespaced by channel."""
from __future__ import annotations

import pytest

from connectors.registry import CHANNELS
from connectors.senders import channel_of, claimed_channel, namespaced, native_id


@pytest.mark.parametrize(
    "channel, native, sender_id",
    [
        ("wechat", "oABC-123_x", "wechat:oABC-123_x"),
        ("telegram", 42, "telegram:42"),
        ("telegram", -1001234, "telegram:-1001234"),
        ("whatsapp", "85291234567", "whatsapp:85291234567"),
    ],
)
def test_round_trip(channel: str, native: str | int, sender_id: str) -> None:
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


@pytest.mark.parametrize(
    "sender_id, channel",
    [
        ("telegram:42", "telegram"),
        ("whatsapp:85291234567", "whatsapp"),
        ("wechat:oUser123", "wechat"),
        ("WeChat:oUser123", "wechat"),  # a look-alike in another case is refused too
        (" telegram:42", "telegram"),
        ("web:" + "0" * 32, None),  # the chat page's own session id (its REST fallback)
        ("web:abc", "web"),
        ("web:" + "A" * 32, "web"),
        ("alice", None),
        ("test:1234", None),
        ("telegramx:1", None),
        ("rest:1", None),
        (":x", None),
    ],
)
def test_a_client_chosen_id_cannot_claim_another_channels_namespace(sender_id: str, channel: object) -> None:
    assert claimed_channel(sender_id) == channel


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_registered_channel_is_reserved(channel: str) -> None:
    assert claimed_channel(namespaced(channel, "1")) == channel
