"""The web chat's socket.io channel: which sessions a browser may resume, what a message must hold, and that the
answer reaches the socket (Rasa 3.6's own channel loses it with python-socketio >= 5.10)."""
from __future__ import annotations

import asyncio
from typing import Any, List

import pytest

from connectors.webchat import (
    SESSION_ID,
    SocketIOChannel,
    confirmed_session_id,
    metadata_of,
    new_session_id,
    user_message_text,
)
from talentbot.core.inbound import MAX_MESSAGE_CHARS
from tools.bench.socketio_client import SocketIOClient

OURS = "web:" + "0123456789abcdef" * 2


def test_new_session_ids_are_namespaced_and_unique() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(SESSION_ID.fullmatch(i) for i in ids)


@pytest.mark.parametrize(
    "requested, resumed",
    [
        ({"session_id": OURS}, True),
        (OURS, True),
        ({"session_id": None}, False),
        ({}, False),
        (None, False),
        ({"session_id": "wechat:oUser123"}, False),  # another channel's user: never
        ({"session_id": "telegram:42"}, False),
        ({"session_id": OURS.upper()}, False),
        ({"session_id": OURS + "0"}, False),
        ({"session_id": "web:" + "g" * 32}, False),
        ({"session_id": 12345}, False),
        ({"session_id": ["web:x"]}, False),
    ],
)
def test_a_browser_resumes_only_a_web_session_it_was_given(requested: Any, resumed: bool) -> None:
    confirmed = confirmed_session_id(requested)
    assert SESSION_ID.fullmatch(confirmed)
    assert (confirmed == OURS) is resumed


@pytest.mark.parametrize(
    "data, text",
    [
        ({"message": "hello", "session_id": OURS}, "hello"),
        ({"message": "  高才通要咩條件？ \n"}, "高才通要咩條件？"),
        # over the cap: the whole text, which the handler answers with a polite note (it used to be cut and answered)
        ({"message": "x" * (MAX_MESSAGE_CHARS + 50)}, "x" * (MAX_MESSAGE_CHARS + 50)),
        ({"message": "hi\x00 the\ud800re\x1b[31m"}, "hi there[31m"),  # NUL, a lone surrogate, an escape: removed
        ({"message": "\x00\x07"}, None),
        ({"message": "   "}, None),
        ({"message": ""}, None),
        ({"message": None}, None),
        ({"message": {"text": "hi"}}, None),
        ({}, None),
        ("hello", None),
        (None, None),
    ],
)
def test_the_text_of_a_user_message(data: Any, text: Any) -> None:
    assert user_message_text(data) == text


@pytest.mark.parametrize(
    "data, metadata",
    [
        ({"metadata": {"language": "zh-Hant"}}, {"language": "zh-Hant"}),
        ({"metadata": '{"language": "en"}'}, {"language": "en"}),
        ({"metadata": "{not json"}, {}),
        ({"metadata": "[1, 2]"}, {}),
        ({"metadata": 3}, {}),
        ({"metadata": {"la\x00ng": ["zh\ud800-Hant"]}}, {"lang": ["zh-Hant"]}),
        ({"metadata": '{"a": ' * 40 + "1" + "}" * 40}, {}),  # nested deeper than anyone needs
        ({"metadata": "[" * 100_000 + "]" * 100_000}, {}),  # deeper than the JSON parser goes
        ({}, {}),
    ],
)
def test_metadata_is_an_object_or_nothing(data: dict, metadata: dict) -> None:
    assert metadata_of(data, "metadata") == metadata


# --- the channel mounted in a real Sanic app, spoken to as the page does (Engine.IO v4 / Socket.IO v5) ---------


@pytest.fixture
async def socketio_url(serve, assistant) -> str:
    channel = SocketIOChannel.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    return await serve(channel, assistant)


@pytest.mark.server
async def test_the_answer_reaches_the_socket_of_the_session(socketio_url, assistant) -> None:
    client = await SocketIOClient.connect(socketio_url)
    try:
        session = await client.session()
        assert SESSION_ID.fullmatch(session)
        await client.emit("user_uttered", {"message": "hello", "session_id": session})
        assert await client.event() == ["bot_uttered", {"text": "echo: hello"}]
        [message] = assistant.received
        assert (message.sender_id, message.input_channel, message.text) == (session, "socketio", "hello")
    finally:
        await client.close()


