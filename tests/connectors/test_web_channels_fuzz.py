"""The REST webhook and the socket.io channel driven with random JSON and bytes (hypothesis), mounted in a real Sanic
server with the real handoff gate: never a 5xx, never a crash, never an accepted message lost, and nothing reaches
Rasa that a store cannot keep (NUL, lone surrogates, control characters, another channel's sender id).

The rules are restated here independently of connectors/inbound.py, so the fuzzer checks the code, not itself.
"""
from __future__ import annotations

import json
import unicodedata
from typing import Any, Callable, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.legacy.client import connect  # what `websockets.connect` is in websockets 10

from connectors.rest import RestInput
from connectors.webchat import SocketIOChannel
from tools.bench.socketio_client import SocketIOClient

pytestmark = pytest.mark.server

CAP = 2000  # the message length cap (connectors/inbound.py MAX_MESSAGE_CHARS), in characters once cleaned
RESERVED = ("telegram", "whatsapp", "wechat")
WEB = "web:" + "0123456789abcdef" * 2
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def unstorable(char: str) -> bool:
    """Characters that must never reach Rasa: control characters (but tab, LF, CR) and lone surrogates."""
    return unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"


def expected_text(message: str) -> str:
    """What Rasa must be given for a message: the unstorable characters removed, then trimmed as Rasa does."""
    return "".join(c for c in message if not unstorable(c)).strip()


# --- strategies ----------------------------------------------------------------------------------------------------

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # surrogates included
texts = st.text(any_char, max_size=40) | st.sampled_from([
    "", " ", "\x00", "\ud800", "s\udfff", "hi\x00there", "高才通要咩條件？", "\u202egnp.exe", "\x1b[31m",
    "telegram:42", "whatsapp:85291234567", "wechat:oUser123", "Telegram:1", WEB, "web:x", "default", "rest:a",
])
long_texts = st.sampled_from(["高才通" * 700, "x" * 2001, "x" * 2000 + "\x00" * 5, "ab " * 5000, "\ud800" * 2100])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
senders = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"), min_size=1,
                  max_size=20) | st.just(WEB) | st.builds(lambda s: f"test:{s}", st.text("abc123", min_size=1))


@st.composite
def rest_bodies(draw: Any) -> Tuple[bytes, Optional[dict]]:
    """(raw body, the object it encodes when it is a JSON object) of every kind a client could send."""
    kind = draw(st.sampled_from(["valid", "object", "value", "bytes", "truncated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    if kind == "valid":
        obj: Any = {"sender": draw(senders), "message": draw(texts | long_texts)}
        if draw(st.booleans()):
            obj["metadata"] = draw(st.dictionaries(texts, json_values, max_size=3))
        if draw(st.booleans()):
            obj["input_channel"] = draw(st.sampled_from([None, "", "rest"]))
    elif kind == "object":
        keys = st.sampled_from(["sender", "message", "metadata", "input_channel", "other"])
        obj = draw(st.dictionaries(keys, texts | long_texts | json_values, max_size=5))
    else:
        obj = draw(json_values)
    raw = json.dumps(obj, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == "truncated":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))], None
    return raw, obj if isinstance(obj, dict) else None


def acceptable(obj: Optional[dict]) -> bool:
    """Whether a body must be taken (restating the rules of issue 12 for REST)."""
    if obj is None:
        return False
    sender, message = obj.get("sender"), obj.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 128 or any(map(unstorable, sender)):
        return False
    prefix, colon, _ = sender.partition(":")
    if colon and (prefix.strip().casefold() in RESERVED or (prefix.strip().casefold() == "web" and sender != WEB
                                                            and not _is_web_session(sender))):
        return False
    if not isinstance(message, str) or obj.get("input_channel") not in (None, "", "rest"):
        return False
    metadata = obj.get("metadata")
    return metadata is None or (isinstance(metadata, dict) and _depth(metadata) <= 16)


def _is_web_session(sender: str) -> bool:
    rest = sender[4:]
    return sender.startswith("web:") and len(rest) == 32 and all(c in "0123456789abcdef" for c in rest)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# --- REST ----------------------------------------------------------------------------------------------------------


@pytest.fixture
async def rest_url(serve, assistant) -> str:
    return f"{await serve(RestInput(), assistant)}/webhooks/rest/webhook"


@FUZZ
@given(case=rest_bodies(), stream=st.booleans(), content_type=st.sampled_from(["application/json", "text/plain", ""]))
async def test_rest_webhook_under_random_bodies(rest_url, assistant, http, case, stream, content_type) -> None:
    raw, obj = case
    before = len(assistant.received)
    answer = await http.post(rest_url + ("?stream=true" if stream else ""), content=raw,
                             headers={"Content-Type": content_type} if content_type else {})
    new = assistant.received[before:]
    assert answer.status_code in (200, 400, 413), (answer.status_code, answer.text[:300])
    if answer.status_code != 200:
        assert isinstance(answer.json()["error"], str) and not new
        assert not acceptable(obj) or len(raw) > 64 * 1024
        return
    assert acceptable(obj)
    assert obj is not None
    text = expected_text(obj["message"])
    replies = [json.loads(line) for line in answer.text.splitlines()] if stream else answer.json()
    if len(text) > CAP:  # a polite note instead of an answer; Rasa never saw it
        assert not new and len(replies) == 1 and replies[0]["recipient_id"] == obj["sender"]
        return
    [message] = new  # exactly one message reached Rasa: nothing lost, nothing doubled
    assert (message.sender_id, message.text, message.input_channel) == (obj["sender"], text, "rest")
    assert not any(map(unstorable, message.sender_id + message.text + json.dumps(message.metadata or {},
                                                                                 ensure_ascii=False)))
    parts = f"echo: {text}".strip().split("\n\n")  # Rasa's collecting channel splits paragraphs
    assert replies == [{"recipient_id": obj["sender"], "text": part} for part in parts]


# --- socket.io -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def socketio_url(serve, assistant) -> str:
    channel = SocketIOChannel.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True})
    return await serve(channel, assistant)


