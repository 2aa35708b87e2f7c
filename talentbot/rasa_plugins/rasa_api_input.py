"""What Rasa's HTTP API accepts: the conversation id in the URL and the JSON body of every route that writes to a
conversation or runs the NLU, checked after the token and before Rasa's handler reads them.

Rasa 3.6 keeps what its API is given as it is, and its JSON parser (ujson) decodes a lone surrogate or a NUL escape
without a word: the same characters that made SQLite's driver stop the server and PostgreSQL refuse a ticket when
they came through a channel (issue 12). The channels are closed to them (connectors/inbound.py); the API, which the
staff console (talentbot/console/rasa_api.py) and operators use, is held to the same rules here:

- The conversation id is percent-decoded, then must be an id every store keeps as it is
  (`talentbot.core.inbound.id_problem`: 1-128 characters, no NUL, lone surrogate or other control character; escapes
  that are not UTF-8 are refused too). Refused, never altered. Sanic hands Rasa the raw path segment, so the
  console's ``/conversations/alice%20bob/tracker`` used to name a conversation "alice%20bob", not the REST user
  "alice bob" whose transcript it asked for. Other channels' namespaces are allowed: the token holder addresses
  every channel's conversations (the console resumes ``telegram:42``).
- The body must be standard JSON (no NaN) nested at most MAX_DEPTH deep; every string in it, keys too, is cleaned
  as the channels clean text (`talentbot.core.inbound.clean_json`), and Rasa's handler reads the cleaned copy.
- What a user says (a message's text for ``/messages`` and ``/model/parse``, a ``user`` event's text, an entity
  value for ``/trigger_intent``) is at most MAX_MESSAGE_CHARS, the channels' cap, or 413. The channels answer such a
  message with a polite note; an API client gets the reason instead.
- Bodies Rasa's handlers would fail on with a 500 (not an object, no text) are refused with 400.

Refusals are in Rasa's own error format (`rasa.server.ErrorResponse`). The body as a whole is capped before any of
this (talentbot.rasa_plugins.rasa_body_limit). `install()` is called by talentbot.wiring.rasa_server before Rasa builds
its app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import wraps
from inspect import isawaitable
from typing import Any, Callable, Dict, Iterable, Optional, Union
from urllib.parse import unquote

from talentbot.core.inbound import MAX_MESSAGE_CHARS, clean_json, id_problem, json_kind, too_long

MAX_DEPTH = 64
"""Deepest nesting of a body. A tracker event list is about 8 levels deep; a user message's metadata (at most 16
levels through the channels) sits 3 levels down in an event."""

CONVERSATION_ID = "conversation_id"
"""The path parameter of Rasa's ``/conversations/<conversation_id:path>/...`` routes."""

UPSTREAM: Dict[str, Any] = {}
"""Rasa's `ensure_loaded_agent` before `install()` replaced it."""


@dataclass(frozen=True)
class ApiRefusal:
    """A request refused before Rasa's handler reads it, said as Rasa says its own refusals."""

    status: int  # 400 wrong shape or id, 413 a message over the cap
    message: str  # what is wrong, so that the client can fix it
    parameter: str  # the offending parameter ("" for the body as a whole)
    location: str  # "path" or "body"

    @property
    def reason(self) -> str:
        return "PayloadTooLarge" if self.status == 413 else "BadRequest"

    @property
    def details(self) -> Dict[str, str]:
        return {"parameter": self.parameter, "in": self.location}


def conversation_id(raw: str) -> Union[str, ApiRefusal]:
    """The conversation a route's path names (percent-decoded), or why no store could keep it."""
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return ApiRefusal(400, "the conversation id is not UTF-8 once percent-decoded", CONVERSATION_ID, "path")
    problem = id_problem(decoded, "the conversation id")
    return ApiRefusal(400, problem, CONVERSATION_ID, "path") if problem else decoded


def _body_problem(message: str, parameter: str = "", status: int = 400) -> ApiRefusal:
    return ApiRefusal(status, message, parameter, "body")


