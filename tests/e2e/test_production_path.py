"""The scale-out set-up for real: PostgreSQL tracker store, Redis lock store, two Sanic workers."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import sqlalchemy

from talentbot.bench.procs import tree_rss_mb
from talentbot.language import ZH_HANS, detect

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
