"""Adjustments to Rasa Open Source 3.6.21 internals that the Rasa server needs for throughput and to lose nothing.

Installed explicitly, once per process, by `install()`: `talentbot.wiring.rasa_server` (the Rasa server entry point
that `talentbot run`, the end-to-end tests and the benchmark start) calls it before Rasa starts. Plain
`rasa run` works as before without them, only slower (and answering from memory while its tracker store is down).
Adjustments 1, 2 and 4 keep Rasa's observable behaviour, 3 changes it on purpose;
`tests/talentbot/rasa_plugins/test_rasa_adapters.py` checks that, and that the Rasa version they were written against
is installed.

1. Action server responses are validated with one pre-built JSON Schema validator.

   Upstream, `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every
   custom action call. `jsonschema.validate` first checks the schema itself against the JSON Schema
   meta-schema (`check_schema`) and builds a new validator; Rasa's response schema embeds the schema of
   every event type, so that check costs about 20 ms of CPU per call (56% of the Rasa server's CPU per
   message in the py-spy profile of issue 2), and it blocks the event loop meanwhile.
   The schema is a constant, so here it is checked once, at installation, and one validator of the same
   class (`validator_for(schema)`, as `validate` picks) validates every response. A quick check
   (`ResponseValidator.is_valid`) first tries each event against the one event type it names instead of
   all 23 (1.4 → 0.2 ms for a typical response); whatever it does not accept goes to the full validator.
   The responses accepted and rejected, and the `ValidationError` raised (the best match, with Rasa's added
   hint), are unchanged.

2. Event classes are looked up by type name once per name.

   Upstream, `Event.resolve_by_type` walks every subclass of `Event` (`all_subclasses`, recursively, 23
   classes) for each event it deserialises: every event of a tracker read from the tracker store, and
   every event an action returns. That walk was 8% of the Rasa server's CPU per message in the profile.
   Here a name found once is remembered; a name not yet found goes to upstream, so the classes returned and the
   errors raised for unknown names are unchanged (as long as no class is redefined with a name already used).

3. A tracker store error reaches the caller; Rasa no longer answers from an in-memory tracker meanwhile.

   Unlike 1 and 2, this one changes Rasa's behaviour, on purpose. Upstream, `Agent` wraps every tracker store in
   `FailSafeTrackerStore`: when reading a tracker fails it starts the conversation afresh, and when saving fails
   it keeps the tracker in process memory, logging an error per message. In issue 12, 153 of 421 messages sent
   while PostgreSQL was down for 20 s were answered and never stored. Here the wrapper gets the error callback
   Rasa provides for this (`on_tracker_store_error`), which re-raises: the message fails, the channel refuses it
   politely (connectors/outage.py), and the user sends it again once the store is back.

4. Calls to the action server reuse kept-alive connections.

   Upstream, `EndpointConfig.request` opens a new `aiohttp.ClientSession` (and so a new TCP connection, which the
   action server must accept and set up) for every custom action call and closes it after the answer. Here each
   endpoint keeps one session per event loop (Sanic workers are processes, each with its own loop), with the same
   headers, authentication and timeout, whose idle connections are dropped after `KEEPALIVE_S`: well before the
   action server's own keep-alive timeout (Sanic's 5 s), so the client never sends on a connection the server is
   closing. Requests, headers, errors raised and the answers returned are unchanged.

The SQL tracker store's own costs are addressed in `talentbot.rasa_plugins.tracker_store`, through Rasa's custom tracker
store setting rather than here.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

logger = logging.getLogger(__name__)

KEEPALIVE_S = 2.0
"""How long an idle connection to the action server is kept (adjustment 4); under Sanic's 5 s keep-alive timeout."""

RASA_VERSION = "3.6.21"
"""The Rasa version these adjustments were written and tested against (see the test)."""

_installed = False
UPSTREAM: Dict[str, Any] = {}
"""Rasa's own functions that `install()` replaced, by qualified name (for tests and comparison)."""


