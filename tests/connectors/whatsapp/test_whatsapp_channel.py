"""The WhatsApp webhook in a real Sanic app, answering through a fake Graph API."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from connectors.guards import MAX_BODY_BYTES
from connectors.state import RedisStateStore
from connectors.texts import load_texts
from connectors.whatsapp import WhatsAppInput
from talentbot.core.inbound import MAX_MESSAGE_CHARS
from talentbot.core.store_outages import LOCK_STORE, TRACKER_STORE, StoreUnavailable
from tests.connectors.conftest import REDIS_DOWN

pytestmark = pytest.mark.server

SECRET, VERIFY, PHONE_ID, TOKEN = "app-secret", "verify-me", "106540352242922", "EAAtoken"
MESSAGES = f"v19.0_{PHONE_ID}_messages"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


def notification(*messages: dict, statuses: Any = None) -> bytes:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID},
                             "contacts": [{"profile": {"name": "Ann"}, "wa_id": "85291234567"}]}
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}).encode()


def text(body: str, wamid: str = "wamid.A1") -> dict:
    return {"from": "85291234567", "id": wamid, "timestamp": "1764064800", "type": "text", "text": {"body": body}}


@pytest.fixture
async def whatsapp(graph_api, http, sqlite_store, serve, assistant):
    channel = WhatsAppInput(TOKEN, SECRET, VERIFY, PHONE_ID, api_base_url=graph_api.url, state=sqlite_store, http=http)
    base = await serve(channel, assistant)
    return channel, f"{base}/webhooks/whatsapp/webhook"


async def test_verification_echoes_the_challenge_for_our_token_only(whatsapp, http) -> None:
    _, url = whatsapp
    ok = await http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                     "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = await http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"})
    assert bad.status_code == 403


async def test_text_is_answered_through_the_graph_api(whatsapp, http, assistant, graph_api) -> None:
    _, url = whatsapp
    body = notification(text("How long does QMAS take?"))
    response = await http.post(url, content=body, headers=signed(body))
    assert response.status_code == 200
    assert [(m.sender_id, m.text, m.input_channel) for m in assistant.received] == [
        ("whatsapp:85291234567", "How long does QMAS take?", "whatsapp")
    ]
    [sent] = graph_api.to(MESSAGES)
    assert sent.path == f"/v19.0/{PHONE_ID}/messages"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.json() == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "85291234567",
                           "type": "text", "text": {"preview_url": False, "body": "echo: How long does QMAS take?"}}


@pytest.mark.parametrize("secret", ["other-secret", None])
async def test_unsigned_or_forged_notifications_are_refused(whatsapp, http, assistant, graph_api, secret) -> None:
    _, url = whatsapp
    body = notification(text("hi"))
    headers = signed(body, secret) if secret else {"Content-Type": "application/json"}
    assert (await http.post(url, content=body, headers=headers)).status_code == 403
    assert assistant.received == [] and graph_api.requests == []


async def test_redelivered_message_is_answered_once(whatsapp, http, assistant, graph_api) -> None:
    _, url = whatsapp
    body = notification(text("hi", wamid="wamid.DUP"))
    for _ in range(3):
        assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    assert len(assistant.received) == 1 and len(graph_api.to(MESSAGES)) == 1


async def test_status_callbacks_are_accepted_and_ignored(whatsapp, http, assistant, graph_api) -> None:
    _, url = whatsapp
    body = notification(statuses=[{"id": "wamid.X", "status": "read", "timestamp": "1", "recipient_id": "85291234567"}])
    assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    assert assistant.received == [] and graph_api.requests == []


async def test_buttons_are_reply_buttons_and_the_reply_id_goes_to_rasa(whatsapp, http, assistant, graph_api) -> None:
    async def menu(message) -> None:
        if message.text.startswith("/"):
            return
        await message.output_channel.send_text_with_buttons(
            message.sender_id, "Bring your family?",
            [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        )

    assistant.answer = menu
    _, url = whatsapp
    body = notification(text("dependants", wamid="wamid.B1"))
    await http.post(url, content=body, headers=signed(body))
    [sent] = graph_api.to(MESSAGES)
    assert sent.json()["interactive"] == {
        "type": "button", "body": {"text": "Bring your family?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "/affirm", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "/deny", "title": "No"}}]},
    }
    reply = {"from": "85291234567", "id": "wamid.B2", "timestamp": "1", "type": "interactive",
             "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}}}
    body = notification(reply)
    await http.post(url, content=body, headers=signed(body))
    assert assistant.received[-1].text == "/affirm"


async def test_many_choices_fall_back_to_numbers(whatsapp, http, assistant, graph_api) -> None:
    async def menu(message) -> None:
        if message.text.startswith("/"):
            return
        buttons = [{"title": f"Office {i}", "payload": f"/ask_contact_office{{\"location\":\"{i}\"}}"}
                   for i in range(12)]
        await message.output_channel.send_text_with_buttons(message.sender_id, "Which office?", buttons)

    assistant.answer = menu
    _, url = whatsapp
    body = notification(text("offices", wamid="wamid.C1"))
    await http.post(url, content=body, headers=signed(body))
    assert "12. Office 11" in graph_api.to(MESSAGES)[0].json()["text"]["body"]
    body = notification(text("12", wamid="wamid.C2"))
    await http.post(url, content=body, headers=signed(body))
    assert assistant.received[-1].text == '/ask_contact_office{"location":"11"}'


async def test_non_text_messages_get_a_polite_note(whatsapp, http, assistant, graph_api) -> None:
    _, url = whatsapp
    image = {"from": "85291234567", "id": "wamid.I1", "timestamp": "1", "type": "image", "image": {"id": "m"}}
    body = notification(image)
    assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    assert "only read text" in graph_api.to(MESSAGES)[0].json()["text"]["body"]
    assert assistant.received == []


@pytest.mark.parametrize(
    "body, problem",
    [(b"{oops", "not JSON"), (b"[]", "a notification is an object"), (b"[" * 30_000 + b"]" * 30_000, "not JSON"),
     (b'{"entry": 5}', "a notification is an object")],
    ids=["malformed", "array", "nested-too-deep", "entry-not-a-list"],
)
async def test_a_signed_body_we_cannot_read_is_acknowledged_and_ignored(
    whatsapp, http, assistant, graph_api, body: bytes, problem: str, caplog
) -> None:
    """Meta retries anything but 200 for up to 7 days: a signed body we cannot read gets 200, saying why."""
    _, url = whatsapp
    answer = await http.post(url, content=body, headers=signed(body))
    assert answer.status_code == 200 and answer.json()["status"] == "ignored" and problem in answer.json()["error"]
    assert assistant.received == [] and graph_api.requests == []
    assert "Signed WhatsApp notification ignored" in caplog.text


async def test_a_malformed_message_does_not_lose_the_one_batched_with_it(whatsapp, http, assistant, caplog) -> None:
    _, url = whatsapp
    body = notification({"from": ["85291234567"], "id": "wamid.M1", "type": "text", "text": {"body": "lost?"}},
                        text("kept", wamid="wamid.M2"))
    answer = await http.post(url, content=body, headers=signed(body))
    assert answer.status_code == 200 and "from must be a non-empty string" in answer.json()["ignored"][0]
    assert [m.text for m in assistant.received] == ["kept"]


@pytest.mark.parametrize(
    "body, headers, status",
    [(b'{"entry": [], "pad": "' + b"x" * MAX_BODY_BYTES + b'"}', None, 413),
     (b'{"entry": []}', {"X-Hub-Signature-256": "sha256=é".encode(), "Content-Type": "application/json"}, 403),
     (b'{"entry": []}', {"X-Hub-Signature-256": b"sha256=\xff\xfe", "Content-Type": "application/json"}, 403)],
    ids=["oversized", "non-ascii-signature", "undecodable-signature"],
)
async def test_oversized_or_badly_signed_bodies_get_a_clear_4xx(
    whatsapp, http, assistant, body: bytes, headers, status: int
) -> None:
    _, url = whatsapp
    assert (await http.post(url, content=body, headers=headers or signed(body))).status_code == status
    assert assistant.received == []


async def test_proactive_message_and_the_24_hour_window(whatsapp, http, graph_api) -> None:
    channel, url = whatsapp
    output = channel.get_output_channel()
    assert await output.window_open("whatsapp:85291234567") is False
    body = notification(text("hi", wamid="wamid.W1"))
    await http.post(url, content=body, headers=signed(body))
    assert await output.window_open("whatsapp:85291234567") is True
    await output.send_text_message("whatsapp:85291234567", "[staff] 你好！")
    assert graph_api.to(MESSAGES)[-1].json()["text"]["body"] == "[staff] 你好！"


def sent_bodies(graph_api) -> list[str]:
    return [r.json()["text"]["body"] for r in graph_api.to(MESSAGES)]


async def test_a_message_over_the_cap_gets_the_polite_note_and_never_reaches_rasa(
    whatsapp, http, assistant, graph_api
) -> None:
    _, url = whatsapp
    body = notification(text("What are the requirements of TTPS? " * 100, wamid="wamid.L1"))  # 3,500 characters
    for _ in range(2):  # Meta's redelivery: one note
        assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    [sent] = sent_bodies(graph_api)
    assert sent.startswith(load_texts().texts["message_too_long"]["en"].split("{")[0]) and "3,500" in sent
    assert assistant.received == []
    body = notification(text("x" * MAX_MESSAGE_CHARS + "\x00" * 9, wamid="wamid.L2"))  # at the cap once cleaned
    await http.post(url, content=body, headers=signed(body))
    assert [m.text for m in assistant.received] == ["x" * MAX_MESSAGE_CHARS]


async def test_ids_that_no_store_can_keep_are_refused_not_stored(whatsapp, http, assistant) -> None:
    _, url = whatsapp
    body = json.dumps(json.loads(notification(text("hi", wamid="wamid.\ud800"))), ensure_ascii=True).encode()
    answer = await http.post(url, content=body, headers=signed(body))
    assert answer.status_code == 200 and "control characters" in answer.json()["ignored"][0]
    assert assistant.received == []


async def test_while_a_store_rasa_needs_is_down_the_user_is_told_politely(whatsapp, http, assistant, graph_api) -> None:
    async def down(message) -> None:
        raise StoreUnavailable(TRACKER_STORE, REDIS_DOWN)

    assistant.answer = down
    _, url = whatsapp
    body = notification(text("高才通要咩條件？", wamid="wamid.O1"))
    assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    assert sent_bodies(graph_api) == [load_texts().texts["store_outage"]["zh-Hant"]]


async def test_a_refusal_meta_did_not_take_is_redelivered_and_answered_once(
    whatsapp, http, assistant, graph_api
) -> None:
    """The lock store down and the Graph API failing too: 503 and the claim released, so Meta's redelivery is
    answered; the message batched with it, answered the first time, is not answered again."""
    async def outage_then_answer(message) -> None:
        if message.text == "first" and sum(m.text == "first" for m in assistant.received) == 1:
            raise StoreUnavailable(LOCK_STORE, REDIS_DOWN)
        await message.output_channel.send_text_message(message.sender_id, f"answer to {message.text}")

    assistant.answer = outage_then_answer
    graph_api.answer(MESSAGES, (500, {"error": {"code": 1, "message": "An unknown error occurred"}}))
    _, url = whatsapp
    body = notification(text("first", wamid="wamid.R1"), text("second", wamid="wamid.R2"))
    first = await http.post(url, content=body, headers=signed(body))
    assert first.status_code == 503 and first.headers["Retry-After"]
    for _ in range(2):
        assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    assert [m.text for m in assistant.received] == ["first", "second", "first"]
    refusal = load_texts().texts["store_outage"]["en"]
    assert sent_bodies(graph_api) == [refusal, "answer to second", "answer to first"]  # the refusal met the 500


async def test_a_fault_in_the_assistant_gets_an_apology(whatsapp, http, assistant, graph_api) -> None:
    async def broken(message) -> None:
        raise RuntimeError("bug")

    assistant.answer = broken
    _, url = whatsapp
    body = notification(text("hi", wamid="wamid.F1"))
    assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
    apology = load_texts().texts["something_went_wrong"]
    assert sent_bodies(graph_api) == ["\n\n".join(apology[c] for c in ("en", "zh-Hant"))]


async def test_while_the_state_store_is_down_messages_are_left_with_meta(
    local_redis, graph_api, serve, http, assistant
) -> None:
    store = RedisStateStore(local_redis.url, prefix=f"test:{uuid.uuid4().hex}:")
    channel = WhatsAppInput(TOKEN, SECRET, VERIFY, PHONE_ID, api_base_url=graph_api.url, state=store, http=http)
    url = f"{await serve(channel, assistant)}/webhooks/whatsapp/webhook"
    body = notification(text("one", wamid="wamid.S1"), text("two", wamid="wamid.S2"))
    try:
        local_redis.stop()
        down = await http.post(url, content=body, headers=signed(body))
        assert down.status_code == 503 and assistant.received == [] and graph_api.requests == []
        local_redis.start()
        for _ in range(4):  # Meta redelivers until it gets a 200 (the first command after Redis's return may fail)
            if (await http.post(url, content=body, headers=signed(body))).status_code == 200:
                break
        assert (await http.post(url, content=body, headers=signed(body))).status_code == 200
        assert [m.text for m in assistant.received] == ["one", "two"]
        assert sent_bodies(graph_api) == ["echo: one", "echo: two"]
    finally:
        await store.close()
