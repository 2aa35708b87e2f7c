"""What an incoming message must be: text cleaned, capped with a polite note, sender ids of our own, shapes checked."""
from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.inbound import RestMessage, parse_rest_body, sender_problem, too_long_note
from connectors.texts import load_texts
from talentbot.core.inbound import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS, Refusal, clean_text, too_long

WEB = "web:" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    "text, cleaned",
    [
        ("高才通要咩條件？", "高才通要咩條件？"),
        ("hi\x00there", "hithere"),  # PostgreSQL refuses NUL in text
        ("s\ud800", "s"),  # a lone surrogate cannot be encoded as UTF-8 (SQLite's driver raised)
        ("\udfff\ud800", ""),
        ("😀 🇭🇰", "😀 🇭🇰"),  # characters outside the BMP are kept (a pair decoded from JSON is one character)
        ("\x07\x1b[31mred\x7f\x85", "[31mred"),  # control characters no keyboard types
        ("line one\nline two\r\n\tend", "line one\nline two\r\n\tend"),  # layout stays
        ("\u202egnp.exe", "\u202egnp.exe"),  # format characters are for the console to show safely
    ],
)
def test_clean_text_removes_what_no_store_keeps(text: str, cleaned: str) -> None:
    assert clean_text(text) == cleaned
    cleaned.encode("utf-8")  # always encodable


def test_the_cap_is_the_page_input_box() -> None:
    assert not too_long("x" * MAX_MESSAGE_CHARS)
    assert too_long("x" * (MAX_MESSAGE_CHARS + 1))


@pytest.mark.parametrize(
    "text, language",
    [("what is TTPS? " * 300, "en"), ("高才通要咩條件？" * 300, "zh-Hant"), ("高才通申请条件是什么" * 300, "zh-Hans")],
)
def test_the_note_on_a_long_message_is_in_its_language(text: str, language: str) -> None:
    template = load_texts().texts["message_too_long"][language]
    note = too_long_note(text, "rest")
    assert note == template.format(length=f"{len(text):,}", limit=f"{MAX_MESSAGE_CHARS:,}")


def test_the_note_on_a_message_in_no_language_is_in_the_channels_pair() -> None:
    note = too_long_note("👍" * 3000, "socketio")
    assert "too long" in note and "太長" in note


@pytest.mark.parametrize(
    "sender, problem",
    [
        ("alice", None),
        ("test:1234abcd", None),
        (WEB, None),  # the page's REST fallback
        ("x" * MAX_SENDER_CHARS, None),
        (None, "sender is missing"),
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        (123, "must be a string, not a number"),
        (["a"], "not an array"),
        ({"id": 1}, "not an object"),
        (True, "not a boolean"),
        ("x" * (MAX_SENDER_CHARS + 1), "at most"),
        ("s\ud800", "lone surrogates"),
        ("a\x00b", "control characters"),
        ("telegram:42", "belong to the telegram channel"),
        ("whatsapp:85291234567", "whatsapp channel"),
        ("wechat:oUser123", "wechat channel"),
        ("Telegram:42", "telegram channel"),  # no look-alikes in the console either
        ("web:not-a-session", "web channel"),
        ("web:" + "F" * 32, "web channel"),
    ],
)
def test_sender_ids(sender: Any, problem: str | None) -> None:
    found = sender_problem(sender)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "body is empty"),
        (b"  \n", "body is empty"),
        (b"[]", "body is an array"),
        (b'"hi"', "body is a string"),
        (b"42", "body is a number"),
        (b"null", "body is null"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b'{"sender": "s", "message": NaN}', "not valid JSON"),
        pytest.param(b"[" * 30_000 + b"]" * 30_000, "not valid JSON", id="nested-too-deep-for-the-parser"),
        pytest.param(b'{"sender": "a", "message": ' + b"9" * 5000 + b"}", "not valid JSON", id="5000-digit-number"),
        (body(message="hi"), "sender is missing"),
        (body(sender=None, message="hi"), "sender is missing"),
        (body(sender="s\ud800", message="hi"), "lone surrogates"),  # sent as the JSON escape \ud800
        (body(sender="telegram:42", message="cancel"), "telegram channel"),
        (body(sender="a"), "message is missing"),
        (body(sender="a", message=None), "message is missing"),
        (body(sender="a", message=123), "not a number"),
        (body(sender="a", message=[]), "not an array"),
        (body(sender="a", message={}), "not an object"),
        (body(sender="a", message="hi", input_channel="telegram"), "input_channel"),
        (body(sender="a", message="hi", metadata="x"), "metadata must be an object"),
        (body(sender="a", message="hi", metadata=[1]), "metadata must be an object"),
        (body(sender="a", message="hi", metadata=json.loads('{"a":' * 20 + "1" + "}" * 20)), "levels deep"),
    ],
)
def test_wrong_shapes_are_refused_with_what_is_wrong(raw: bytes, reason: str) -> None:
    refusal = parse_rest_body(raw)
    assert isinstance(refusal, Refusal) and refusal.status == 400
    assert reason in refusal.reason


def test_a_body_over_the_cap_is_refused_as_too_large() -> None:
    for refusal in (parse_rest_body(body(sender="a", message="x" * 70_000)),
                    parse_rest_body(b"{}", content_length=str(10**9)),  # declared: refused before reading
                    parse_rest_body(b"{}", content_length="lots")):
        assert isinstance(refusal, Refusal) and refusal.status == 413 and "too large" in refusal.reason


@pytest.mark.parametrize(
    "raw, message",
    [
        (body(sender="a", message="hello"), RestMessage("a", "hello", None)),
        (body(sender="a", message=""), RestMessage("a", "", None)),  # Rasa answers an empty message too
        (body(sender="a", message="hi\x00 the\ud800re"), RestMessage("a", "hi there", None)),
        (body(sender=WEB, message="hi", input_channel="rest"), RestMessage(WEB, "hi", None)),
        (body(sender="a", message="hi", metadata={"lan\x00g": "zh\ud800-HK"}),
         RestMessage("a", "hi", {"lang": "zh-HK"})),
        # over the cap but well formed: the channel answers it with the polite note
        pytest.param(body(sender="a", message="x" * 3000), RestMessage("a", "x" * 3000, None), id="long"),
        ("\ufeff".encode() + body(sender="a", message="hi"), RestMessage("a", "hi", None)),  # byte-order mark
        (body(sender="a", message="hi").decode().encode("utf-16"), RestMessage("a", "hi", None)),  # JSON allows it
        # a surrogate encoded as UTF-8 bytes (CESU-8): Python's JSON decoder lets it through, and it is removed
        ('{"sender": "s", "message": "h\ud800"}'.encode("utf-8", "surrogatepass"), RestMessage("s", "h", None)),
    ],
)
def test_well_formed_bodies_pass_with_their_text_cleaned(raw: bytes, message: RestMessage) -> None:
    assert parse_rest_body(raw) == message