@pytest.mark.server
async def test_a_reloaded_page_resumes_its_conversation(socketio_url, assistant) -> None:
    first = await SocketIOClient.connect(socketio_url)
    session = await first.session()
    await first.close()
    second = await SocketIOClient.connect(socketio_url)
    try:
        assert await second.session(session) == session
        await second.emit("user_uttered", {"message": "again", "session_id": session})
        assert await second.event() == ["bot_uttered", {"text": "echo: again"}]
        assert [m.sender_id for m in assistant.received] == [session]
    finally:
        await second.close()


@pytest.mark.server
@pytest.mark.parametrize(
    "payload",
    [
        {"message": "hi", "session_id": "wechat:oUser123"},  # someone else's conversation
        {"message": "hi", "session_id": "web:" + "f" * 32},  # a web session this socket was not given
        {"message": "   "},
        {"session_id": None},
    ],
)
async def test_messages_outside_the_confirmed_session_are_ignored(socketio_url, assistant, payload) -> None:
    client = await SocketIOClient.connect(socketio_url)
    try:
        await client.session()
        await client.emit("user_uttered", payload)
        with pytest.raises(asyncio.TimeoutError):
            await client.event(timeout_s=0.5)
        assert assistant.received == []
    finally:
        await client.close()


@pytest.mark.server
async def test_a_message_before_any_session_is_ignored(socketio_url, assistant) -> None:
    client = await SocketIOClient.connect(socketio_url)
    try:
        await client.emit("user_uttered", {"message": "hello", "session_id": OURS})
        with pytest.raises(asyncio.TimeoutError):
            await client.event(timeout_s=0.5)
        assert assistant.received == []
    finally:
        await client.close()


# --- pushing a later message (a staff reply) to the page ---------------------------------------------------------


@pytest.mark.server
async def test_a_pushed_message_reaches_the_open_page_only_with_the_token(socketio_url, http, monkeypatch) -> None:
    monkeypatch.setenv("RASA_AUTH_TOKEN", "api-token")
    client = await SocketIOClient.connect(socketio_url)
    try:
        session = await client.session()
        push = f"{socketio_url}/webhooks/socketio/push"
        body = {"recipient_id": session, "text": "<b>Hi</b>, this is Amy from the team"}
        assert (await http.post(push, json=body)).status_code == 401
        assert (await http.post(push, json=body, headers={"Authorization": "Bearer wrong"})).status_code == 401
        sent = await http.post(push, json=body, headers={"Authorization": "Bearer api-token"})
        assert sent.status_code == 200
        assert await client.event() == ["bot_uttered", {"text": "<b>Hi</b>, this is Amy from the team"}]
        bad_bodies: List[Any] = [{"recipient_id": "telegram:42", "text": "x"}, {"recipient_id": session, "text": " "},
                                 []]
        for bad in bad_bodies:
            refused = await http.post(push, json=bad, headers={"Authorization": "Bearer api-token"})
            assert refused.status_code == 400
    finally:
        await client.close()


@pytest.mark.server
async def test_a_push_to_a_closed_page_is_refused(socketio_url, http, monkeypatch) -> None:
    monkeypatch.setenv("RASA_AUTH_TOKEN", "api-token")
    answer = await http.post(f"{socketio_url}/webhooks/socketio/push", headers={"Authorization": "Bearer api-token"},
                             json={"recipient_id": OURS, "text": "anyone there?"})
    assert answer.status_code == 409


@pytest.mark.server
async def test_pushing_is_off_without_a_token(socketio_url, http, monkeypatch) -> None:
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    answer = await http.post(f"{socketio_url}/webhooks/socketio/push", json={"recipient_id": OURS, "text": "x"})
    assert answer.status_code == 503


def test_sockets_are_shared_across_processes_only_when_state_is_in_redis() -> None:
    import socketio

    from connectors.webchat import share_rooms_through_redis

    embedded = socketio.AsyncServer(async_mode="sanic")
    assert share_rooms_through_redis(embedded, "sqlite:///var/state.db") is False
    assert type(embedded.manager) is socketio.AsyncManager
    scaled = socketio.AsyncServer(async_mode="sanic")
    assert share_rooms_through_redis(scaled, "redis://127.0.0.1:6379/1") is True
    assert isinstance(scaled.manager, socketio.AsyncRedisManager) and scaled.manager.server is scaled
