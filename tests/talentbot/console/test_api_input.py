"""What the console API accepts (talentbot/console/api_input.py): bodies, log-ins, replies, transfers, the status
filter and session cookies, checked before any store call."""

from __future__ import annotations

import pytest

from talentbot.console.api_input import (
    MAX_REPLY_CHARS,
    credentials,
    json_object,
    reply_text,
    session_token,
    ticket_status,
    transfer_target,
)
from talentbot.core.handoff import auth
from talentbot.core.inbound import Refusal


@pytest.mark.parametrize("raw, why", [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b"{", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),  # not UTF-8
    (b'{"text": NaN}', "not valid JSON"),
    (b"[" * 100_000, "not valid JSON"),  # nested past the recursion limit
    (b"[]", "not an array"),
    (b'"text"', "not a string"),
    (b"null", "not null"),
    (b"12", "not a number"),
])
def test_a_body_must_be_a_json_object(raw: bytes, why: str) -> None:
    refusal = json_object(raw)
    assert isinstance(refusal, Refusal) and refusal.status == 400 and why in refusal.reason


def test_a_json_object_is_taken_as_sent() -> None:
    assert json_object(b'{"text": "\\ud800", "n": 1}') == {"text": "\ud800", "n": 1}  # cleaned where it is read


@pytest.mark.parametrize("body, why", [
    ({}, "username is missing"),
    ({"username": "amy"}, "password is missing"),
    ({"username": 7, "password": "x"}, "username must be a string, not a number"),
    ({"username": "amy", "password": ["x"]}, "password must be a string, not an array"),
    ({"username": "amy\x00", "password": "x"}, auth.USERNAME_RULE),
    ({"username": "amy\n", "password": "x"}, auth.USERNAME_RULE),  # `$` would have let this through
    ({"username": "a" * 65, "password": "x"}, auth.USERNAME_RULE),
    ({"username": "amy", "password": "pass\ud800word"}, "lone surrogates"),
    ({"username": "amy", "password": "pass\x00word"}, "control characters"),
    ({"username": "amy", "password": "é" * 37}, "at most 72 bytes"),
])
def test_log_ins_no_account_could_match_are_refused_unchecked(body: dict, why: str) -> None:
    refusal = credentials(body)
    assert isinstance(refusal, Refusal) and refusal.status == 400 and why in refusal.reason


def test_a_plausible_log_in_is_taken() -> None:
    assert credentials({"username": "amy.w@team-1", "password": "密碼 correct horse"}) == (
        "amy.w@team-1", "密碼 correct horse")


def test_a_reply_is_cleaned_like_a_users_message() -> None:
    assert reply_text({"text": "Hel\x00lo\ud800 \U0001F600\x1b!\n\tbye"}) == "Hello \U0001F600!\n\tbye"


@pytest.mark.parametrize("body, status, why", [
    ({}, 400, "text is missing"),
    ({"text": None}, 400, "text is missing"),
    ({"text": 1}, 400, "not a number"),
    ({"text": " \x00\ud800\n"}, 400, "non-empty"),
    ({"text": "x" * (MAX_REPLY_CHARS + 1)}, 413, "at most 4,096 characters; this one has 4,097"),
])
def test_bad_replies(body: dict, status: int, why: str) -> None:
    refusal = reply_text(body)
    assert isinstance(refusal, Refusal) and refusal.status == status and why in refusal.reason


def test_the_cap_counts_what_is_left_after_cleaning() -> None:
    assert reply_text({"text": "x" * MAX_REPLY_CHARS + "\x00" * 100}) == "x" * MAX_REPLY_CHARS


@pytest.mark.parametrize("body, expected", [
    ({"username": "ben"}, "ben"),
    ({"username": ""}, Refusal(400, auth.USERNAME_RULE)),
    ({"username": "ben\x00"}, Refusal(400, auth.USERNAME_RULE)),
    ({"username": ["ben"]}, Refusal(400, "username must be a string, not an array")),
    ({}, Refusal(400, 'username is missing: send "username", the colleague to transfer the ticket to')),
])
def test_transfer_target(body: dict, expected) -> None:
    assert transfer_target(body) == expected


@pytest.mark.parametrize("value, expected", [
    (None, "waiting"), ("waiting", "waiting"), ("assigned", "assigned"), ("resolved", "resolved"),
    ("", Refusal(400, "status must be one of waiting, assigned, resolved")),
    ("WAITING", Refusal(400, "status must be one of waiting, assigned, resolved")),
    ("waiting\x00", Refusal(400, "status must be one of waiting, assigned, resolved")),
])
def test_status_filter(value, expected) -> None:
    assert ticket_status(value) == expected


@pytest.mark.parametrize("cookie, expected", [
    (None, None), ("", None), ("short", None), ("x" * 129, None), ("\udcff" * 43, None),
    ("a" * 43 + "\n", None), ("ä" * 43, None), ("abc;def" * 6, None),
])
def test_cookies_that_cannot_be_a_session_are_never_looked_up(cookie, expected) -> None:
    assert session_token(cookie) is expected


def test_a_real_token_is_one() -> None:
    token = auth.new_token()
    assert session_token(token) == token


def test_csrf_headers_that_are_not_ascii_are_wrong_not_an_error() -> None:
    expected = auth.new_token()
    assert not auth.csrf_valid(expected, "\udcff" + expected[1:])
    assert not auth.csrf_valid(expected, "é" * len(expected))
    assert auth.csrf_valid(expected, expected)
