"""talentbot.rasa_plugins.rasa_adapters: Rasa internals that behave as Rasa's own, only cheaper; tracker store errors
raised."""

from __future__ import annotations

import copy
from unittest import mock

import jsonschema
import pytest
import rasa
import rasa.core.tracker_store
from rasa.core.actions.action import RemoteAction

from talentbot.rasa_plugins import rasa_adapters

VALID_RESPONSES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None, "name": "answer_scheme", "value": "TTPS"}],
     "responses": [{"text": "高才通", "buttons": [{"title": "More", "payload": "/ask"}], "elements": [],
                    "custom": {}, "image": None, "attachment": None, "template": None, "response": None}]},
    {"events": [{"event": "active_loop", "name": "eligibility_form"},
                {"event": "slot", "name": "requested_slot", "value": "annual_income_hkd"}],
     "responses": [{"response": "utter_ask_annual_income_hkd"}]},
]
INVALID_RESPONSES = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},
    {"responses": [["not", "an", "object"]]},
    [],
]


@pytest.fixture(scope="module")
def installed():
    rasa_adapters.install()
    return rasa_adapters.UPSTREAM["RemoteAction._validate_action_result"]


def test_written_for_the_installed_rasa():
    assert rasa.__version__ == rasa_adapters.RASA_VERSION


def test_install_replaces_the_validation_once(installed):
    adjusted = RemoteAction._validate_action_result
    assert adjusted is not installed
    rasa_adapters.install()
    assert RemoteAction._validate_action_result is adjusted


@pytest.mark.parametrize("response", VALID_RESPONSES)
def test_accepts_what_rasa_accepts(installed, response):
    action = RemoteAction("action_answer", None)
    assert installed(action, copy.deepcopy(response)) is True
    assert action._validate_action_result(copy.deepcopy(response)) is True


@pytest.mark.parametrize("response", INVALID_RESPONSES)
def test_rejects_what_rasa_rejects_with_the_same_error(installed, response):
    action = RemoteAction("action_answer", None)
    with pytest.raises(jsonschema.ValidationError) as upstream:
        installed(action, copy.deepcopy(response))
    with pytest.raises(jsonschema.ValidationError) as adjusted:
        action._validate_action_result(copy.deepcopy(response))
    assert adjusted.value.message == upstream.value.message
    assert list(adjusted.value.path) == list(upstream.value.path)
    assert "Failed to validate Action server response" in adjusted.value.message


def test_the_schema_is_not_checked_again_per_response(installed):
    action = RemoteAction("action_answer", None)
    with mock.patch.object(jsonschema.Draft202012Validator, "check_schema", side_effect=AssertionError):
        for response in VALID_RESPONSES:
            assert action._validate_action_result(copy.deepcopy(response)) is True


def every_event_type():
    """One event of each of Rasa's types, as an action server would send it."""
    import datetime as dt

    from rasa.shared.core import events as e

    return [
        e.UserUttered("高才通係咩？", {"name": "ask_scheme", "confidence": 0.9},
                      [{"entity": "scheme", "value": "TTPS"}]),
        e.SlotSet("language", "zh-Hant"), e.EntitiesAdded([{"entity": "scheme", "value": "QMAS"}]),
        e.DefinePrevUserUtteredFeaturization(True), e.ReminderCancelled(name="r"),
        e.ReminderScheduled("remind", dt.datetime(2026, 11, 25, 12, 0), name="r"),
        e.ActionExecutionRejected("action_answer"), e.LegacyFormValidation(False), e.LoopInterrupted(True),
        e.LegacyForm("eligibility_form"), e.ActiveLoop("eligibility_form"), e.AllSlotsReset(),
        e.ConversationResumed(), e.ConversationPaused(), e.FollowupAction("action_listen"), e.StoryExported(),
        e.Restarted(), e.UserUtteranceReverted(), e.ActionReverted(), e.BotUttered("Hi", {"elements": None}),
        e.SessionStarted(), e.AgentUttered("hello"), e.ActionExecuted("action_answer", "RulePolicy", 1.0),
    ]


def response_variants():
    """Valid responses with every event type, and near misses: a field removed, of a wrong type, a wrong name."""
    events = [event.as_dict() for event in every_event_type()]
    yield {"events": events, "responses": [{"text": "hi"}]}
    for event in events:
        yield {"events": [event]}
        for key in event:
            yield {"events": [{k: v for k, v in event.items() if k != key}]}
            for wrong in (12345, "text", [], {}, None, True):
                yield {"events": [{**event, key: wrong}]}
        for other in ("slot", "user", "bot", "no_such_event"):
            yield {"events": [{**event, "event": other}]}
    yield from ({"events": value} for value in (None, {}, "x", [None], [[]], [{"event": ["slot"]}]))
    yield from ({"responses": value} for value in (None, [1], [{}], {}))
    yield from (None, [], "text", {"other": 1})


def test_the_quick_check_agrees_with_the_full_schema(installed):
    validator = rasa_adapters.ResponseValidator(RemoteAction.action_response_format_spec())
    variants = list(response_variants())
    assert len(variants) > 600
    agreed = [validator.is_valid(response) == validator.full.is_valid(response) for response in variants]
    assert all(agreed), [variant for variant, ok in zip(variants, agreed, strict=True) if not ok][:3]
    assert sum(validator.full.is_valid(response) for response in variants) > 100  # both kinds were tried