class ResponseValidator:
    """Rasa's action response schema, checked once, with a quick test for responses it accepts.

    The schema lists the event types as `oneOf` alternatives, each fixing `event` to its own name, so jsonschema
    tries all 23 alternatives on every event (`oneOf` must rule out a second match). An event with name X can only
    match the alternative for X, so it is valid exactly when it passes the common part and that one alternative:
    `is_valid` checks just that. It answers True only for responses the full schema accepts; any other response
    goes to the full validator, which finds the same error as upstream.
    """

    def __init__(self, schema: Dict[Text, Any]) -> None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        self.full = cls(schema)
        self._outer: Optional[Any] = None
        self._per_event: Dict[Text, Any] = {}
        events = schema.get("properties", {}).get("events", {})
        alternatives = events.get("items", {}).get("oneOf", [])
        names = [alternative.get("properties", {}).get("event", {}).get("const") for alternative in alternatives]
        if not names or None in names or len(set(names)) != len(names):
            return  # not the shape described above: every response takes the full validator
        common = {key: value for key, value in events["items"].items() if key != "oneOf"}
        outer_events = {key: value for key, value in events.items() if key != "items"}
        self._outer = cls({**schema, "properties": {**schema["properties"], "events": outer_events}})
        self._per_event = {name: cls({"allOf": [common, alternative]})
                           for name, alternative in zip(names, alternatives, strict=True)}

    def is_valid(self, result: Any) -> bool:
        if self._outer is None:
            return bool(self.full.is_valid(result))
        if not self._outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            validator = self._per_event.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


def _install_action_response_validator() -> None:
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = ResponseValidator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        # Same as RemoteAction._validate_action_result in Rasa 3.6.21, minus the per-call schema check.
        if validator.is_valid(result):
            return True
        error = best_match(validator.full.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.__doc__ = "Validates with a pre-built validator (talentbot.rasa_plugins.rasa_adapters)."
    UPSTREAM["RemoteAction._validate_action_result"] = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _install_event_type_memo() -> None:
    from rasa.shared.core.events import Event

    upstream = Event.resolve_by_type
    found: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        event_class = found.get(type_name)
        if event_class is None:
            event_class = upstream(type_name, default)
            if event_class is not None and event_class is not default:
                found[type_name] = event_class
        return event_class

    resolve_by_type.__doc__ = f"Event.resolve_by_type, remembering each name found ({__name__})."
    UPSTREAM["Event.resolve_by_type"] = upstream
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def raise_tracker_store_error(error: Exception) -> None:
    """`FailSafeTrackerStore`'s error callback: the error goes on to the caller instead of to a fallback store."""
    raise error


def _install_tracker_store_errors_raised() -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore

    def _create_tracker_store(store: Optional[TrackerStore], domain: Any) -> TrackerStore:
        # Same as Agent._create_tracker_store in Rasa 3.6.21, with errors raised instead of swallowed.
        if store is not None:
            store.domain = domain
            tracker_store = store
        else:
            tracker_store = InMemoryTrackerStore(domain)
        return FailSafeTrackerStore(tracker_store, on_tracker_store_error=raise_tracker_store_error)

    UPSTREAM["Agent._create_tracker_store"] = Agent._create_tracker_store
    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]


class _KeptSession:
    """Stands in for the `ClientSession` that `EndpointConfig.request` opens with `async with` and closes: it hands
    out the endpoint's shared session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def _install_kept_alive_sessions() -> None:
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    upstream = EndpointConfig.session
    sessions: Dict[Any, Any] = {}  # (endpoint id, loop id) -> session; endpoints live as long as the agent

    def session(self: EndpointConfig) -> Any:
        loop = asyncio.get_running_loop()
        key = (id(self), id(loop))
        shared = sessions.get(key)
        if shared is None or shared.closed or shared.loop is not loop:  # the loop check guards reused ids
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) \
                if self.basic_auth else None
            shared = aiohttp.ClientSession(  # Rasa's settings (EndpointConfig.session) and a keep-alive limit
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
            )
            sessions[key] = shared
        return _KeptSession(shared)

    UPSTREAM["EndpointConfig.session"] = upstream
    EndpointConfig.session = session  # type: ignore[method-assign]


def install() -> None:
    """Applies every adjustment above; a second call does nothing."""
    global _installed
    if _installed:
        return
    import rasa

    if rasa.__version__ != RASA_VERSION:
        logger.warning(
            "%s was written for Rasa %s, found %s; check the adjustments still apply.",
            __name__, RASA_VERSION, rasa.__version__,
        )
    _install_action_response_validator()
    _install_event_type_memo()
    _install_tracker_store_errors_raised()
    _install_kept_alive_sessions()
    _installed = True
