"""Staff reply → user: how long from a member of staff posting a reply in the console until the user's web page
(socket.io) receives it, through the real console, Rasa server and channel (issue 6: p95 under 1 s)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Dict, List

import httpx

from talentbot.core.handoff.store import SqlTicketStore
from talentbot.wiring.handoff_cli import add_staff
from tools.bench.load import percentile
from tools.bench.socketio_client import SocketIOClient

PASSWORD = "bench-password-not-secret"
WAIT_S = 15.0


async def _next_bot_text(client: SocketIOClient) -> str:
    while True:
        name, data = await client.event(timeout_s=WAIT_S)
        if name == "bot_uttered":
            return str(data.get("text", ""))


async def _user_in_queue(rasa_url: str, handoff_db_url: str) -> tuple[SocketIOClient, int]:
    """A web user who asked for a person (their page open), and their ticket."""
    client = await SocketIOClient.connect(rasa_url)
    session = await client.session()
    await client.emit("user_uttered", {"message": "I want to talk to a person", "session_id": session})
    while "queue" not in await _next_bot_text(client):
        pass
    store = SqlTicketStore.from_url(handoff_db_url)
    try:
        ticket = store.open_ticket_for(session)
    finally:
        store.close()
    if ticket is None:
        raise RuntimeError("asking for a person opened no ticket")
    return client, ticket.id


async def measure(rasa_url: str, console_url: str, handoff_db_url: str, users: int = 5,
                  replies_per_user: int = 8) -> Dict:
    """`users` conversations handed off, each claimed and sent `replies_per_user` replies one after another."""
    username = f"bench{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(add_staff, username, "agent", PASSWORD, handoff_db_url, 4)
    latencies: List[float] = []
    undelivered = 0
    async with httpx.AsyncClient(base_url=console_url, timeout=WAIT_S) as staff:
        (await staff.post("/api/login", json={"username": username, "password": PASSWORD})).raise_for_status()
        csrf = {"X-CSRF-Token": (await staff.get("/api/me")).json()["csrf_token"]}
        for _ in range(users):
            client, ticket_id = await _user_in_queue(rasa_url, handoff_db_url)
            try:
                (await staff.post(f"/api/tickets/{ticket_id}/claim", headers=csrf)).raise_for_status()
                for number in range(replies_per_user):
                    text = f"Reply {number} from staff, 第{number}次回覆"
                    start = time.perf_counter()
                    posted = await staff.post(f"/api/tickets/{ticket_id}/messages", headers=csrf, json={"text": text})
                    if posted.status_code != 201:
                        undelivered += 1
                        continue
                    while await _next_bot_text(client) != text:
                        pass
                    latencies.append((time.perf_counter() - start) * 1000)
                await staff.post(f"/api/tickets/{ticket_id}/resolve", headers=csrf)
            finally:
                await client.close()
    ordered = sorted(latencies)
    return {
        "replies": len(latencies), "undelivered": undelivered,
        "p50_ms": round(percentile(ordered, 50), 1) if ordered else None,
        "p95_ms": round(percentile(ordered, 95), 1) if ordered else None,
        "max_ms": round(ordered[-1], 1) if ordered else None,
    }
