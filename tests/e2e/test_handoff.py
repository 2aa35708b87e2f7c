"""The human queue end to end with the real servers: a REST user asks for a person, the ticket waits with the
assistant paused, staff work it through the console's JSON API, and resolving (or the user cancelling) hands the
conversation back to the assistant."""

from __future__ import annotations

import re
import uuid
from typing import Dict, Tuple

import httpx
import pytest

from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.handoff_cli import add_staff

pytestmark = pytest.mark.server

PASSWORD = "correct horse battery staple"


def sender() -> str:
    return f"handoff-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def staff(bot) -> Dict[str, str]:
    """Two agents in the queue database the running servers share."""
    names = {"agent": f"amy{uuid.uuid4().hex[:6]}", "other": f"ben{uuid.uuid4().hex[:6]}"}
    for name in names.values():
        add_staff(name, "agent", PASSWORD, url=bot.running.handoff_db_url, rounds=4)
    return names


def login(bot, username: str) -> Tuple[httpx.Client, Dict[str, str]]:
    client = httpx.Client(base_url=bot.running.console_url, timeout=30)
    answer = client.post("/api/login", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    return client, {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}


def ticket_of(client: httpx.Client, conversation_id: str, status: str = "waiting") -> Dict:
    [ticket] = [t for t in client.get("/api/tickets", params={"status": status}).json()
                if t["conversation_id"] == conversation_id]
    return ticket


def texts(replies) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


def test_a_person_is_asked_for_staff_answer_and_resolve(bot, staff) -> None:
    user = sender()
    bot.send(user, "what is the top talent pass?")
    queued = texts(bot.send(user, "can I talk to a real person please"))
    assert re.search(r"number \d+ in the queue", queued), queued
    assert bot.tracker(user)["paused"] is True

    waiting = texts(bot.send(user, "It's about my QMAS points, it's complicated"))
    assert re.search(r"added that to your enquiry\. You are number \d+", waiting)

    agent, csrf = login(bot, staff["agent"])
    ticket = ticket_of(agent, user)
    assert (ticket["channel"], ticket["language"], ticket["reason"]) == ("rest", "en", "requested")
    detail = agent.get(f"/api/tickets/{ticket['id']}").json()
    said = [(turn["sender"], turn["text"]) for turn in detail["transcript"]]
    assert ("user", "what is the top talent pass?") in said
    assert any(sender_ == "bot" and "queue" in text for sender_, text in said)  # the bot's turns are there too
    assert [m["text"] for m in detail["messages"]] == ["It's about my QMAS points, it's complicated"]
    assert "TTPS" in detail["schemes"]

    assert agent.post(f"/api/tickets/{ticket['id']}/claim", headers=csrf).status_code == 200
    other, other_csrf = login(bot, staff["other"])
    assert other.post(f"/api/tickets/{ticket['id']}/claim", headers=other_csrf).status_code == 409

    assert bot.send(user, "are you there?") == []  # staff are talking now: no automatic reply
    reply = agent.post(f"/api/tickets/{ticket['id']}/messages", headers=csrf, json={"text": "Hello, I'm Amy."})
    assert reply.status_code == 502 and "REST" in reply.json()["error"]  # kept on the ticket, flagged undelivered
    assert reply.json()["message"]["delivered"] is False

    assert agent.post(f"/api/tickets/{ticket['id']}/resolve", headers=csrf).status_code == 200
    assert bot.tracker(user)["paused"] is False
    answer = texts(bot.send(user, "how long does QMAS take to process?"))
    assert "queue" not in answer and answer  # the assistant answers again
    assert bot.tracker(user)["latest_message"]["intent"]["name"] != "nlu_fallback"


def test_a_waiting_user_cancels_in_cantonese_and_is_back_with_the_assistant(bot, staff) -> None:
    user = sender()
    queued = texts(bot.send(user, "我想搵真人職員"))
    assert re.search(r"排第 \d+ 位", queued), queued
    cancelled = texts(bot.send(user, "唔使喇"))
    assert "取消" in cancelled
    agent, _ = login(bot, staff["agent"])
    assert all(t["conversation_id"] != user for t in agent.get("/api/tickets", params={"status": "waiting"}).json())
    assert bot.tracker(user)["paused"] is False
    answer = texts(bot.send(user, "高才通係咩嚟㗎？"))
    assert "高才通" in answer or "TTPS" in answer


def test_the_console_needs_a_session(bot) -> None:
    with httpx.Client(base_url=bot.running.console_url, timeout=10) as anonymous:
        assert anonymous.get("/api/tickets", params={"status": "waiting"}).status_code == 401
        assert anonymous.post("/api/login", json={"username": "nobody", "password": "x" * 20}).status_code == 401


def test_a_handoff_survives_a_restart_of_every_process(bot, tmp_path) -> None:
    """Stop the Rasa server, the action server and the console while a user waits; after they start again the
    ticket, the user's message and the pause are all there, and staff finish the handoff as usual."""
    from talentbot.wiring.devserver import assistant
    from talentbot.wiring.training import model_path

    Client, model, credentials = type(bot), model_path(), {"connectors.rest.RestInput": None}
    endpoints = {"tracker_store": sqlite_endpoint(tmp_path / "trackers.db")}
    user = sender()
    with assistant(model, tmp_path, endpoints, credentials) as running:
        before = Client(running)
        assert "queue" in texts(before.send(user, "I need to speak to a human"))
        before.send(user, "My GEP extension was refused, what now?")
    with assistant(model, tmp_path, endpoints, credentials) as running:
        after = Client(running)
        add_staff("carol", "supervisor", PASSWORD, url=running.handoff_db_url, rounds=4)
        assert after.tracker(user)["paused"] is True
        assert "number 1" in texts(after.send(user, "hello? still there?"))
        supervisor, csrf = login(after, "carol")
        ticket = ticket_of(supervisor, user)
        detail = supervisor.get(f"/api/tickets/{ticket['id']}").json()
        assert [m["text"] for m in detail["messages"]] == ["My GEP extension was refused, what now?",
                                                            "hello? still there?"]
        assert supervisor.post(f"/api/tickets/{ticket['id']}/resolve", headers=csrf).status_code == 200
        assert "queue" not in texts(after.send(user, "what is GEP?"))
