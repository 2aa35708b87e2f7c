"""A turn summed up from the events Rasa publishes together, and a published event into its analytics row."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from talentbot.core.analytics import outcome
from talentbot.core.analytics.identity import conversation_key, event_key
from talentbot.core.analytics.records import Malformed, message_row, parse, rows_from
from talentbot.core.analytics.turns import TURN_HEADER, decode, encode, summarize, turns_of

SALT = b"s" * 32
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def user(sender: str, ts: float, text: str, intent: str = "ask_scheme_info", confidence: float = 0.97,
         **parse_data: object) -> dict:
    return {"sender_id": sender, "event": "user", "timestamp": ts, "text": text, "input_channel": "telegram",
            "message_id": "m1", "metadata": {},
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "text": text, **parse_data}}


def action(sender: str, ts: float, name: str) -> dict:
    return {"sender_id": sender, "event": "action", "timestamp": ts, "name": name, "policy": "RulePolicy"}


def bot(sender: str, ts: float, metadata: dict) -> dict:
    return {"sender_id": sender, "event": "bot", "timestamp": ts, "text": "a reply", "metadata": metadata}


def slot(sender: str, ts: float, name: str, value: object) -> dict:
    return {"sender_id": sender, "event": "slot", "timestamp": ts, "name": name, "value": value}


def test_each_user_message_gets_the_events_of_its_own_conversation_after_it() -> None:
    events = [
        action("a", 1.0, "action_session_start"),
        user("a", 2.0, "hi"), user("b", 2.1, "hello"), action("a", 2.2, "utter_greet"),
        action("b", 2.3, "utter_greet"), action("a", 2.4, "action_listen"),
        user("a", 3.0, "thanks"), action("a", 3.1, "utter_thank"),
    ]
    found = turns_of(events)
    assert [index for index, _ in found] == [1, 2, 6]
    assert [[e["name"] for e in turn] for _, turn in found] == [
        ["utter_greet", "action_listen"], ["utter_greet"], ["utter_thank"]]


def test_a_summary_holds_actions_language_and_outcomes_but_no_text() -> None:
    turn = [
        slot("a", 1.1, "language", "zh-Hant"), slot("a", 1.1, "annual_income_hkd", 2600000),
        action("a", 1.2, "action_answer"),
        bot("a", 1.3, {"metadata": {"language": "zh-Hant", "outcome": outcome.answered(outcome.ENTRY, "ttps.a")}}),
        bot("a", 1.4, {"metadata": {"language": "zh-Hant",
                                    "outcome": outcome.offered(outcome.AFTER_ANSWER, ["ttps.b", "ttps.c"])}}),
        action("a", 1.5, "action_listen"),
    ]
    summary = summarize(turn)
    assert summary == {
        "v": 1, "language": "zh-Hant", "actions": ["action_answer"],
        "outcome": {"answer": {"kind": "entry", "id": "ttps.a"},
                    "did_you_mean": {"kind": "after_answer", "ids": ["ttps.b", "ttps.c"]}},
    }
    assert "2600000" not in encode(summary) and "a reply" not in encode(summary)
    assert decode(encode(summary)) == summary and decode(encode(summary).encode()) == summary
    assert decode("not json") is None and decode(None) is None and decode('{"v": 99}') is None


@pytest.mark.parametrize("metadata, language", [
    ({"utter_action": "utter_greet"}, "en"),  # the variation without a condition is the English one
    ({"utter_action": "utter_greet", "condition": [{"type": "slot", "name": "language", "value": "zh-Hans"}]},
     "zh-Hans"),
    ({"metadata": {"language": "zh-Hant"}}, "zh-Hant"),  # a custom action's own statement
    ({}, None),
])
def test_without_a_language_slot_event_the_first_reply_says_the_language(metadata: dict, language: str) -> None:
    assert summarize([bot("a", 1.0, metadata)])["language"] == language


def test_a_user_message_makes_one_row_with_its_turn_and_no_sender_id() -> None:
    event = user("telegram:12345", 1796109186.5326767, "What is TTPS?",
                 question_bank={"rewritten_from": "out_of_scope", "ranking": []})
    handed_off = {"metadata": {"language": "en", "outcome": outcome.handed_off(7, "waiting")}}
    summary = summarize([slot("telegram:12345", 1796109186.6, "language", "en"), action("x", 0, "ignored"),
                         action("telegram:12345", 1796109186.7, "action_handoff"),
                         bot("telegram:12345", 1796109186.8, handed_off)])
    row = message_row(parse(json.dumps(event)), summary, SALT, NOW)
    assert row is not None
    assert row["event_key"] == event_key("telegram:12345", "user", 1796109186.5326767, SALT)
    assert row["conversation"] == conversation_key("telegram:12345", SALT)
    assert "12345" not in json.dumps(row, default=str)
    assert row["sent_at"] == dt.datetime.fromtimestamp(1796109186.5326767, dt.timezone.utc)
    assert (row["channel"], row["language"], row["intent"], row["confidence"]) == ("telegram", "en", "ask_scheme_info",
                                                                                 0.97)
    assert row["intent_corrected_from"] == "out_of_scope"
    assert (row["handoff"], row["handoff_ticket"]) == (True, 7)
    assert row["text"] is None and not row["nlu_fallback"] and not row["core_fallback"]


@pytest.mark.parametrize("intent, actions, kept", [
    ("nlu_fallback", ["utter_ask_rephrase"], True),
    ("affirm", ["action_default_fallback"], True),
    ("ask_scheme_info", ["action_answer"], False),
])
def test_the_text_is_kept_only_when_the_message_fell_back_and_only_masked(intent: str, actions: list,
                                                                         kept: bool) -> None:
    event = user("rest:x", 10.0, "call 9123 4567 or mail a@b.com", intent=intent)
    row = message_row(event, {"v": 1, "language": "en", "actions": actions, "outcome": {}}, SALT, NOW)
    assert row is not None
    assert row["text"] == ("call [phone] or mail [email]" if kept else None)
    assert row["nlu_fallback"] == (intent == "nlu_fallback")
    assert row["core_fallback"] == ("action_default_fallback" in actions)


def test_other_events_make_no_row_and_broken_ones_are_malformed() -> None:
    assert message_row(action("a", 1.0, "action_listen"), None, SALT, NOW) is None
    with pytest.raises(Malformed):
        parse(b"\xff not json")
    with pytest.raises(Malformed):
        parse("[1, 2]")
    with pytest.raises(Malformed):
        message_row({"event": "user", "timestamp": 1.0}, None, SALT, NOW)


def test_a_batch_of_deliveries_from_either_source() -> None:
    first = user("a", 1.0, "hi", intent="greet")
    summary = summarize([action("a", 1.1, "utter_greet")])
    deliveries: list = [
        (json.dumps(first).encode(), {TURN_HEADER: encode(summary)}),  # RabbitMQ: bytes and headers
        (json.dumps(action("a", 1.1, "utter_greet")), {}),  # the spool: text
        (json.dumps(user("b", 2.0, "hello", intent="greet")), {}),  # published by another producer: no summary
        (b"garbage", {}),
    ]
    rows, malformed = rows_from(deliveries, SALT, NOW)
    assert malformed == 1
    assert [(r["intent"], r["actions"], r["language"]) for r in rows] == [("greet", ["utter_greet"], None),
                                                                        ("greet", None, None)]


def test_other_events_are_passed_over_without_being_parsed() -> None:
    from talentbot.core.analytics.records import might_be_a_user_message

    assert might_be_a_user_message(json.dumps(user("a", 1.0, "hi")), {})
    assert might_be_a_user_message(json.dumps(action("a", 1.0, "x")), {TURN_HEADER: "{}"})
    assert not might_be_a_user_message(json.dumps(action("a", 1.0, "action_listen")).encode(), {})
    assert not might_be_a_user_message(json.dumps(bot("a", 1.0, {})), {})
    tricky = json.dumps({"sender_id": 'x"event": "user"', "event": "bot", "timestamp": 1.0})
    assert not might_be_a_user_message(tricky, {})  # quotes in a sender id are escaped in JSON
    assert might_be_a_user_message("not json at all", {})  # parsed, and counted as malformed
