"""Customer-service windows: when a platform still accepts a message to a user."""
from __future__ import annotations

from typing import Optional

import pytest

from connectors.window import last_inbound, record_inbound, window_open

HOUR = 3600.0


@pytest.mark.parametrize(
    "last, now, window, is_open",
    [
        (0.0, 47 * HOUR, 48 * HOUR, True),
        (0.0, 48 * HOUR, 48 * HOUR, False),
        (0.0, 49 * HOUR, 48 * HOUR, False),
        (None, 1.0, 48 * HOUR, False),  # never wrote: no window
        (None, 1.0, None, True),  # a channel without a window (Telegram)
        (10.0, 5.0, 24 * HOUR, False),  # a time in the future is not trusted
    ],
)
def test_window_open(last: Optional[float], now: float, window: Optional[float], is_open: bool) -> None:
    assert window_open(last, now, window) is is_open


async def test_last_inbound_is_recorded_per_conversation(sqlite_store) -> None:
    await record_inbound(sqlite_store, "wechat:o1", 48 * HOUR, now=1000.0)
    assert await last_inbound(sqlite_store, "wechat:o1") == 1000.0
    assert await last_inbound(sqlite_store, "wechat:o2") is None
