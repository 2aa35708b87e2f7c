"""talentbot.rasa_plugins.rasa_api_input: Rasa's HTTP API takes conversation ids and bodies under the channels' rules.

The rules alone, then Rasa's own route handlers (rasa.server.create_app, as the Rasa server builds them) called
with a request, in front of a stand-in agent that keeps what reaches the tracker store."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sanic.request import Request

from talentbot.console.rasa_api import RESUME_EVENTS
from talentbot.core.inbound import MAX_MESSAGE_CHARS
from talentbot.rasa_plugins import rasa_api_auth, rasa_api_input
from talentbot.rasa_plugins.rasa_api_input import ApiRefusal, check_body, conversation_id, parse_json

TOKEN = "api-token"


# --- the rules ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, decoded",
    [("alice", "alice"), ("telegram:42", "telegram:42"), ("telegram%3A42", "telegram:42"),
     ("alice%20bob", "alice bob"), ("%E9%AB%98%E6%89%8D%E9%80%9A", "高才通"), ("web:" + "a" * 32, "web:" + "a" * 32),
     ("50%25", "50%"), ("a/b", "a/b"), ("x" * 128, "x" * 128)],
)
def test_a_conversation_id_is_percent_decoded(raw: str, decoded: str) -> None:
    """Other channels' namespaces are fine: the console reads and resumes every channel's conversations."""
    assert conversation_id(raw) == decoded


@pytest.mark.parametrize(
    "raw, reason",
    [("a%00b", "control characters"), ("a%1B%5B0m", "control characters"), ("a%ED%A0%80b", "not UTF-8"),
     ("%FF", "not UTF-8"), ("%20%20", "must not be empty"), ("x" * 129, "at most 128")],
)
def test_a_conversation_id_no_store_keeps_is_refused(raw: str, reason: str) -> None:
    refusal = conversation_id(raw)
    assert isinstance(refusal, ApiRefusal) and refusal.status == 400 and reason in refusal.message
    assert refusal.details == {"parameter": "conversation_id", "in": "path"}


def test_every_string_of_a_body_is_cleaned() -> None:
    body = b'{"text": "hi\\u0000 the\\ud800re\\u001b", "metadata": {"k\\u0000": ["v\\udc00", 1, null]}}'
    assert parse_json(body) == {"text": "hi there", "metadata": {"k": ["v", 1, None]}}


@pytest.mark.parametrize(
    "body, reason",
    [(b"", "empty"), (b"  ", "empty"), (b"{broken", "not valid JSON"), (b'{"text": NaN}', "not valid JSON"),
     (b"\xff\xfe", "not valid JSON"), (b"[" * 65 + b"]" * 65, "nested"), (b"[" * 5000 + b"]" * 5000, "nested")],
)
def test_a_body_that_is_not_json_is_refused(body: bytes, reason: str) -> None:
    refusal = parse_json(body)
    assert isinstance(refusal, ApiRefusal) and refusal.status == 400 and reason in refusal.message


@pytest.mark.parametrize(
    "handler, body, status, reason",
    [
        ("add_message", {"text": "x" * (MAX_MESSAGE_CHARS + 1), "sender": "user"}, 413, "at most 2,000"),
        ("add_message", {"sender": "user"}, 400, "text is missing"),
        ("add_message", {"text": 7, "sender": "user"}, 400, "text must be a string"),
        ("add_message", {"text": "hi", "sender": "user", "parse_data": []}, 400, "parse_data must be an object"),
        ("add_message", ["hi"], 400, "the body is an array"),
        ("parse", {"text": "高" * (MAX_MESSAGE_CHARS + 1)}, 413, "at most 2,000"),
        ("parse", {"text": ["x" * (MAX_MESSAGE_CHARS + 1)]}, 413, "at most 2,000"),
        ("parse", {"text": []}, 400, "text must be a string"),
        ("parse", {}, 400, "text is missing"),
        ("parse", "hello", 400, "the body is a string"),
        ("trigger_intent", [], 400, "the body is an array"),
        ("trigger_intent", {"name": "greet", "entities": {"scheme": "x" * 2001}}, 413, "entities"),
        ("trigger_intent", {"name": "greet", "entities": [{"entity": "s", "value": "x" * 2001}]}, 413, "entities"),
        ("execute_action", 5, 400, "the body is a number"),
        ("append_events", [{"event": "user", "text": "x" * 2001}], 413, "at most 2,000"),
        ("append_events", {"event": "user", "text": "x" * 2001}, 413, "at most 2,000"),
        ("replace_events", [{"event": "user", "text": "x" * 2001}], 413, "at most 2,000"),
    ],
)
def test_wrong_shapes_and_messages_over_the_cap_are_refused(handler: str, body: Any, status: int, reason: str) -> None:
    refusal = check_body(handler, json.dumps(body).encode())
    assert isinstance(refusal, ApiRefusal) and (refusal.status, refusal.location) == (status, "body")
    assert reason in refusal.message


@pytest.mark.parametrize(
    "handler, body",
    [
        ("add_message", {"text": "x" * MAX_MESSAGE_CHARS, "sender": "user"}),
        ("parse", {"text": "高才通要咩條件？"}),
        ("trigger_intent", {"name": "greet", "entities": [{"entity": "scheme", "value": "TTPS"}]}),
        ("trigger_intent", {"name": "greet"}),
        ("execute_action", {"name": "action_listen"}),
        ("append_events", RESUME_EVENTS),
        ("append_events", [{"event": "bot", "text": "an answer longer than a user may write " * 100}]),
    ],
)
def test_what_rasa_and_the_console_send_passes_unchanged(handler: str, body: Any) -> None:
    assert check_body(handler, json.dumps(body).encode()) == body


def test_routes_without_a_rule_are_left_to_rasa() -> None:
    assert check_body("retrieve_tracker", b"") is None
    assert check_body("train", b"version: '3.1'\nnlu: []") is None


# --- Rasa's own route handlers ------------------------------------------------------------------------------------


class Processor:
    """The parts of Rasa's MessageProcessor the API's conversation routes call; `saved` is the tracker store."""

    def __init__(self) -> None:
        self.saved: Dict[str, List[Dict[str, Any]]] = {}

    def _tracker(self, conversation: str) -> DialogueStateTracker:
        return DialogueStateTracker(conversation, [])

    async def get_tracker(self, conversation: str) -> DialogueStateTracker:
        return self._tracker(conversation)

    fetch_tracker_with_initial_session = get_tracker
    fetch_tracker_and_update_session = get_tracker

    async def fetch_full_tracker_with_initial_session(self, conversation: str, output_channel: Any = None):
        return self._tracker(conversation)

    async def log_message(self, message: Any, should_save_tracker: bool = True) -> DialogueStateTracker:
        tracker = self._tracker(message.sender_id)
        tracker.update(UserUttered(message.text, parse_data=message.parse_data, metadata=message.metadata))
        return tracker

    async def run_action_extract_slots(self, output_channel: Any, tracker: DialogueStateTracker):
        return tracker

    async def save_tracker(self, tracker: DialogueStateTracker) -> None:
        self.saved.setdefault(tracker.sender_id, []).extend(event.as_dict() for event in tracker.events)


class Agent:
    """A ready agent whose processor keeps what would be stored, and whose NLU records what it was asked."""

    def __init__(self) -> None:
        self.processor = Processor()
        self.lock_store = InMemoryLockStore()
        self.domain = Domain.from_dict({"intents": ["greet"]})
        self.tracker_store = self
        self.parsed: List[str] = []
        self.triggered: List[Tuple[str, Any]] = []

    def is_ready(self) -> bool:
        return True

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.processor.save_tracker(tracker)

    async def parse_message(self, text: str) -> Dict[str, Any]:
        self.parsed.append(text)
        return {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    async def trigger_intent(self, intent_name: str, entities: Any, output_channel: Any, tracker: Any) -> None:
        self.triggered.append((intent_name, copy.deepcopy(entities)))


@pytest.fixture(scope="module")
def rasa_app() -> Sanic:
    """Rasa's API app as talentbot.wiring.rasa_server has Rasa build it (token in the header, input checks)."""
    import rasa.server

    rasa_api_auth.install()
    rasa_api_input.install()
    Sanic.test_mode = True  # several apps per process
    return rasa.server.create_app(auth_token=TOKEN, cors_origins=None)


