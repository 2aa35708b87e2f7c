"""Telegram protocol, pure: secret header, updates, group addressing, keyboards, limits."""
from __future__ import annotations

from typing import Any, Optional

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from connectors.choices import Choice
from connectors.telegram.protocol import (
    MAX_TEXT_LENGTH,
    InboundError,
    callback_data,
    inline_keyboard,
    language_payload,
    load_update,
    parse_inbound,
    split_for_limits,
    transient,
    verify_secret,
)

BOT = "talentbot_test_bot"
BOT_ID = 7000001


def update(text: Optional[str] = "hi", chat_type: str = "private", chat_id: int = 42, **extra: Any) -> dict:
    message: dict[str, Any] = {
        "message_id": 1,
        "date": 1764064800,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": "zh-hans"},
        **extra,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": 10, "message": message}


@pytest.mark.parametrize(
    "given, ok",
    [("s3cret", True), ("S3CRET", False), ("", False), (None, False), ("s3cret ", False),
     ("s3crét", False), ("s3cret\udcff", False)],  # any header byte (Sanic hands undecodable ones as surrogates)
)
def test_verify_secret(given: Optional[str], ok: bool) -> None:
    assert verify_secret("s3cret", given) is ok


@pytest.mark.parametrize(
    "data, kind, text, command",
    [
        (update("高才通要咩條件？"), "text", "高才通要咩條件？", None),
        (update("/start"), "command", None, "start"),
        (update("/start@talentbot_test_bot"), "command", None, "start"),
        (update("/language zh-Hant"), "command", "zh-Hant", "language"),
        (update(None, photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]),
         "unsupported", None, None),
        (update("hello all", chat_type="group", chat_id=-5), "ignored", None, None),
        (update("@talentbot_test_bot what is QMAS?", chat_type="supergroup", chat_id=-5),
         "text", "what is QMAS?", None),
        (update("/start", chat_type="group", chat_id=-5), "ignored", None, None),  # not addressed to us
        (update("/start@talentbot_test_bot", chat_type="group", chat_id=-5), "command", None, "start"),
        (update("/start@other_bot", chat_type="group", chat_id=-5), "ignored", None, None),
        (update("and the quota?", chat_type="group", chat_id=-5,
                reply_to_message={"message_id": 0, "date": 1, "chat": {"id": -5, "type": "group"},
                                  "from": {"id": BOT_ID, "is_bot": True, "first_name": "bot"}, "text": "TTPS..."}),
         "text", "and the quota?", None),
        (update(None, chat_type="group", chat_id=-5), "ignored", None, None),
        ({"update_id": 11, "edited_message": update()["message"]}, "ignored", None, None),
    ],
)
def test_parse_inbound(data: dict, kind: str, text: Optional[str], command: Optional[str]) -> None:
    inbound = parse_inbound(data, BOT, BOT_ID)
    assert (inbound.kind, inbound.text, inbound.command) == (kind, text, command)


def test_private_message_carries_chat_and_language() -> None:
    inbound = parse_inbound(update("hi"), BOT, BOT_ID)
    assert (inbound.update_id, inbound.chat_id, inbound.language_code) == (10, 42, "zh-hans")


