"""A Telegram user handed off to staff, with the real Rasa server, action server and staff console: the real
python-telegram-bot client talks to a local fake Bot API, so a staff reply is seen arriving as Telegram's
sendMessage to the user's chat."""
from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import httpx
import pytest

from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import assistant
from talentbot.wiring.handoff_cli import add_staff
from talentbot.wiring.training import model_path

pytestmark = pytest.mark.server

TOKEN, SECRET = "7000001:AAtest", "webhook-s3cret"
PASSWORD = "correct horse battery staple"


def update(update_id: int, text: str, chat_id: int) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1764064800, "chat": {"id": chat_id, "type": "private"}, "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}}}


async def test_a_staff_reply_reaches_the_users_telegram_chat(telegram_api, tmp_path) -> None:
    if not model_path().exists():
        pytest.fail("no trained model: run `make train` (make test does it before the server tests)")
    env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET,
           "TELEGRAM_API_BASE_URL": telegram_api.url,
           "CONNECTORS_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}"}
    endpoints = {"tracker_store": sqlite_endpoint(tmp_path / "trackers.db")}
    servers = contextlib.ExitStack()
    # started in a thread: the fake Bot API runs on this test's event loop and must keep answering meanwhile
    running = await asyncio.to_thread(servers.enter_context, assistant(model_path(), tmp_path, endpoints, env=env))
    chat = 5550000 + uuid.uuid4().int % 10000
    webhook = f"{running.url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    def sent() -> list:
        return [r.form()["text"] for r in telegram_api.to("sendMessage") if r.form().get("chat_id") == str(chat)]

    async def wait_for(fragment: str) -> str:
        for _ in range(200):
            found = [text for text in sent() if fragment in text]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"{fragment!r} never sent to the chat; sent: {sent()}")

    try:
        async with httpx.AsyncClient(timeout=60) as http:
            assert (await http.post(webhook, json=update(1, "I want to talk to a person", chat),
                                    headers=headers)).status_code == 200
            await wait_for("in the queue")

            username = f"dan{uuid.uuid4().hex[:6]}"
            await asyncio.to_thread(add_staff, username, "agent", PASSWORD, running.handoff_db_url, 4)
            assert running.console_url is not None  # started with the handoff console
            console = httpx.AsyncClient(base_url=running.console_url, timeout=60)
            async with console:
                (await console.post("/api/login", json={"username": username, "password": PASSWORD})).raise_for_status()
                csrf = {"X-CSRF-Token": (await console.get("/api/me")).json()["csrf_token"]}
                [ticket] = [t for t in (await console.get("/api/tickets", params={"status": "waiting"})).json()
                            if t["conversation_id"] == f"telegram:{chat}"]
                assert ticket["channel"] == "telegram"
                (await console.post(f"/api/tickets/{ticket['id']}/claim", headers=csrf)).raise_for_status()
                reply = await console.post(f"/api/tickets/{ticket['id']}/messages", headers=csrf,
                                           json={"text": "Hi Ann, Dan from the Talent Service Window here."})
                assert reply.status_code == 201 and reply.json()["delivered"] is True
                await wait_for("Dan from the Talent Service Window")
                (await console.post(f"/api/tickets/{ticket['id']}/resolve", headers=csrf)).raise_for_status()
                await wait_for("You're back with the assistant")

            before = len(sent())
            assert (await http.post(webhook, json=update(2, "what is the top talent pass?", chat),
                                    headers=headers)).status_code == 200
            for _ in range(200):
                if len(sent()) > before:
                    break
                await asyncio.sleep(0.05)
            assert "TTPS" in " ".join(sent()[before:])
    finally:
        await asyncio.to_thread(servers.close)