@pytest.fixture
def agent(rasa_app: Sanic) -> Agent:
    rasa_app.ctx.agent = Agent()
    return rasa_app.ctx.agent


def handler_of(app: Sanic, name: str):
    [handler] = {route.handler for route in app.router.routes if route.handler.__name__ == name}
    return handler


async def call(app: Sanic, name: str, path: str, body: Optional[bytes] = None, token: Optional[str] = TOKEN,
               **kwargs: str) -> Tuple[int, Any]:
    """(status, JSON answer) of Rasa's handler `name` for a request to `path` (Rasa's refusals included)."""
    from rasa.server import ErrorResponse

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = Request(path.encode(), headers, "1.1", "POST", None, app)  # type: ignore[arg-type]  # no transport
    request.body = body or b""
    try:
        answer = await handler_of(app, name)(request, **kwargs)
    except ErrorResponse as error:
        return error.status, error.error_info
    return answer.status, json.loads(answer.body)


def user_texts(agent: Agent) -> Dict[str, List[str]]:
    return {conversation: [event["text"] for event in events if event["event"] == "user"]
            for conversation, events in agent.processor.saved.items()}


async def test_nul_and_lone_surrogates_never_reach_the_tracker_store(rasa_app, agent) -> None:
    body = b'{"text": "hi\\u0000 the\\ud800re", "sender": "user", "parse_data": {"text": "hi\\u0000"}}'
    status, _ = await call(rasa_app, "add_message", "/conversations/alice/messages", body, conversation_id="alice")
    assert status == 200 and user_texts(agent) == {"alice": ["hi there"]}
    [event] = agent.processor.saved["alice"]
    assert event["parse_data"]["text"] == "hi"