def test_callback_query() -> None:
    data = {
        "update_id": 12,
        "callback_query": {
            "id": "cbq1",
            "from": {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "chat_instance": "ci",
            "data": '/ask_scheme_info{"scheme":"TTPS"}',
            "message": {"message_id": 5, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "Which?"},
        },
    }
    inbound = parse_inbound(data, BOT, BOT_ID)
    assert (inbound.kind, inbound.chat_id, inbound.text, inbound.callback_query_id) == (
        "callback", 42, '/ask_scheme_info{"scheme":"TTPS"}', "cbq1",
    )


def with_message(**fields: Any) -> dict:
    data = update("hi")
    data["message"].update(fields)
    return data


def callback(**fields: Any) -> dict:
    query = {"id": "cbq1", "chat_instance": "ci", "data": "/greet",
             "from": {"id": 42, "is_bot": False, "first_name": "Ann"}, **fields}
    return {"update_id": 12, "callback_query": query}


@pytest.mark.parametrize(
    "data, problem",
    [
        ([], "a JSON object, not an array"),
        ("x", "not a string"),
        ({}, "update_id is missing"),
        ({"update_id": "10"}, "update_id must be an integer"),
        ({"update_id": True}, "update_id must be an integer, not a boolean"),
        ({"update_id": 2**70}, "out of range"),
        ({"update_id": 1, "message": {"text": "no chat"}}, "message.chat is missing"),
        ({"update_id": 1, "message": "hi"}, "update.message must be an object"),
        # a sender id is made of the chat id: never a string (NUL and all), a boolean or a 70-bit number
        (with_message(chat={"id": "42\x00", "type": "private"}), "message.chat.id must be an integer"),
        (with_message(chat={"id": True, "type": "private"}), "message.chat.id must be an integer"),
        (with_message(chat={"id": -(2**70), "type": "private"}), "out of range"),
        (with_message(chat={"id": 42, "type": ["private"]}), "message.chat.type must be a string"),
        (with_message(text=123), "message.text must be a string, not a number"),
        (with_message(text={"x": 1}), "message.text must be a string, not an object"),
        (with_message(**{"from": {"id": 42, "language_code": 7}}), "language_code must be a string"),
        (with_message(reply_to_message={"from": {"id": "bot"}}), "reply_to_message.from.id must be an integer"),
        (callback(data=["a"]), "callback_query.data must be a string"),
        (callback(id=5), "callback_query.id must be a string"),
        (callback(**{"from": None}), "callback_query.from is missing"),
        (callback(message={"chat": {"id": "x", "type": "private"}}), "callback_query.message.chat.id"),
        ({"update_id": 1, "edited_message": {"chat": []}}, "malformed update"),  # a field we do not read
    ],
)
def test_malformed_updates_raise_saying_what_is_wrong(data: Any, problem: str) -> None:
    with pytest.raises(InboundError, match=problem.replace(".", r"\.").replace("(", r"\(")):
        parse_inbound(data, BOT, BOT_ID)


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"1" * 5000])
def test_load_update_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(InboundError, match="not JSON"):
        load_update(body)


def test_callback_data_is_cleaned_like_text() -> None:
    inbound = parse_inbound(callback(data="/gre\x00et\ud800"), BOT, BOT_ID)
    assert (inbound.kind, inbound.text, inbound.chat_id) == ("callback", "/greet", 42)


@pytest.mark.parametrize("chat_type, kind", [("private", "unsupported"), ("group", "ignored")])
def test_a_text_of_control_characters_only_is_not_text(chat_type: str, kind: str) -> None:
    assert parse_inbound(update("\x00\x07 \ud800", chat_type=chat_type, chat_id=-5), BOT, BOT_ID).kind == kind


@pytest.mark.parametrize(
    "error, later",
    [(NetworkError("Bad Gateway"), True), (TimedOut(), True), (RetryAfter(3), True),
     (BadRequest("chat not found"), False), (Forbidden("bot was blocked by the user"), False), (KeyError(), False)],
)
def test_which_bot_api_errors_mean_not_now(error: Exception, later: bool) -> None:
    assert transient(error) is later


@pytest.mark.parametrize(
    "choice, data",
    [
        (Choice("TTPS", '/ask_scheme_info{"scheme":"TTPS"}'), '/ask_scheme_info{"scheme":"TTPS"}'),
        (Choice("Tell me more", "/x" + "y" * 80), "Tell me more"),  # payload too long: the title
        (Choice("高" * 30, "/x" + "y" * 80), "高" * 21),  # both too long: title cut at 64 bytes, whole characters
    ],
)
def test_callback_data_fits_64_bytes(choice: Choice, data: str) -> None:
    assert callback_data(choice) == data
    assert len(callback_data(choice).encode()) <= 64


def test_inline_keyboard_one_button_per_row_links_open_urls() -> None:
    markup = inline_keyboard([Choice("TTPS", "/a"), Choice("ImmD", "", url="https://www.immd.gov.hk")]).to_dict()
    assert markup == {
        "inline_keyboard": [
            [{"text": "TTPS", "callback_data": "/a"}],
            [{"text": "ImmD", "url": "https://www.immd.gov.hk"}],
        ]
    }


def test_language_payload_is_the_change_language_intent() -> None:
    assert language_payload("zh-Hans") == '/change_language{"language":"zh-Hans"}'


def test_split_at_4096() -> None:
    parts = split_for_limits("Sentence number one. " * 400)
    assert len(parts) == 3 and all(len(p) <= MAX_TEXT_LENGTH for p in parts)  # 8,400 characters
