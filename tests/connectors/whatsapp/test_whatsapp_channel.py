"""The WhatsApp webhook in a real Sanic app, answering through a fake Graph API."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from connectors.guards import MAX_BODY_BYTES
from connectors.whatsapp import WhatsAppInput

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
    ok = await http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
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
            message.sender_id, "Bring your family?", [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
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
        buttons = [{"title": f"Office {i}", "payload": f"/ask_contact_office{{\"location\":\"{i}\"}}"} for i in range(12)]
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
    "body, status",
    [(b"{oops", 400), (b"[]", 400), (b'{"entry": [{"changes": [{"field": "messages"}]}]}', 400),
     (b'{"entry": [], "pad": "' + b"x" * MAX_BODY_BYTES + b'"}', 413)],
    ids=["malformed", "array", "missing-value", "oversized"],
)
async def test_bad_bodies_get_a_clear_4xx(whatsapp, http, assistant, body: bytes, status: int) -> None:
    _, url = whatsapp
    assert (await http.post(url, content=body, headers=signed(body))).status_code == status
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
