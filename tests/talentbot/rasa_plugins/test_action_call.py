"""What the action server's webhook accepts (talentbot/rasa_plugins/action_call.py): a call as Rasa makes it, capped,
checked and
cleaned before rasa_sdk or an action sees it."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from talentbot.core.inbound import Refusal
from talentbot.rasa_plugins.action_call import MAX_CALL_BYTES, MAX_DEPTH, decoded, parse_call, slot_types


def call(**tracker) -> dict:
    return {"next_action": "action_handoff", "tracker": {"sender_id": "telegram:42", **tracker},
            "domain": {}, "version": "3.6.21"}


def encode(value) -> bytes:
    return json.dumps(value).encode("ascii")  # lone surrogates as JSON escapes, as Rasa writes them


def test_a_call_as_rasa_3_6_makes_it_is_accepted_as_it_is() -> None:
    """Built by Rasa itself (RemoteAction's call format) from a tracker with every kind of event the dialogue
    produces: validation must never refuse what Rasa sends."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActiveLoop,
        BotUttered,
        ConversationPaused,
        ConversationResumed,
        FollowupAction,
        LoopInterrupted,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from talentbot.core import paths

    domain = Domain.load(str(paths.DOMAIN))
    tracker = DialogueStateTracker.from_events("web:" + "a" * 32, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("高才通要咩條件？ \U0001F600", intent={"name": "ask_scheme", "confidence": 0.9},
                    entities=[{"entity": "scheme", "value": "TTPS", "start": 0, "end": 3}],
                    parse_data={"intent_ranking": [{"name": "ask_scheme", "confidence": 0.9}]},  # type: ignore[arg-type]
                    input_channel="socketio", metadata={"page": {"path": "/", "tags": [1, 2.5, None]}}),
        SlotSet("scheme", "TTPS"), ActiveLoop("eligibility_form"), SlotSet("requested_slot", "age"),
        BotUttered("Which one?", {"buttons": [{"title": "TTPS", "payload": "/inform"}]}, {"utter_action": "utter_x"}),
        ActionExecuted("action_listen"), ActionExecutionRejected("eligibility_form"), LoopInterrupted(True),
        FollowupAction("action_listen"), ConversationPaused(), ConversationResumed(),
        UserUttered("I want a person", intent={"name": "request_human", "confidence": 0.8}, input_channel="rest"),
    ], slots=domain.slots)
    sent = RemoteAction("action_handoff", EndpointConfig("http://localhost:5055/webhook"))._action_call_format(
        tracker, domain)
    assert parse_call(encode(sent)) == json.loads(encode(sent))


def test_every_string_is_cleaned_keys_too() -> None:
    raw = encode({**call(latest_message={"text": "hi\x00\ud800 \U0001F600\x1b[31m", "entities": []},
                         slots={"na\x00me": "Wong\udfff"}), "sender_id": "telegram:42"})
    parsed = parse_call(raw)
    assert isinstance(parsed, dict)
    assert parsed["tracker"]["latest_message"]["text"] == "hi \U0001F600[31m"
    assert parsed["tracker"]["slots"] == {"name": "Wong"}


@pytest.mark.parametrize("value, says", [
    ({"tracker": {"sender_id": "a"}}, "next_action is missing"),
    ({"next_action": "", "tracker": {"sender_id": "a"}}, "next_action must not be empty"),
    ({"next_action": 7, "tracker": {"sender_id": "a"}}, "next_action must be a string, not a number"),
    ({"next_action": "a"}, "tracker is missing"),
    ({"next_action": "a", "tracker": None}, "tracker is missing"),
    ({"next_action": "a", "tracker": "x"}, "tracker must be an object, not a string"),
    ({"next_action": "a", "tracker": {"sender_id": "a"}, "domain": []}, "domain must be an object"),
    ({"next_action": "a", "tracker": {"sender_id": "a"}, "version": 3.6}, "version must be a string"),
    (call(sender_id=None), "tracker.sender_id is missing"),
    (call(sender_id=" \x00 "), "tracker.sender_id must not be empty"),
    (call(slots=[]), "tracker.slots must be an object, not an array"),
    (call(slots=None), "tracker.slots must be an object, not null"),  # rasa_sdk takes a null as it is
    (call(events=None), "tracker.events must be an array, not null"),
    (call(events=[1]), "tracker.events[0] must be an object, not a number"),
    (call(events=[{"name": "x"}]), "tracker.events[0].event is missing"),
    (call(events=[{"event": "user", "parse_data": "x"}]), "tracker.events[0].parse_data must be an object"),
    (call(events=[{"event": "user", "input_channel": 5}]), "tracker.events[0].input_channel must be a string"),
    (call(events=[{"event": "user", "parse_data": {"entities": ["x"]}}]),
     "tracker.events[0].parse_data.entities[0] must be an object, not a string"),
    (call(latest_message={"text": ["hi"]}), "tracker.latest_message.text must be a string, not an array"),
    (call(latest_message={"intent": {"name": 1}}), "tracker.latest_message.intent.name must be a string"),
    (call(latest_message={"entities": [{"entity": {}}]}), "tracker.latest_message.entities[0].entity must be a"),
    (call(paused="no"), "tracker.paused must be a boolean, not a string"),
    (call(active_loop={"name": []}), "tracker.active_loop.name must be a string, not an array"),
])
def test_a_call_of_the_wrong_shape_says_what_is_wrong(value: dict, says: str) -> None:
    refusal = parse_call(encode(value))
    assert isinstance(refusal, Refusal) and refusal.status == 400 and says in refusal.reason


