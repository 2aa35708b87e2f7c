"""The WhatsApp webhook driven with random notifications, JSON and bytes (hypothesis), mounted in a real Sanic server
with the real handoff gate, answering through a fake Graph API: never a 5xx, never a crash, nothing unstorable
reaches Rasa, a message over the cap gets the note through the Graph API, every readable message of a notification
is answered exactly once however often Meta delivers it, and a signed body we cannot read is acknowledged (200)."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from connectors.whatsapp import WhatsAppInput
from tests.connectors.conftest import (
    CAP,
    FRESH,
    FUZZ,
    cleaned,
    deep_bodies,
    is_note,
    json_values,
    long_texts,
    received_storable,
    storable,
    texts,
)

pytestmark = pytest.mark.server

SECRET, VERIFY, PHONE_ID, TOKEN = "app-secret", "verify-me", "106540352242922", "EAAtoken"


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Case:
    kind: str  # "notification", "raw", "unsigned"
    messages: list[Any] = field(default_factory=list)  # "notification": each with "id": None for a fresh wamid
    raw: Optional[bytes] = None
    signature: Any = None  # "unsigned": the header sent (str, bytes or None)
    ascii_json: bool = True
    again: bool = False

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID}, "messages": self.messages}
        data = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
                                                                                          "value": value}]}]}
        return json.dumps(data, ensure_ascii=self.ascii_json).encode("utf-8", "surrogatepass")


PHONES = st.sampled_from(["85291234567", "8613800138000", "44770090000"])
bodies = st.one_of(texts, long_texts, st.text(min_size=1, max_size=80))


def mostly(draw: Any, usual: st.SearchStrategy, odd: st.SearchStrategy) -> Any:
    """`usual` four times in five, else `odd`: most messages must get through for the rules to be checked."""
    return draw(usual if draw(st.integers(0, 4)) else odd)


@st.composite
def messages(draw: Any) -> Any:
    kind = draw(st.sampled_from(["text", "text", "text", "text", "interactive", "button", "image", "other"]))
    message: dict[str, Any] = {"from": mostly(draw, PHONES, texts | json_values),
                               "id": mostly(draw, st.none(), texts | json_values),  # None: a fresh wamid
                               "timestamp": "1764064800", "type": kind}
    if kind == "text":
        message["text"] = mostly(draw, st.fixed_dictionaries({"body": bodies}), json_values)
    elif kind == "interactive":
        reply_type = draw(st.sampled_from(["button_reply", "list_reply"]) | texts)
        reply = draw(st.fixed_dictionaries({}, optional={"id": bodies | json_values, "title": texts}))
        message["interactive"] = {"type": reply_type, reply_type if isinstance(reply_type, str) else "x": reply}
    elif kind == "button":
        message["button"] = draw(st.fixed_dictionaries({}, optional={"payload": texts | json_values, "text": texts}))
    elif kind == "other":
        message = draw(st.dictionaries(st.sampled_from(["from", "id", "type", "text"]), json_values, max_size=4)
                       | json_values)
    return message


@st.composite
def cases(draw: Any) -> Case:
    kind = draw(st.sampled_from(["notification", "notification", "notification", "raw", "unsigned"]))
    if kind == "notification":
        return Case(kind, draw(st.lists(messages(), min_size=1, max_size=3)), ascii_json=draw(st.booleans()),
                    again=draw(st.booleans()))
    if kind == "unsigned":
        header = st.none() | st.sampled_from(["", "sha256=", "sha1=abc", "sha256=é".encode(), b"sha256=\xff"])
        return Case(kind, [{"from": "85291234567", "id": None, "type": "text", "text": {"body": "hi"}}],
                    signature=draw(header | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E))))
    value = draw(json_values)
    raw = draw(st.binary(max_size=300) | deep_bodies | st.just(json.dumps(value).encode())
               | st.just(json.dumps(value).encode()[: draw(st.integers(0, 40))]))
    return Case("raw", raw=raw)


@dataclass
class Webhook:
    url: str
    answered: set[str] = field(default_factory=set)  # message ids handled so far, in any example: duplicates now


@pytest.fixture
async def webhook(graph_api, http, sqlite_store, serve, assistant) -> Webhook:
    channel = WhatsAppInput(TOKEN, SECRET, VERIFY, PHONE_ID, api_base_url=graph_api.url, state=sqlite_store, http=http)
    return Webhook(f"{await serve(channel, assistant)}/webhooks/whatsapp/webhook")


def well_formed_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 256 and storable(value)


def text_of(message: dict) -> Optional[str]:
    """What the user wrote or chose, restated from the Cloud API's message types."""
    kind = message.get("type")
    part = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict):
        return None
    if kind == "text":
        value = part.get("body")
    elif kind == "interactive":
        reply = part.get(part.get("type")) if isinstance(part.get("type"), str) else None
        value = (reply.get("id") or reply.get("title")) if isinstance(reply, dict) else None
    elif kind == "button":
        value = part.get("payload") or part.get("text")
    else:
        return None
    return value if isinstance(value, str) else None


