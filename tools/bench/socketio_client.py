"""A minimal Socket.IO v5 client over a plain websocket, as the chat page speaks it (no polling, default namespace).

Used by the benchmark and the tests to be a web user; python-socketio's own client would pull in another HTTP stack.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets


class SocketIOClient:
    """Open, connect, emit and receive events; answers the server's pings."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, base_url: str) -> "SocketIOClient":
        ws = await websockets.connect(base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
        client = cls(ws)
        if not (await ws.recv()).startswith("0{"):  # Engine.IO open
            raise ConnectionError("not an Engine.IO v4 server")
        await ws.send("40")
        if not (await ws.recv()).startswith("40"):  # Socket.IO connect to "/"
            raise ConnectionError("Socket.IO connect refused")
        return client

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def event(self, timeout_s: float = 5.0) -> list:
        """The next event as [name, data]; raises asyncio.TimeoutError when none comes in time (pings answered
        meanwhile do not extend the wait)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise asyncio.TimeoutError
            packet = await asyncio.wait_for(self.ws.recv(), remaining)
            if packet == "2":
                await self.ws.send("3")
            elif packet.startswith("42"):
                return json.loads(packet[2:])

    async def session(self, session_id: Any = None) -> str:
        await self.emit("session_request", {"session_id": session_id})
        name, confirmed = await self.event()
        if name != "session_confirm":
            raise ConnectionError(f"expected session_confirm, got {name}")
        return confirmed

    async def close(self) -> None:
        await self.ws.close()