@pytest.mark.parametrize("raw, says", [
    (b"", "empty"), (b"nope", "not valid JSON"), (b"\xff", "not valid JSON (UTF-8)"), (b"[]", "is an array"),
    (b'{"next_action": NaN}', "not valid JSON"), (b'{"n": ' + b"1" * 5000 + b"}", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
])
def test_bodies_that_are_no_json_object(raw: bytes, says: str) -> None:
    refusal = parse_call(raw)
    assert isinstance(refusal, Refusal) and refusal.status == 400 and says in refusal.reason


def test_nesting_is_capped_after_parsing_too() -> None:
    deep: object = "x"
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    refusal = parse_call(encode({**call(), "domain": {"deep": deep}}))
    assert isinstance(refusal, Refusal) and "nested more than 64 levels" in refusal.reason


def test_deflate_is_inflated_up_to_the_cap_only() -> None:
    body = encode(call())
    assert decoded(zlib.compress(body), "deflate") == body
    assert decoded(body, None) == decoded(body, "identity") == body
    bomb = zlib.compress(b" " * (MAX_CALL_BYTES + 1))
    assert decoded(bomb, "Deflate") == Refusal(413, "the call is over 16,777,216 bytes")
    assert decoded(zlib.compress(body)[:-4], "deflate") == Refusal(400, "the deflate (zlib) data is truncated")
    not_deflate, gzip = decoded(b"not deflate", "deflate"), decoded(body, "gzip")
    assert isinstance(not_deflate, Refusal) and not_deflate.status == 400
    assert isinstance(gzip, Refusal) and gzip.status == 415


def test_a_call_over_the_cap_is_refused() -> None:
    assert parse_call(b" " * (MAX_CALL_BYTES + 1)) == Refusal(413, "the call is over 16,777,216 bytes")


DOMAIN: list[dict[str, Any]] = [
    {"slots": {"language": {"type": "categorical", "values": ["en"]}, "note": {"type": "text"},
               "count": {"type": "float"}, "done": {"type": "bool"}, "seen": {"type": "list"},
               "state": {"type": "any"}}},
    {"forms": {"eligibility_form": {"required_slots": []}}},
]


def test_the_domains_typed_slots_and_the_requested_slot_of_its_forms() -> None:
    assert slot_types(DOMAIN) == {"language": "categorical", "note": "text", "count": "float", "done": "bool",
                                  "seen": "list", "requested_slot": "text"}


@pytest.mark.parametrize("slots, says", [
    ({"requested_slot": [None]}, "tracker.slots.requested_slot must be a string or null (a text slot), not an array"),
    ({"language": {"en": 1}}, "tracker.slots.language must be a string, a number or a boolean or null"),
    ({"count": True}, "tracker.slots.count must be a number or null (a float slot), not a boolean"),
    ({"count": "3"}, "tracker.slots.count must be a number"),
    ({"done": 1}, "tracker.slots.done must be a boolean"),
    ({"seen": "a"}, "tracker.slots.seen must be an array"),
])
def test_a_slot_holding_what_its_type_cannot_is_refused(slots: dict, says: str) -> None:
    refusal = parse_call(encode(call(slots=slots)), slots=slot_types(DOMAIN))
    assert isinstance(refusal, Refusal) and refusal.status == 400 and says in refusal.reason


def test_slots_of_their_type_null_any_or_unknown_pass() -> None:
    slots = {"language": "en", "note": "x", "count": 2.5, "done": False, "seen": [1], "requested_slot": None,
             "state": {"anything": [1, {"goes": None}]}, "not_in_the_domain": [1]}
    parsed = parse_call(encode(call(slots=slots)), slots=slot_types(DOMAIN))
    assert isinstance(parsed, dict) and parsed["tracker"]["slots"] == slots