@pytest.fixture
async def page(socketio_url) -> Any:
    client = await SocketIOClient.connect(socketio_url)
    client.session_id = await client.session()  # type: ignore[attr-defined]  # the fixture's own attribute
    yield client
    await client.close()


@st.composite
def socketio_payloads(draw: Any) -> Any:
    kind = draw(st.sampled_from(["message", "object", "value"]))
    if kind == "message":
        payload = {"message": draw(texts | long_texts)}
        if draw(st.booleans()):
            payload["session_id"] = "<own>"
        if draw(st.booleans()):
            payload["metadata"] = draw(json_values)
        return payload
    if kind == "object":
        keys = st.sampled_from(["message", "session_id", "metadata", "other"])
        return draw(st.dictionaries(keys, texts | long_texts | json_values, max_size=4))
    return draw(json_values)


async def expect_events(client: SocketIOClient, wanted: List[Callable[[str], bool]]) -> None:
    """Reads bot_uttered events until each of `wanted` has matched one (in any order: socket.io handles a socket's
    events concurrently); an event nothing wanted fails at once, one that never comes times out."""
    remaining = list(wanted)
    while remaining:
        name, data = await client.event(timeout_s=10)
        assert name == "bot_uttered", (name, data)
        text = data.get("text")
        match = next((i for i, want in enumerate(remaining) if want(text)), None)
        assert match is not None, f"unexpected answer {text!r}"
        del remaining[match]


def equals(expected: str) -> Callable[[str], bool]:
    return lambda text: text == expected


def is_note(text: str) -> bool:
    return "too long" in text or "太長" in text or "太长" in text


@FUZZ
@given(payload=socketio_payloads())
async def test_socketio_messages_under_random_payloads(page, assistant, payload) -> None:
    session = page.session_id
    if isinstance(payload, dict) and payload.get("session_id") == "<own>":
        payload = {**payload, "session_id": session}
    before = len(assistant.received)
    message = payload.get("message") if isinstance(payload, dict) else None
    taken = (isinstance(message, str) and expected_text(message) != ""
             and payload.get("session_id") in (None, session))
    text = expected_text(message) if taken and isinstance(message, str) else ""
    sentinel = f"sentinel {before}"
    wanted = [equals(f"echo: {sentinel}")]
    if taken and len(text) > CAP:
        wanted.append(is_note)  # a polite note instead of an answer; Rasa never sees it
    elif taken:
        wanted.extend(equals(part) for part in f"echo: {text}".strip().split("\n\n"))  # as Rasa's output splits
    await page.emit("user_uttered", payload)
    await page.emit("user_uttered", {"message": sentinel, "session_id": session})
    await expect_events(page, wanted)
    new = [m for m in assistant.received[before:] if m.text != sentinel]
    if not taken or len(text) > CAP:
        assert new == []
        return
    [received] = new  # exactly once: nothing lost, nothing doubled
    assert (received.sender_id, received.text, received.input_channel) == (session, text, "socketio")
    assert not any(map(unstorable, json.dumps(received.metadata or {}, ensure_ascii=False)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(st.text(any_char, max_size=60) | st.binary(max_size=60)
                       | st.builds(lambda v: "42" + json.dumps(v), json_values)
                       | st.builds(lambda e, v: "42" + json.dumps([e, v]),
                                   st.sampled_from(["user_uttered", "session_request", "other", ""]), json_values),
                       min_size=1, max_size=5))
async def test_garbage_frames_never_stop_the_socketio_server(socketio_url, assistant, frames) -> None:
    ws = await connect(socketio_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
    try:
        await ws.recv()
        await ws.send("40")
        for frame in frames:
            if isinstance(frame, str):
                frame = frame.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            await ws.send(frame)
    except ConnectionClosed:
        pass  # the server may hang up on garbage; it must still serve the next page
    finally:
        await ws.close()
    client = await SocketIOClient.connect(socketio_url)
    try:
        session = await client.session()
        await client.emit("user_uttered", {"message": "still there?", "session_id": session})
        assert await client.event() == ["bot_uttered", {"text": "echo: still there?"}]
    finally:
        await client.close()
    assert not any(unstorable(c) for m in assistant.received for c in m.sender_id + (m.text or ""))
