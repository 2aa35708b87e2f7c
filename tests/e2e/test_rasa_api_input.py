"""Rasa's HTTP API on the running assistant: its input under the channels' rules
(talentbot.rasa_plugins.rasa_api_input), request
bodies capped at 1 MiB (talentbot.rasa_plugins.rasa_body_limit), and the staff console's calls still served."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace
from typing import Any, Dict

import httpx
import pytest

from talentbot.console.rasa_api import RasaApi

pytestmark = pytest.mark.server

MIB = 1024 * 1024


def api(bot, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bot.running.token}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{bot.url}{path}", headers=headers, timeout=60, **kwargs)


def events_of(bot, conversation: str) -> list:
    return bot.tracker(conversation)["events"]


def test_a_message_posted_through_the_api_is_stored_without_nul_or_lone_surrogates(bot) -> None:
    conversation = f"api:{uuid.uuid4().hex[:12]}"
    answer = api(bot, "POST", f"/conversations/{conversation}/messages",
                 content=b'{"text": "hello\\u0000 the\\ud800re", "sender": "user"}')
    assert answer.status_code == 200
    assert [e["text"] for e in events_of(bot, conversation) if e["event"] == "user"] == ["hello there"]


def test_a_conversation_id_no_store_keeps_gets_400_in_rasas_format(bot) -> None:
    answer = api(bot, "POST", "/conversations/a%00b/messages", json={"text": "hi", "sender": "user"})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["status"], body["reason"], body["details"]) == ("failure", "BadRequest",
                                                                 {"parameter": "conversation_id", "in": "path"})


def test_a_message_over_the_cap_gets_413_and_is_not_parsed(bot) -> None:
    """The NLU reads at most what the channels let through; its cost per character is tested in
    tests/talentbot/rasa_plugins/nlu/test_long_messages.py and timed by the bench."""
    started = time.perf_counter()
    parsed = api(bot, "POST", "/model/parse", json={"text": ("高才通" * 3_334)[:10_000]})
    assert parsed.status_code == 413 and parsed.json()["reason"] == "PayloadTooLarge"
    assert time.perf_counter() - started < 5
    conversation = f"api:{uuid.uuid4().hex[:12]}"
    posted = api(bot, "POST", f"/conversations/{conversation}/messages", json={"text": "x" * 2_001, "sender": "user"})
    assert posted.status_code == 413
    assert [e for e in events_of(bot, conversation) if e["event"] == "user"] == []


@pytest.mark.parametrize("path", ["/model/parse", "/webhooks/rest/webhook"])
def test_a_body_over_1_mib_gets_a_json_413_without_being_buffered(bot, path) -> None:
    answer = api(bot, "POST", path, content=b" " * (4 * MIB), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    body: Dict[str, Any] = answer.json()
    assert "1,048,576 bytes" in (body.get("error") or body["message"])


def test_the_console_reads_and_resumes_a_rest_user_whose_id_needs_quoting(bot) -> None:
    """The console `quote`s the id in the URL; Rasa used to take it undecoded, so the transcript of the REST user
    "張 三" came back empty and the resume went to a new conversation "%E5%BC%B5%20...". """
    user = f"張 三 {uuid.uuid4().hex[:6]}"
    assert bot.send(user, "hello")

    async def console() -> list:
        rasa = RasaApi(bot.url, bot.running.token)
        try:
            turns = await rasa.transcript(user)
            await rasa.resume(SimpleNamespace(conversation_id=user))  # type: ignore[arg-type]  # all it reads
            return turns
        finally:
            await rasa.close()

    turns = asyncio.run(console())
    assert [t["text"] for t in turns if t["sender"] == "user"] == ["hello"]
    assert [e["event"] for e in events_of(bot, user)[-2:]] == ["resume", "action"]
