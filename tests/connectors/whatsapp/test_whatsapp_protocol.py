"""WhatsApp Cloud API protocol, pure: verification, signatures, notifications, message bodies."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Optional

import pytest

from connectors.choices import Choice
from connectors.whatsapp.protocol import (
    InboundError,
    Notification,
    interactive_message,
    load_notification,
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
        ("sha256=é", False),  # non-ASCII: hmac.compare_digest raised TypeError on such strings
        ("sha256=\udcff", False),  # an undecodable header byte, as Sanic hands it over
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
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}


def msg(kind: str, content: Any, wamid: str = "wamid.1") -> dict:
    return {"from": "85291234567", "id": wamid, "timestamp": "1764064800", "type": kind, kind: content}


@pytest.mark.parametrize(
    "message, kind, text",
    [
        (msg("text", {"body": "優才計劃係咩嚟㗎？"}), "text", "優才計劃係咩嚟㗎？"),
        (msg("interactive", {"type": "button_reply", "button_reply": {"id": "/greet", "title": "Hi"}}),
         "text", "/greet"),
        (msg("interactive", {"type": "list_reply", "list_reply": {"id": "/ask_scheme_info", "title": "TTPS"}}),
         "text", "/ask_scheme_info"),
        (msg("button", {"payload": "yes", "text": "Yes"}), "text", "yes"),
        (msg("image", {"id": "media", "mime_type": "image/jpeg"}), "unsupported", None),
        (msg("location", {"latitude": 22.3, "longitude": 114.2}), "unsupported", None),
        (msg("unsupported", {}), "unsupported", None),
        (msg("text", {"body": "  "}), "unsupported", None),
    ],
)
def test_parse_inbound_messages(message: dict, kind: str, text: Optional[str]) -> None:
    [inbound] = parse_inbound(notification(message)).messages
    assert (inbound.kind, inbound.text, inbound.wa_id, inbound.message_id) == (kind, text, "85291234567", "wamid.1")


def test_status_callbacks_yield_nothing() -> None:
    statuses = [{"id": "wamid.9", "status": "delivered", "timestamp": "1", "recipient_id": "85291234567"}]
    assert parse_inbound(notification(statuses=statuses)) == Notification([])


@pytest.mark.parametrize(
    "message, text",
    [
        (msg("text", {"body": "hi\x00 the\ud800re\x85"}), "hi there"),
        (msg("interactive", {"type": "button_reply", "button_reply": {"id": "/gre\x00et", "title": "Hi"}}), "/greet"),
        (msg("interactive", {"type": "list_reply", "list_reply": {"title": "TT\x1bPS"}}), "TTPS"),
        (msg("button", {"payload": "ye\ud800s"}), "yes"),
    ],
)
def test_every_text_that_reaches_rasa_is_cleaned(message: dict, text: str) -> None:
    [inbound] = parse_inbound(notification(message)).messages
    assert inbound.text == text


@pytest.mark.parametrize(
    "message",
    [
        msg("text", {"body": "\x00\x01 "}),  # nothing readable once cleaned
        msg("text", {"body": 42}),
        msg("interactive", {"type": ["button_reply"]}),
        msg("interactive", {"type": "button_reply", "button_reply": {"id": {"x": 1}}}),
    ],
)
def test_messages_with_nothing_readable_are_unsupported(message: dict) -> None:
    [inbound] = parse_inbound(notification(message)).messages
    assert (inbound.kind, inbound.text) == ("unsupported", None)


@pytest.mark.parametrize("data", [[], {}, "x", None, 5, {"entry": "x"}, {"entry": {"changes": []}}])
def test_a_body_that_is_no_notification_raises(data: Any) -> None:
    with pytest.raises(InboundError):
        parse_inbound(data)


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"type": "text", "text": {"body": "no id"}}, "id must be a non-empty string"),
        (msg("text", {"body": "hi"}) | {"from": 85291234567}, "from must be a non-empty string, not a number"),
        (msg("text", {"body": "hi"}) | {"from": "8529\x001234"}, "control characters"),
        (msg("text", {"body": "hi"}) | {"id": "wamid.\ud800"}, "control characters"),
        (msg("text", {"body": "hi"}) | {"id": "w" * 257}, "too long"),
        (msg("text", "not an object"), "text must be an object"),
        (msg("interactive", {"type": "button_reply", "button_reply": "x"}), "button_reply must be an object"),
        ("a string", "a message must be an object"),
    ],
)
def test_a_malformed_message_is_skipped_and_its_neighbours_kept(bad: Any, problem: str) -> None:
    good = msg("text", {"body": "hello"}, wamid="wamid.good")
    parsed = parse_inbound(notification(bad, good))
    assert [m.message_id for m in parsed.messages] == ["wamid.good"]
    [said] = parsed.unreadable
    assert problem in said


@pytest.mark.parametrize(
    "entry",
    ["x", {"changes": "x"}, {"changes": [{"field": "messages"}]},
     {"changes": [{"field": "messages", "value": {"messages": 5}}]}],
)
def test_a_malformed_entry_or_change_is_skipped(entry: Any) -> None:
    data = notification(msg("text", {"body": "hello"}))
    data["entry"].insert(0, entry)
    parsed = parse_inbound(data)
    assert len(parsed.messages) == 1 and len(parsed.unreadable) == 1


@pytest.mark.parametrize("body", [b"", b"{oops", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"9" * 5000])
def test_load_notification_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(InboundError, match="not JSON"):
        load_notification(body)


def test_text_message_body() -> None:
    assert text_message("85291234567", "hi") == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "85291234567",
        "type": "text", "text": {"preview_url": False, "body": "hi"},
    }


def test_up_to_three_short_choices_are_reply_buttons() -> None:
    body = interactive_message("852", "Which?", [Choice("TTPS", "/a"), Choice("QMAS", "/b")], "Options")
    assert body is not None
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Which?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "/a", "title": "TTPS"}},
                               {"type": "reply", "reply": {"id": "/b", "title": "QMAS"}}]},
    }


def test_more_or_longer_choices_are_a_list_with_rows_cut_to_fit() -> None:
    choices = [Choice(f"Scheme {i}", f"/s{i}") for i in range(4)] + [Choice("Technology Talent Admission Scheme", "/t")]
    body = interactive_message("852", "Which?", choices, "Options")
    assert body is not None
    interactive = body["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Options"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 5 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[-1] == {"id": "/t", "title": "Technology Talent Admis…",
                        "description": "Technology Talent Admission Scheme"}


def test_more_than_ten_choices_are_not_interactive() -> None:
    assert interactive_message("852", "Which?", [Choice(str(i), str(i)) for i in range(11)], "Options") is None
