"""connectors/outage.py: while a store is down the user is told to try again, in their language; an answer is sent
only once its turn is stored; REST clients see 503 with Retry-After."""

from __future__ import annotations

import logging
from typing import Any, List, Optional

import pytest
import redis.exceptions
import sqlalchemy.exc
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.lock_store import LockError
from sanic.response import json as json_response

from connectors.outage import (
    RETRY_AFTER_S,
    HeldOutput,
    RefusalNote,
    guarded,
    mark_refused,
    refusal_language,
    refusal_text,
)
from connectors.rest import RestInput
from connectors.texts import load_texts
from talentbot.core.store_outages import LOCK_STORE, TRACKER_STORE, OutageLog, StoreUnavailable

TEXTS = load_texts()
REFUSED = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
PG_DOWN = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


def refusal(language: str) -> str:
    return TEXTS.texts["store_outage"][language]


class Turn:
    """Stands in for Rasa's handle_message: answers twice through the output channel, then fails or not."""

    def __init__(self, error: Optional[Exception] = None) -> None:
        self.error = error

    async def __call__(self, message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "first answer"})
        await message.output_channel.send_text_message(message.sender_id, "second answer")
        if self.error is not None:
            raise self.error


@pytest.fixture
def outages() -> OutageLog:
    return OutageLog(logging.getLogger("test.outage"))


async def send(turn: Turn, text: str, outages: OutageLog, metadata: Any = None, channel: str = "rest") -> List[str]:
    output = CollectingOutputChannel()
    message = UserMessage(text, output, "web:a", input_channel=channel, metadata=metadata)
    await guarded(turn, outages)(message)
    assert message.output_channel is output  # the channel's own output again
    return [sent["text"] for sent in output.messages]


async def test_a_stored_turn_is_answered_in_order(outages):
    assert await send(Turn(), "hello", outages) == ["first answer", "second answer"]


@pytest.mark.parametrize("error", [
    StoreUnavailable(TRACKER_STORE, PG_DOWN),
    StoreUnavailable(LOCK_STORE, REFUSED),
    REFUSED,  # a store that does not report its own outages
    PG_DOWN,
])
async def test_a_turn_that_meets_an_outage_is_refused_and_nothing_of_it_is_sent(error, outages):
    assert await send(Turn(error), "What is TTPS?", outages) == [refusal("en")]


async def test_rasas_lock_error_raised_from_a_redis_failure_is_an_outage(outages):
    try:
        raise REFUSED
    except redis.exceptions.ConnectionError:
        try:
            raise LockError("Error while acquiring lock.")
        except LockError as wrapped:
            error = wrapped
    assert await send(Turn(error), "hello", outages) == [refusal("en")]
    assert list(outages.down()) == ["Redis"]
    await send(Turn(), "hello", outages)  # a message getting through ends an outage nobody else reports
    assert outages.down() == {}


async def test_other_errors_pass_and_nothing_of_the_turn_is_sent(outages):
    output = CollectingOutputChannel()
    with pytest.raises(KeyError):
        await guarded(Turn(KeyError("bug")), outages)(UserMessage("hello", output, "web:a"))
    assert output.messages == []


@pytest.mark.parametrize("text, metadata, channel, expected", [
    ("Can I apply for TTPS?", None, "rest", "en"),
    ("高才通要咩條件？", None, "rest", "zh-Hant"),
    ("高才通需要什么条件？", None, "socketio", "zh-Hans"),
    ("👍", {"language": "zh_CN"}, "wechat", "zh-Hans"),  # nothing to detect: the channel's hint
    ("12345", {"language": "zh-HK"}, "telegram", "zh-Hant"),
])
async def test_the_refusal_is_in_the_users_language(text, metadata, channel, expected, outages):
    error = StoreUnavailable(TRACKER_STORE, PG_DOWN)
    assert await send(Turn(error), text, outages, metadata, channel) == [refusal(expected)]


