"""Customer-service windows: platforms accept free-form messages only for a while after the user's last message."""
from __future__ import annotations

import time
from typing import Optional

from connectors.state import StateStore


class ServiceWindowClosed(RuntimeError):
    """The platform no longer accepts a free-form message to this user (WeChat 45015, WhatsApp 131047).

    The staff console shows this instead of pretending a reply was delivered."""


def window_open(last_inbound_at: Optional[float], now: float, window_s: Optional[float]) -> bool:
    """Whether a message may still be sent: always when the channel has no window (``window_s`` None),
    never when the user's last message is unknown, else while ``now`` is within the window."""
    if window_s is None:
        return True
    if last_inbound_at is None:
        return False
    return 0 <= now - last_inbound_at < window_s


def _key(sender_id: str) -> str:
    return f"window:{sender_id}"


async def record_inbound(state: StateStore, sender_id: str, window_s: float, now: Optional[float] = None) -> None:
    """Remember when the user last wrote (kept as long as the window lasts)."""
    at = time.time() if now is None else now
    await state.put(_key(sender_id), repr(at), ttl_s=window_s)


async def last_inbound(state: StateStore, sender_id: str) -> Optional[float]:
    """When the user last wrote, if still within the window's lifetime."""
    raw = await state.get(_key(sender_id))
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