def parse_json(body: Optional[bytes]) -> Union[Any, ApiRefusal]:
    """The body as JSON with every string cleaned, or why it is refused."""
    if not body or not body.strip():
        return _body_problem("the body is empty: send JSON")
    too_deep = _body_problem(f"the body is nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except ValueError:  # not UTF-8, not JSON, NaN or Infinity
        return _body_problem("the body is not valid JSON (UTF-8)")
    except RecursionError:
        return too_deep
    try:
        return clean_json(data, MAX_DEPTH)
    except ValueError:
        return too_deep


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _said(text: str, parameter: str) -> Optional[ApiRefusal]:
    """A 413 when something a user says is over the channels' cap."""
    if too_long(text):
        return _body_problem(f"{parameter} is {len(text):,} characters long; a message is at most "
                             f"{MAX_MESSAGE_CHARS:,}", parameter, status=413)
    return None


def _object(data: Any, shape: str) -> Optional[ApiRefusal]:
    if isinstance(data, dict):
        return None
    return _body_problem(f"the body is {json_kind(data)}: send a JSON object {shape}")


def _message(data: Any) -> Optional[ApiRefusal]:
    """``POST /conversations/<id>/messages``: {"text": "...", "sender": "user", "parse_data": {...}}."""
    problem = _object(data, '{"text": "<message>", "sender": "user"}')
    if problem:
        return problem
    text = data.get("text")
    if not isinstance(text, str):
        return _body_problem('text is missing: send "text", the user\'s message' if text is None
                             else f"text must be a string, not {json_kind(text)}", "text")
    parse_data = data.get("parse_data")
    if parse_data is not None and not isinstance(parse_data, dict):
        return _body_problem(f"parse_data must be an object, not {json_kind(parse_data)}", "parse_data")
    return _said(text, "text")


def _parse(data: Any) -> Optional[ApiRefusal]:
    """``POST /model/parse``: {"text": "..."} (an emulation mode may send a list, of which Rasa reads the first)."""
    problem = _object(data, '{"text": "<message>"}')
    if problem:
        return problem
    text = data.get("text")
    texts = text if isinstance(text, list) else [text]
    if not texts or not all(isinstance(item, str) for item in texts):
        return _body_problem('text is missing: send "text", the message to parse' if text is None
                             else "text must be a string", "text")
    return next(filter(None, (_said(item, "text") for item in texts)), None)


def _trigger(data: Any) -> Optional[ApiRefusal]:
    """``POST /conversations/<id>/trigger_intent``: {"name": "<intent>", "entities": [...] or {...}}."""
    problem = _object(data, '{"name": "<intent>", "entities": {"<entity>": "<value>"}}')
    if problem:
        return problem
    entities = data.get("entities")
    if isinstance(entities, dict):
        values: Iterable[Any] = entities.values()
    elif isinstance(entities, list):
        values = (entity.get("value") for entity in entities if isinstance(entity, dict))
    else:
        values = ()
    return next(filter(None, (_said(value, "entities") for value in values if isinstance(value, str))), None)


def _execute(data: Any) -> Optional[ApiRefusal]:
    """``POST /conversations/<id>/execute``: {"name": "<action>"}."""
    return _object(data, '{"name": "<action>"}')


def _events(data: Any) -> Optional[ApiRefusal]:
    """Event lists (``POST/PUT .../tracker/events``, ``/model/predict``): Rasa checks their shape; a user event's
    text is held to the cap."""
    events = data if isinstance(data, list) else [data]
    for event in events:
        if isinstance(event, dict) and event.get("event") == "user" and isinstance(event.get("text"), str):
            problem = _said(event["text"], "text")
            if problem:
                return problem
    return None


BODY_RULES: Dict[str, Callable[[Any], Optional[ApiRefusal]]] = {
    "add_message": _message,
    "parse": _parse,
    "trigger_intent": _trigger,
    "execute_action": _execute,
    "append_events": _events,
    "replace_events": _events,
    "tracker_predict": _events,
}
"""The rule of each route that reads a JSON body, by the name of its handler in rasa/server.py (Rasa 3.6.21). The
routes not named read no body (``GET .../tracker``, ``POST .../predict``) or nothing of it that a conversation
keeps (``/model/train`` takes training data, ``PUT /model`` a model's path)."""


def check_body(handler: str, body: Optional[bytes]) -> Union[Any, ApiRefusal, None]:
    """The cleaned JSON body of a request to `handler`, why it is refused, or None for a route with no rule."""
    rule = BODY_RULES.get(handler)
    if rule is None:
        return None
    data = parse_json(body)
    if isinstance(data, ApiRefusal):
        return data
    return rule(data) or data


def check_request(handler: str, request: Any, kwargs: Dict[str, Any]) -> Optional[ApiRefusal]:
    """Checks a request to Rasa's `handler`: on success its conversation id is decoded in `kwargs` and its body is
    replaced by the cleaned copy (`request.parsed_json`, which Sanic's `request.json` returns)."""
    if CONVERSATION_ID in kwargs:
        decoded = conversation_id(kwargs[CONVERSATION_ID])
        if isinstance(decoded, ApiRefusal):
            return decoded
        kwargs[CONVERSATION_ID] = decoded
    checked = check_body(handler, request.body)
    if isinstance(checked, ApiRefusal):
        return checked
    if checked is not None:
        request.parsed_json = checked
    return None


def _checked(handler: Callable) -> Callable:
    """`handler` (a route of Rasa's API) behind `check_request`."""
    from rasa.server import ErrorResponse

    name = handler.__name__

    @wraps(handler)
    async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
        refusal = check_request(name, request, kwargs)
        if refusal is not None:
            raise ErrorResponse(refusal.status, refusal.reason, refusal.message, refusal.details)
        result = handler(request, *args, **kwargs)
        return await result if isawaitable(result) else result

    return decorated


def install() -> None:
    """Puts `check_request` in front of every route of Rasa's API that uses the model (all the conversation and
    model routes), between Rasa's token check and its handler, so that nothing of an unauthenticated request is
    read. Done by wrapping `ensure_loaded_agent`, which Rasa applies to each such route when it builds its app
    (`rasa.server.create_app`), so it must run before that; a second call does nothing."""
    import rasa.server

    if "ensure_loaded_agent" in UPSTREAM:
        return
    upstream = rasa.server.ensure_loaded_agent
    UPSTREAM["ensure_loaded_agent"] = upstream

    def ensure_loaded_agent(app: Any, require_core_is_ready: bool = False) -> Callable[[Callable], Callable]:
        def decorator(f: Callable) -> Callable:
            return upstream(app, require_core_is_ready)(_checked(f))

        return decorator

    ensure_loaded_agent.__doc__ = f"Rasa's ensure_loaded_agent, then the input checks ({__name__})."
    rasa.server.ensure_loaded_agent = ensure_loaded_agent
