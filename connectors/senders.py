"""Conversation ids namespaced by channel, so a WeChat openid can never collide with a Telegram chat id."""
from __future__ import annotations

import re
from typing import Optional

from connectors import registry

SEPARATOR = ":"

WEB = "web"
"""The web page's namespace (its socket.io channel and REST fallback share it)."""

WEB_SESSION_ID = re.compile(rf"{WEB}:[0-9a-f]{{32}}")
"""The web page's conversation ids (connectors/webchat.py hands them out): unguessable, whichever transport (socket.io
or its REST fallback) carried the message."""


def namespaced(channel: str, native_id: str | int) -> str:
    """The Rasa sender id of a platform user: ``wechat:<openid>``, ``telegram:<chat_id>``, ``whatsapp:<wa_id>``."""
    native = str(native_id)
    if not native:
        raise ValueError(f"empty {channel} user id")
    return f"{channel}{SEPARATOR}{native}"


def native_id(channel: str, sender_id: str) -> str:
    """The platform's own id inside a namespaced sender id; refuses an id of another channel."""
    prefix = channel + SEPARATOR
    if not sender_id.startswith(prefix) or len(sender_id) == len(prefix):
        raise ValueError(f"{sender_id!r} is not a {channel} conversation id")
    return sender_id[len(prefix):]


def channel_of(sender_id: str) -> str:
    """The channel name a namespaced sender id belongs to."""
    channel, sep, rest = sender_id.partition(SEPARATOR)
    if not sep or not channel or not rest:
        raise ValueError(f"{sender_id!r} is not a namespaced conversation id")
    return channel


def claimed_channel(sender_id: str) -> Optional[str]:
    """The channel whose namespace a client-chosen sender id claims, or None when it claims none.

    A REST client chooses its own sender id; ``telegram:42`` or ``whatsapp:<phone>`` would let it write into, cancel
    the queue ticket of, and read the replies to another channel's user. Every channel of the registry is reserved
    (in any letter case, so the console never shows a look-alike), and ``web:`` is allowed only as one of the page's
    own unguessable session ids (its REST fallback).
    """
    prefix, separator, _ = sender_id.partition(SEPARATOR)
    if not separator:
        return None
    name = prefix.strip().casefold()
    if name == WEB:
        return None if WEB_SESSION_ID.fullmatch(sender_id) else WEB
    return name if name in registry.CHANNELS else None