def test_the_quick_check_tries_one_alternative_per_event(installed):
    validator = rasa_adapters.ResponseValidator(RemoteAction.action_response_format_spec())
    with mock.patch.object(validator.full, "is_valid", side_effect=AssertionError), \
            mock.patch.object(validator.full, "iter_errors", side_effect=AssertionError):
        assert validator.is_valid({"events": [event.as_dict() for event in every_event_type()]})


def test_another_schema_shape_takes_the_full_validator():
    validator = rasa_adapters.ResponseValidator({"type": "object", "properties": {"events": {"type": "array"}}})
    assert validator.is_valid({"events": []}) and not validator.is_valid({"events": 1})


def test_event_classes_are_the_ones_rasa_finds(installed):
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    upstream = rasa_adapters.UPSTREAM["Event.resolve_by_type"]
    for event_class in all_subclasses(Event):
        name = event_class.type_name
        assert Event.resolve_by_type(name) is upstream(name) is Event.resolve_by_type(name)


def test_unknown_event_names_behave_as_in_rasa(installed):
    from rasa.shared.core.events import Event, SlotSet

    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_each_name_is_looked_up_once(installed):
    from rasa.shared.core.events import Event, deserialise_events

    Event.resolve_by_type("slot")
    with mock.patch("rasa.shared.utils.common.all_subclasses", side_effect=AssertionError) as walk:
        events = deserialise_events([{"event": "slot", "name": "language", "value": "en"}] * 50)
    assert len(events) == 50 and walk.call_count == 0


class UnreachableStore(rasa.core.tracker_store.TrackerStore):
    """A tracker store whose database is down."""

    async def retrieve(self, sender_id):
        raise ConnectionRefusedError(111, "Connection refused")

    async def save(self, tracker):
        raise ConnectionRefusedError(111, "Connection refused")


def test_tracker_store_errors_reach_the_caller_instead_of_a_memory_store(installed):
    """Upstream answers from a fresh tracker and keeps it in memory; the message must fail instead."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    store = Agent._create_tracker_store(UnreachableStore(Domain.empty()), Domain.empty())
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(store.get_or_create_tracker("web:a"))
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(store.save(DialogueStateTracker("web:a", [])))
    assert store._fallback_tracker_store is None  # no in-memory store was ever made


class CountingServer:
    """A tiny HTTP server that counts the TCP connections requests came over (by the client's address and port) and
    records each request's headers."""

    def __init__(self) -> None:
        self.peers: set = set()
        self.headers: list = []

    @property
    def connections(self) -> int:
        return len(self.peers)

    async def start(self) -> str:
        from aiohttp import web

        async def answer(request: web.Request) -> web.Response:
            self.headers.append(dict(request.headers))
            assert request.transport is not None
            self.peers.add(request.transport.get_extra_info("peername"))
            if request.path == "/refuse":
                return web.json_response({"error": "no"}, status=400)
            return web.json_response({"events": [], "echo": await request.json()})

        app = web.Application()
        app.router.add_post("/{tail:.*}", answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self.runner.cleanup()


def test_action_calls_reuse_one_kept_alive_connection(installed):
    """Upstream opens a connection per call; the adjusted endpoint sends every call of a loop over one."""
    import asyncio

    from rasa.utils.endpoints import EndpointConfig

    async def calls(count: int) -> tuple:
        server = CountingServer()
        url = await server.start()
        ours = EndpointConfig(url + "/webhook", headers={"X-Check": "1"}, basic_auth={"username": "u", "password": "p"})
        answers = [await ours.request(json={"n": n}) for n in range(count)]
        upstream_connections = server.connections
        with mock.patch.object(EndpointConfig, "session", rasa_adapters.UPSTREAM["EndpointConfig.session"]):
            for n in range(count):
                await EndpointConfig(url + "/webhook").request(json={"n": n})
        await server.stop()
        return answers, upstream_connections, server.connections - upstream_connections, server.headers

    answers, ours, upstream, headers = asyncio.run(calls(5))
    assert [a["echo"] for a in answers] == [{"n": n} for n in range(5)]
    assert (ours, upstream) == (1, 5)
    assert headers[0]["X-Check"] == "1" and headers[0]["Authorization"].startswith("Basic ")


def test_kept_alive_calls_raise_as_upstream_and_survive_a_new_event_loop(installed):
    import asyncio

    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    endpoint_holder: dict = {}

    async def refused() -> int:
        server = CountingServer()
        url = await server.start()
        endpoint = endpoint_holder.setdefault("endpoint", EndpointConfig(url))
        endpoint.url = url
        try:
            with pytest.raises(ClientResponseError) as error:
                await endpoint.request(subpath="refuse", json={})
            assert await endpoint.request(subpath="webhook", json={"ok": 1}) == {"events": [], "echo": {"ok": 1}}
        finally:
            await server.stop()
        return error.value.status

    assert asyncio.run(refused()) == 400
    assert asyncio.run(refused()) == 400  # the same endpoint in a second loop gets a session of its own
