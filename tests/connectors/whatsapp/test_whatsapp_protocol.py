"""WhatsApp Cloud API protocol, pure: verification, signatures, notifications, message bodies."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Optional

import pytest

from connectors.choices import Choice
from connectors.whatsapp.protocol import (
    InboundError,
    interactive_message,
    parse_inbound,
    text_message,
    verify_challenge,
    verify_signature,
)

SECRET = "app-secret"


@pytest.mark.parametrize(
    "params, challenge",
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}, "1158201444"),
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, None),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "vt", "hub.challenge": "1"}, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, None),
        ({}, None),
    ],
)
def test_verify_challenge(params: dict, challenge: Optional[str]) -> None:
    assert verify_challenge(params, "vt") == challenge


def meta_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "header, ok",
    [
        (meta_signature(b'{"a":1}'), True),
        (meta_signature(b'{"a":1}').upper().replace("SHA256=", "sha256="), True),
        (meta_signature(b'{"a":2}'), False),  # body changed
        (meta_signature(b'{"a":1}', "other"), False),
        ("sha1=" + hashlib.sha1(b'{"a":1}').hexdigest(), False),
        ("", False),
        (None, False),
    ],
)
def test_verify_signature(header: Optional[str], ok: bool) -> None:
    assert verify_signature(SECRET, b'{"a":1}', header) is ok


def notification(*messages: dict, statuses: Optional[list] = None) -> dict:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"}}
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}


def msg(kind: str, content: dict, wamid: str = "wamid.1") -> dict:
    return {"from": "85291234567", "id": wamid, "timestamp": "1764064800", "type": kind, kind: content}


@pytest.mark.parametrize(
    "message, kind, text",
    [
        (msg("text", {"body": "優才計劃係咩嚟㗎？"}), "text", "優才計劃係咩嚟㗎？"),
        (msg("interactive", {"type": "button_reply", "button_reply": {"id": "/greet", "title": "Hi"}}), "text", "/greet"),
        (msg("interactive", {"type": "list_reply", "list_reply": {"id": "/ask_scheme_info", "title": "TTPS"}}), "text", "/ask_scheme_info"),
        (msg("button", {"payload": "yes", "text": "Yes"}), "text", "yes"),
        (msg("image", {"id": "media", "mime_type": "image/jpeg"}), "unsupported", None),
        (msg("location", {"latitude": 22.3, "longitude": 114.2}), "unsupported", None),
        (msg("unsupported", {}), "unsupported", None),
        (msg("text", {"body": "  "}), "unsupported", None),
    ],
)
def test_parse_inbound_messages(message: dict, kind: str, text: Optional[str]) -> None:
    [inbound] = parse_inbound(notification(message))
    assert (inbound.kind, inbound.text, inbound.wa_id, inbound.message_id) == (kind, text, "85291234567", "wamid.1")


def test_status_callbacks_yield_nothing() -> None:
    statuses = [{"id": "wamid.9", "status": "delivered", "timestamp": "1", "recipient_id": "85291234567"}]
    assert parse_inbound(notification(statuses=statuses)) == []


@pytest.mark.parametrize(
    "data",
    [[], {}, {"entry": "x"}, {"entry": [{"changes": [{"field": "messages"}]}]},
     notification({"type": "text", "text": {"body": "no id"}})],
)
def test_malformed_notifications_raise(data: Any) -> None:
    with pytest.raises(InboundError):
        parse_inbound(data)


def test_text_message_body() -> None:
    assert text_message("85291234567", "hi") == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "85291234567",
        "type": "text", "text": {"preview_url": False, "body": "hi"},
    }


def test_up_to_three_short_choices_are_reply_buttons() -> None:
    body = interactive_message("852", "Which?", [Choice("TTPS", "/a"), Choice("QMAS", "/b")], "Options")
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Which?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "/a", "title": "TTPS"}},
                               {"type": "reply", "reply": {"id": "/b", "title": "QMAS"}}]},
    }


def test_more_or_longer_choices_are_a_list_with_rows_cut_to_fit() -> None:
    choices = [Choice(f"Scheme {i}", f"/s{i}") for i in range(4)] + [Choice("Technology Talent Admission Scheme", "/t")]
    body = interactive_message("852", "Which?", choices, "Options")
    interactive = body["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Options"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 5 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[-1] == {"id": "/t", "title": "Technology Talent Admis…", "description": "Technology Talent Admission Scheme"}


def test_more_than_ten_choices_are_not_interactive() -> None:
    assert interactive_message("852", "Which?", [Choice(str(i), str(i)) for i in range(11)], "Options") is None