async def test_a_message_over_the_cap_is_refused_with_413_in_rasas_error_format(rasa_app, agent) -> None:
    body = json.dumps({"text": "高才通" * 1000, "sender": "user"}).encode()
    status, answer = await call(rasa_app, "add_message", "/conversations/a/messages", body, conversation_id="a")
    assert status == 413 and agent.processor.saved == {}
    assert answer["status"] == "failure" and answer["reason"] == "PayloadTooLarge" and answer["code"] == 413
    assert "3,000 characters" in answer["message"] and answer["details"] == {"parameter": "text", "in": "body"}


async def test_a_conversation_id_no_store_keeps_is_refused_before_anything_is_stored(rasa_app, agent) -> None:
    body = json.dumps(RESUME_EVENTS).encode()
    status, answer = await call(rasa_app, "append_events", "/conversations/a%00b/tracker/events", body,
                                conversation_id="a%00b")
    assert status == 400 and answer["reason"] == "BadRequest" and "control characters" in answer["message"]
    status, _ = await call(rasa_app, "retrieve_tracker", "/conversations/a%ED%A0%80/tracker",
                           conversation_id="a%ED%A0%80")
    assert status == 400 and agent.processor.saved == {}


@pytest.mark.parametrize(
    "conversation", ["telegram:42", "whatsapp:85291234567", "web:" + "f" * 32, "alice bob", "張三"]
)
async def test_the_console_resumes_the_conversation_it_names(rasa_app, agent, conversation) -> None:
    """The console sends the id `quote`d (talentbot/console/rasa_api.py); Sanic passed it on still quoted, so a REST
    user "alice bob" was resumed as a new conversation "alice%20bob"."""
    raw = quote(conversation, safe="")
    status, _ = await call(rasa_app, "append_events", f"/conversations/{raw}/tracker/events",
                           json.dumps(RESUME_EVENTS).encode(), conversation_id=raw)
    assert status == 200 and [e["event"] for e in agent.processor.saved[conversation]] == ["resume", "action"]


async def test_events_are_cleaned_before_they_are_stored(rasa_app, agent) -> None:
    body = b'[{"event": "user", "text": "TTPS\\u0000?", "parse_data": {}, "metadata": {"m": "\\ud800x"}}]'
    status, _ = await call(rasa_app, "append_events", "/conversations/a/tracker/events", body, conversation_id="a")
    assert status == 200 and user_texts(agent) == {"a": ["TTPS?"]}
    assert agent.processor.saved["a"][0]["metadata"] == {"m": "x"}


async def test_the_nlu_reads_only_cleaned_text_under_the_cap(rasa_app, agent) -> None:
    status, answer = await call(rasa_app, "parse", "/model/parse", b'{"text": "\\u0000hello\\udfff"}')
    assert status == 200 and agent.parsed == ["hello"] and answer["text"] == "hello"
    status, _ = await call(rasa_app, "parse", "/model/parse", json.dumps({"text": "高才通" * 3334}).encode())
    assert status == 413 and agent.parsed == ["hello"]


async def test_trigger_intent_entities_are_cleaned_and_wrong_shapes_get_400_not_500(rasa_app, agent) -> None:
    body = b'{"name": "greet", "entities": {"scheme": "TTPS\\u0000"}}'
    status, _ = await call(rasa_app, "trigger_intent", "/conversations/a/trigger_intent", body, conversation_id="a")
    assert status == 200 and agent.triggered == [("greet", {"scheme": "TTPS"})]
    status, answer = await call(rasa_app, "trigger_intent", "/conversations/a/trigger_intent", b'["greet"]',
                                conversation_id="a")
    assert status == 400 and "the body is an array" in answer["message"]  # Rasa: AttributeError, 500


async def test_nothing_of_an_unauthenticated_request_is_read(rasa_app, agent) -> None:
    status, answer = await call(rasa_app, "add_message", "/conversations/a%00/messages", b"{broken", token=None,
                                conversation_id="a%00")
    assert status == 401 and answer["reason"] == "NotAuthenticated"