@pytest.mark.parametrize("channel, languages", [
    ("rest", ["en", "zh-Hant"]),
    ("wechat", ["zh-Hans", "en"]),
    ("some-client-name", ["en", "zh-Hant"]),  # REST clients name any input_channel
])
def test_with_no_language_to_go_on_the_channels_fallback_languages_are_used(channel, languages):
    message = UserMessage("👍", None, "web:a", input_channel=channel, metadata="not a dict")
    assert refusal_language(message) is None
    assert refusal_text(message, TEXTS) == "\n\n".join(refusal(code) for code in languages)


class Output(OutputChannel):
    """A platform output with a method of its own."""

    def __init__(self) -> None:
        self.sent: List[Any] = []

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent.append(("text", text))

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        self.sent.append(("custom", json_message))

    def window_open(self) -> bool:
        return True


async def test_held_output_is_the_channel_but_sends_only_on_release():
    output = Output()
    held = HeldOutput(output)
    assert held.name() == "telegram" and held.window_open() is True
    await held.send_response("u", {"text": "hi", "custom": {"menu": 1}})
    await held.send_text_message("u", "bye")
    assert output.sent == []
    await held.send_held()
    assert output.sent == [("text", "hi"), ("custom", {"menu": 1}), ("text", "bye")]
    await held.send_held()
    assert len(output.sent) == 3


@pytest.mark.parametrize("note, status, retry_after", [
    (None, 200, None),
    (RefusalNote(), 200, None),
    (RefusalNote([TRACKER_STORE]), 503, str(RETRY_AFTER_S)),
])
def test_a_refused_message_is_answered_503_with_retry_after(note, status, retry_after):
    response = json_response([{"recipient_id": "web:a", "text": refusal("en")}])
    mark_refused(response, note)
    assert (response.status, response.headers.get("Retry-After")) == (status, retry_after)


async def test_the_rest_channel_answers_a_refused_message_503(serve, http, assistant):
    async def down(message: UserMessage) -> None:
        if (message.text or "").startswith("down"):
            raise StoreUnavailable(LOCK_STORE, REFUSED)
        await message.output_channel.send_text_message(message.sender_id, "answer")

    assistant.answer = down
    url = await serve(RestInput(), assistant) + "/webhooks/rest/webhook"
    for _ in range(2):  # the same connection: a refusal does not stick to the next request
        refused = await http.post(url, json={"sender": "visitor-1", "message": "down, 你们好"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == str(RETRY_AFTER_S)
        assert refused.json() == [{"recipient_id": "visitor-1", "text": refusal("zh-Hans")}]
        answered = await http.post(url, json={"sender": "visitor-1", "message": "hello"})
        assert answered.status_code == 200 and "Retry-After" not in answered.headers
        assert answered.json() == [{"recipient_id": "visitor-1", "text": "answer"}]


class QueueDown:
    """A handoff ticket store whose database is down."""

    def open_ticket_for(self, sender_id: str) -> None:
        raise PG_DOWN


async def test_the_handoff_queue_down_is_logged_once_and_messages_go_to_the_assistant(caplog):
    from connectors.handoff_gate import HANDOFF_QUEUE, HandoffGate
    from talentbot.core.handoff.policy import default_policy
    from talentbot.core.store_outages import OUTAGES

    caplog.set_level(logging.INFO)
    gate = HandoffGate(QueueDown(), default_policy())
    try:
        for _ in range(5):
            output = CollectingOutputChannel()
            await gate.handle(UserMessage("hello", output, "visitor-1"), Turn())
            assert [sent["text"] for sent in output.messages] == ["first answer", "second answer"]
        assert [r.levelname for r in caplog.records if r.name.startswith(("connectors", "talentbot"))] == ["ERROR"]
        assert HANDOFF_QUEUE in OUTAGES.down()
    finally:
        OUTAGES.succeeded(HANDOFF_QUEUE)
