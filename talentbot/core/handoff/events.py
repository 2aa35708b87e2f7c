"""Wake-ups for the console's server-sent event streams when this process changes the queue.

Other processes (the action server relaying a user's message) write to the database only; the streams also poll it,
so this hub just makes this process's own changes show at once.
"""

from __future__ import annotations

import asyncio


class ChangeHub:
    """A broadcast "something changed" signal: each waiter holds the event current when it started looking."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closed = False

    def current(self) -> asyncio.Event:
        """Take this before reading the database, then `wait` on it: a change in between is not missed."""
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def close(self) -> None:
        """Ends every stream (server shutdown)."""
        self.closed = True
        self.notify()

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


def sse_frame(event: str, data: str, event_id: int | None = None) -> bytes:
    """One server-sent event; `data` must be one line (JSON is)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode("utf-8")