def readable(message: Any) -> bool:
    """Whether a message must be taken: an object with well-formed ids whose parts (when present) are objects."""
    if not isinstance(message, dict) or not (well_formed_id(message.get("id")) and well_formed_id(message.get("from"))):
        return False
    kind = message.get("type")
    part = message.get(kind) if kind in ("text", "interactive", "button") else {}
    if part is not None and not isinstance(part, dict):
        return False
    if kind == "interactive" and isinstance(part, dict) and isinstance(part.get("type"), str):
        reply = part.get(part["type"])
        return reply is None or isinstance(reply, dict)
    return True


@FUZZ
@given(case=cases())
async def test_the_whatsapp_webhook_under_random_notifications(webhook: Webhook, http, assistant, graph_api,
                                                                case: Case) -> None:
    for message in case.messages:
        if isinstance(message, dict) and message.get("id", "") is None:
            message["id"] = f"wamid.F{next(FRESH)}"
    body = case.body()
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if case.kind == "unsigned":
        if case.signature is not None:
            headers["X-Hub-Signature-256"] = case.signature
    else:
        headers["X-Hub-Signature-256"] = signature(body)
    before_rasa, before_api = len(assistant.received), len(graph_api.requests)
    answer = await http.post(webhook.url, content=body, headers=headers)
    new, sent = assistant.received[before_rasa:], graph_api.requests[before_api:]
    event(f"{case.kind}: {answer.status_code}, {len(new)} to Rasa")
    assert answer.status_code in (200, 403, 413), (answer.status_code, answer.text[:300])
    assert isinstance(answer.json(), dict)  # a JSON answer, never a stack trace
    assert received_storable(new)
    if case.kind == "unsigned":
        assert answer.status_code == 403 and not new and not sent
        return
    if case.kind == "raw":
        assert not new
        return
    if answer.status_code == 413:  # over the body cap: refused whole before anything in it is read
        assert len(body) > 64 * 1024 and not new and not sent
        return
    assert answer.status_code == 200
    expected_rasa, notes = [], 0
    for message in (m for m in case.messages if readable(m)):
        if message["id"] in webhook.answered:  # delivered before (in this notification or an earlier one)
            continue
        webhook.answered.add(message["id"])
        text = cleaned(text_of(message) or "")
        if not text.strip():
            notes += 1  # the unsupported note
        elif len(text) > CAP:
            notes += 1
            assert any(is_note(r.json()["text"]["body"]) for r in sent)
        else:
            expected_rasa.append((f"whatsapp:{message['from']}", text.strip(), message["id"]))
    assert [(m.sender_id, m.text, m.message_id) for m in new] == expected_rasa  # each exactly once, in order
    assert len(sent) == len(expected_rasa) + notes  # one echo or one note each
    if case.again:  # Meta delivers it again: acknowledged, nothing answered again
        before_rasa, before_api = len(assistant.received), len(graph_api.requests)
        again = await http.post(webhook.url, content=body, headers=headers)
        assert again.status_code == 200
        assert len(assistant.received) == before_rasa and len(graph_api.requests) == before_api
