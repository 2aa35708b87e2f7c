"""Where a user's message goes while a ticket may be open, and what they are told."""

from __future__ import annotations

import pytest

from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.relay import Route, acknowledgement, route

POLICY = default_policy()


def test_without_an_open_ticket_the_assistant_answers() -> None:
    assert route(None, "唔使喇", POLICY) is Route.BOT
    assert route("resolved", "hello", POLICY) is Route.BOT


@pytest.mark.parametrize("text", ["cancel", "Cancel.", "唔使喇！", "不用了", "ｃａｎｃｅｌ"])
def test_a_cancel_phrase_leaves_a_waiting_queue(text: str) -> None:
    assert route("waiting", text, POLICY) is Route.CANCEL


def test_other_messages_while_waiting_join_the_ticket() -> None:
    assert route("waiting", "唔使喇，我想問多句", POLICY) is Route.TICKET
    assert route("waiting", "", POLICY) is Route.TICKET


def test_once_staff_have_it_cancel_is_a_message_to_them() -> None:
    assert route("assigned", "cancel", POLICY) is Route.TICKET


def test_a_waiting_user_hears_their_place_in_their_language() -> None:
    assert "number 2" in (acknowledgement("waiting", 2, "en") or "")
    assert "第 3 位" in (acknowledgement("waiting", 3, "zh-Hant") or "")
    assert "排在第 1 位" in (acknowledgement("waiting", 1, "zh-Hans") or "")


def test_no_automatic_reply_while_staff_are_talking() -> None:
    assert acknowledgement("assigned", None, "en") is None
