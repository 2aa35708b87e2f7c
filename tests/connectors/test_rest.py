"""The REST channel mounted in a real Sanic app as `rasa run` mounts it: what reaches Rasa, and what is refused."""
from __future__ import annotations

import json

import pytest

from connectors.rest import RestInput
from talentbot.core.inbound import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.server

WEB = "web:" + "0123456789abcdef" * 2


@pytest.fixture
async def webhook(serve, assistant) -> str:
    return f"{await serve(RestInput(), assistant)}/webhooks/rest/webhook"


async def test_a_message_reaches_rasa_and_the_answer_comes_back(webhook, assistant, http) -> None:
    answer = await http.post(webhook, json={"sender": "alice", "message": "高才通要咩條件？", "metadata": {"a": 1}})
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "alice", "text": "echo: 高才通要咩條件？"}]
    [message] = assistant.received
    assert (message.sender_id, message.text, message.input_channel, message.metadata) == (
        "alice", "高才通要咩條件？", "rest", {"a": 1})


async def test_the_chat_pages_fallback_keeps_its_web_session(webhook, assistant, http) -> None:
    answer = await http.post(webhook, json={"sender": WEB, "message": "hi"})
    assert answer.status_code == 200 and [m.sender_id for m in assistant.received] == [WEB]


@pytest.mark.parametrize(
    "content, error",
    [
        (b"", "body is empty"),
        (b"[]", "body is an array"),
        (b'"hello"', "body is a string"),
        (b"{broken", "not valid JSON"),
        (b'{"message": "hi"}', "sender is missing"),
        (b'{"sender": "", "message": "hi"}', "must not be empty"),
        (b'{"sender": 7, "message": "hi"}', "sender must be a string"),
        (b'{"sender": "s\\ud800", "message": "hi"}', "lone surrogates"),  # stopped the whole server (issue 12)
        (b'{"sender": "telegram:42", "message": "cancel"}', "telegram channel"),
        (b'{"sender": "whatsapp:85291234567", "message": "hi"}', "whatsapp channel"),
        (b'{"sender": "wechat:oUser123", "message": "hi"}', "wechat channel"),
        (b'{"sender": "a", "message": 123}', "message must be a string"),
        (b'{"sender": "a", "message": null}', "message is missing"),
        (b'{"sender": "a", "message": []}', "message must be a string"),
        (b'{"sender": "a", "message": {}}', "message must be a string"),
        (b'{"sender": "a", "message": "hi", "input_channel": "telegram"}', "input_channel"),
        (b'{"sender": "a", "message": "hi", "metadata": "x"}', "metadata must be an object"),
    ],
)
async def test_wrong_shapes_are_refused_with_400_and_what_is_wrong(webhook, assistant, http, content, error) -> None:
    answer = await http.post(webhook, content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert assistant.received == []


async def test_a_body_over_64_kib_is_refused_with_413(webhook, assistant, http) -> None:
    answer = await http.post(webhook, json={"sender": "a", "message": "高" * 30_000})
    assert answer.status_code == 413 and "too large" in answer.json()["error"]
    assert assistant.received == []


async def test_nul_lone_surrogates_and_control_characters_never_reach_rasa(webhook, assistant, http) -> None:
    content = b'{"sender": "a", "message": "hi\\u0000 the\\ud800re\\u001b[0m", "metadata": {"k\\u0000": "v\\udc00"}}'
    answer = await http.post(webhook, content=content)
    assert answer.status_code == 200 and answer.json()[0]["text"] == "echo: hi there[0m"
    [message] = assistant.received
    assert (message.text, message.metadata) == ("hi there[0m", {"k": "v"})


@pytest.mark.parametrize(
    "text, note",
    [("高才通" * 5_000, "太長"), ("tell me about TTPS " * 200, "too long"), ("高才通是什么" * 400, "太长")],
    ids=["zh-Hant", "en", "zh-Hans"],
)
async def test_a_message_over_the_cap_gets_a_polite_note_and_never_reaches_rasa(webhook, assistant, http, text,
                                                                                note) -> None:
    assert len(text) > MAX_MESSAGE_CHARS
    answer = await http.post(webhook, json={"sender": "a", "message": text})
    assert answer.status_code == 200
    [reply] = answer.json()
    assert reply["recipient_id"] == "a" and note in reply["text"] and f"{MAX_MESSAGE_CHARS:,}" in reply["text"]
    assert assistant.received == []


async def test_the_cap_itself_is_answered(webhook, assistant, http) -> None:
    answer = await http.post(webhook, json={"sender": "a", "message": "x" * MAX_MESSAGE_CHARS})
    assert answer.status_code == 200 and len(assistant.received) == 1


async def test_the_health_route_is_untouched(webhook, http) -> None:
    answer = await http.get(webhook.removesuffix("webhook"))
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


async def test_streamed_answers_read_the_checked_message(webhook, assistant, http) -> None:
    answer = await http.post(f"{webhook}?stream=true", json={"sender": "a", "message": "hi\u0000"})
    assert answer.status_code == 200
    assert [json.loads(line) for line in answer.text.splitlines()] == [{"recipient_id": "a", "text": "echo: hi"}]
    refused = await http.post(f"{webhook}?stream=true", json={"sender": "telegram:1", "message": "hi"})
    assert refused.status_code == 400


async def test_the_server_keeps_answering_after_every_refusal(webhook, assistant, http) -> None:
    for content in (b"", b"[]", b'{"sender": "s\\ud800", "message": "hi"}', b"\xff" * 100):
        assert (await http.post(webhook, content=content)).status_code == 400
    answer = await http.post(webhook, json={"sender": "b", "message": "still there?"})
    assert answer.json() == [{"recipient_id": "b", "text": "echo: still there?"}]


def test_the_page_input_box_has_the_same_cap() -> None:
    from connectors.webchat import PAGE

    assert f'maxlength="{MAX_MESSAGE_CHARS}"' in PAGE.read_text(encoding="utf-8")

