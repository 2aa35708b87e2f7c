"""The scale-out set-up for real: PostgreSQL tracker store, Redis lock store, two Sanic workers."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import sqlalchemy

from talentbot.core.language import ZH_HANS, detect
from tools.bench.procs import tree_rss_mb

pytestmark = pytest.mark.server

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def test_serves_from_more_than_one_process(production_bot) -> None:
    # Sanic starts one worker process per SANIC_WORKERS under the main process.
    assert len(tree_rss_mb(production_bot.running.rasa.pid)) >= 3


def test_concurrent_conversations_are_kept_whole_in_postgresql(production_bot) -> None:
    senders = [f"prod:{uuid.uuid4().hex[:8]}" for _ in range(8)]
    turns = ["你们好", "谢谢", "再见"]

    async def conversation(client: httpx.AsyncClient, sender: str) -> list:
        replies = []
        for text in turns:
            reply = await client.post(
                f"{production_bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            reply.raise_for_status()
            replies.append(reply.json())
        return replies

    async def all_conversations():
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(conversation(client, s) for s in senders))

    for replies in asyncio.run(all_conversations()):
        assert all(r and detect(r[0]["text"], None).language == ZH_HANS for r in replies)

    engine = sqlalchemy.create_engine(f"{POSTGRES}/{production_bot.database}")
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
        ).all()
    engine.dispose()
    assert {sender: count for sender, count in rows if sender in senders} == {s: len(turns) for s in senders}


def test_handoff_and_staff_replies_work_across_workers(production_bot) -> None:
    """The queue is in PostgreSQL and socket.io emits go through Redis, so whichever Sanic worker takes a message,
    a push or the resume, the web user in the queue hears back on the socket they hold in one of them."""
    from talentbot.console.rasa_api import RasaApi
    from talentbot.core.handoff.store import SqlTicketStore
    from tools.bench.socketio_client import SocketIOClient

    running = production_bot.running
    assert running.handoff_db_url.startswith("postgresql://")

    async def next_text(client: SocketIOClient) -> str:
        while True:
            name, data = await client.event(timeout_s=15)
            if name == "bot_uttered":
                return data.get("text", "")

    async def scenario() -> None:
        client = await SocketIOClient.connect(production_bot.url)
        try:
            session = await client.session()
            await client.emit("user_uttered", {"message": "我想转人工客服", "session_id": session})
            assert "排在第" in await next_text(client)
            store = SqlTicketStore.from_url(running.handoff_db_url)
            try:
                ticket = store.open_ticket_for(session)
            finally:
                store.close()
            assert ticket is not None and ticket.language == ZH_HANS
            headers = {"Authorization": f"Bearer {running.token}"}
            for number in range(12):  # a new connection each: some land on the worker without the socket
                async with httpx.AsyncClient(timeout=30) as http:
                    pushed = await http.post(f"{production_bot.url}/webhooks/socketio/push", headers=headers,
                                             json={"recipient_id": session, "text": f"staff reply {number}"})
                assert pushed.status_code == 200
                assert await next_text(client) == f"staff reply {number}"
            store = SqlTicketStore.from_url(running.handoff_db_url)
            try:
                store.resolve(ticket.id)
            finally:
                store.close()
            api = RasaApi(production_bot.url, running.token)
            try:
                await api.resume(ticket)
            finally:
                await api.close()
            await client.emit("user_uttered", {"message": "高才通是什么？", "session_id": session})
            assert "高才通" in await next_text(client)
        finally:
            await client.close()

    asyncio.run(scenario())
