"""Several events in one broker message (the event broker's `batch: true`) and back."""

from __future__ import annotations

import json

from talentbot.core.analytics.batches import BATCH_HEADER, BATCH_TURNS_HEADER, batch_message, deliveries
from talentbot.core.analytics.turns import TURN_HEADER

EVENTS = [{"sender_id": "a", "event": "user", "text": "one\ntwo", "timestamp": 1.0},
          {"sender_id": "a", "event": "bot", "text": "ok", "timestamp": 1.1}]


def test_a_batch_gives_back_each_event_and_its_summary() -> None:
    items = [(json.dumps(EVENTS[0]), {TURN_HEADER: '{"v":1}'}), (json.dumps(EVENTS[1]), {})]
    body, headers = batch_message(items)
    assert body.count(b"\n") == 1  # a newline in a text is escaped in the JSON
    assert headers == {BATCH_HEADER: 2, BATCH_TURNS_HEADER: ['{"v":1}', ""]}
    unpacked = deliveries(body, headers)
    assert [json.loads(line) for line, _ in unpacked] == EVENTS
    assert [own for _, own in unpacked] == [{TURN_HEADER: '{"v":1}'}, {}]
    assert [json.loads(line) for line, _ in deliveries(body.decode(), headers)] == EVENTS


def test_a_single_event_message_is_itself() -> None:
    body = json.dumps(EVENTS[0]).encode()
    assert deliveries(body, {TURN_HEADER: "{}"}) == [(body, {TURN_HEADER: "{}"})]
    assert deliveries(body, None) == [(body, {})]


def test_a_batch_without_its_summaries_still_gives_every_event() -> None:
    body, headers = batch_message([(json.dumps(e), {}) for e in EVENTS])
    del headers[BATCH_TURNS_HEADER]
    assert [own for _, own in deliveries(body, headers)] == [{}, {}]
