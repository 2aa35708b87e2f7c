"""What the action server's `POST /webhook` accepts: a call in the form Rasa sends (`next_action`, `tracker`,
`domain`, `version`), checked and cleaned before rasa_sdk or an action sees it.

Pure (no Sanic, no rasa_sdk): talentbot/rasa_plugins/action_server.py reads the body and passes it here. rasa_sdk itself
reads
the body with no limit and trusts its shape: a list, a missing tracker or a number for `version` raised inside it
and came back as 500 with the request echoed; a deflate body was decompressed without a cap. Strings are cleaned as
the channels clean theirs (talentbot/core/inbound.py), because actions store what the tracker says: a NUL in a user's
message made PostgreSQL refuse the handoff ticket, and a lone surrogate made SQLite's driver raise, so the user got
the "no one can be reached" answer instead of a place in the queue.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from talentbot.core.inbound import Refusal, clean_json, json_kind

MAX_CALL_BYTES = 16 * 1024 * 1024
"""Largest call, after decompression. Rasa sends the tracker's events since the session started plus the domain
(16 KB here): a long session is a few hundred KB, and the session ends after an hour's silence. 16 MiB is far
beyond a real call and still bounds the memory a bad one takes (the JSON parser needs several times its size)."""

MAX_DEPTH = 64
"""Deepest nesting accepted. A call is about 8 levels deep; a user message's metadata (at most 16 levels, see
talentbot/core/inbound.py) sits 5 levels down in an event."""

CALL_SHAPE = 'send a JSON object {"next_action": "<action name>", "tracker": {"sender_id": "...", ...}}'

ActionCall = Dict[str, Any]

SlotTypes = Mapping[str, str]
"""The Rasa type of each typed slot of the domain (text, categorical, bool, float, list); `any` slots are left out."""

SLOT_VALUES: Dict[str, Tuple[Tuple[type, ...], str]] = {
    "text": ((str,), "a string"),
    "categorical": ((str, int, float, bool), "a string, a number or a boolean"),
    "bool": ((bool,), "a boolean"),
    "float": ((int, float), "a number"),
    "list": ((list,), "an array"),
}
"""The JSON values Rasa keeps in a slot of each type, besides null (`any`: anything)."""

REQUESTED_SLOT = "requested_slot"
"""Rasa adds this text slot to every domain with forms."""


def slot_types(documents: Iterable[Mapping[str, Any]]) -> Dict[str, str]:
    """The typed slots declared in the domain's files (their parsed YAML), `requested_slot` included when there
    are forms: a call whose slot holds another type is not one Rasa made, and an action would trust it."""
    found: Dict[str, str] = {}
    forms = False
    for document in documents:
        forms = forms or bool(document.get("forms"))
        for name, spec in (document.get("slots") or {}).items():
            kind = (spec or {}).get("type")
            if kind in SLOT_VALUES:
                found[name] = kind
    if forms:
        found.setdefault(REQUESTED_SLOT, "text")
    return found


def decoded(body: bytes, content_encoding: Optional[str]) -> Union[bytes, Refusal]:
    """The body as sent (no encoding) or inflated (`deflate`, which Rasa uses when COMPRESS_ACTION_SERVER_REQUEST
    is set), never inflated past MAX_CALL_BYTES: a few KB of deflate can expand to gigabytes."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "deflate":
        return Refusal(415, f"Content-Encoding {encoding[:40]!r} is not supported: send deflate or no encoding")
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, MAX_CALL_BYTES + 1)
    except zlib.error:
        return Refusal(400, "the body is not valid deflate (zlib) data")
    if len(inflated) > MAX_CALL_BYTES:
        return too_large()
    if not inflater.eof:
        return Refusal(400, "the deflate (zlib) data is truncated")
    return inflated


def too_large() -> Refusal:
    return Refusal(413, f"the call is over {MAX_CALL_BYTES:,} bytes")


def parse_call(body: bytes, content_encoding: Optional[str] = None,
               slots: Optional[SlotTypes] = None) -> Union[ActionCall, Refusal]:
    """The call, every string in it cleaned (`clean_json`), or why it is refused (400 wrong shape, 413 too large,
    415 unknown encoding). `slots`: the domain's typed slots (`slot_types`), whose values are checked too."""
    raw = decoded(body, content_encoding)
    if isinstance(raw, Refusal):
        return raw
    if len(raw) > MAX_CALL_BYTES:
        return too_large()
    if not raw.strip():
        return Refusal(400, f"the body is empty: {CALL_SHAPE}")
    too_deep = Refusal(400, f"the call is nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except ValueError:  # not UTF-8, not JSON, NaN or Infinity, a number too long
        return Refusal(400, f"the body is not valid JSON (UTF-8): {CALL_SHAPE}")
    except RecursionError:
        return too_deep
    if not isinstance(data, dict):
        return Refusal(400, f"the body is {json_kind(data)}: {CALL_SHAPE}")
    try:
        call = clean_json(data, MAX_DEPTH)
    except ValueError:
        return too_deep
    problem = call_problem(call) or slot_problem(call["tracker"].get("slots") or {}, slots or {})
    return Refusal(400, problem) if problem else call


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def call_problem(call: ActionCall) -> Optional[str]:
    """What is wrong with a (cleaned) call, or None. Checks what rasa_sdk and our actions read without checking:
    the types a real Rasa call always has, so no call Rasa makes is refused."""
    problem = _name(call, "next_action", "")
    if problem:
        return problem
    if call.get("tracker") is None:
        return f"tracker is missing: {CALL_SHAPE}"
    return (_of(call, "tracker", dict, "") or _of(call, "domain", dict, "") or _of(call, "version", str, "")
            or _of(call, "sender_id", str, "") or tracker_problem(call["tracker"]))


def tracker_problem(tracker: Dict[str, Any]) -> Optional[str]:
    """What is wrong with a tracker's state (rasa_sdk's TrackerState), or None."""
    where = "tracker."
    problem = (_name(tracker, "sender_id", where) or _of(tracker, "slots", dict, where, nullable=False)
               or _of(tracker, "latest_message", dict, where)
               or _of(tracker, "events", list, where, nullable=False) or _of(tracker, "paused", bool, where)
               or _of(tracker, "followup_action", str, where) or _of(tracker, "active_loop", dict, where)
               or _of(tracker, "active_form", dict, where) or _of(tracker, "latest_action_name", str, where)
               or _of(tracker, "latest_input_channel", str, where))
    if problem:
        return problem
    for key in ("active_loop", "active_form"):
        if isinstance(tracker.get(key), dict):
            problem = _of(tracker[key], "name", str, f"tracker.{key}.")
            if problem:
                return problem
    if tracker.get("latest_message") is not None:
        problem = message_problem(tracker["latest_message"], "tracker.latest_message.")
        if problem:
            return problem
    for index, event in enumerate(tracker.get("events") or []):
        problem = event_problem(event, f"tracker.events[{index}]")
        if problem:
            return problem
    return None


def slot_problem(values: Mapping[str, Any], types: SlotTypes) -> Optional[str]:
    """A slot holding a value its type cannot (a list in `requested_slot`, say), or None."""
    for name, value in values.items():
        if value is None or name not in types:
            continue
        allowed, described = SLOT_VALUES[types[name]]
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return _wrong(f"tracker.slots.{name}", value, f"{described} or null (a {types[name]} slot)")
    return None


def message_problem(message: Dict[str, Any], where: str) -> Optional[str]:
    """A parsed user message (`latest_message`, an event's `parse_data`): its text, intent and entities."""
    problem = (_of(message, "text", str, where) or _of(message, "intent", dict, where)
               or _of(message, "entities", list, where) or _of(message, "intent_ranking", list, where)
               or _of(message, "metadata", dict, where))
    if problem:
        return problem
    if isinstance(message.get("intent"), dict):
        problem = _of(message["intent"], "name", str, f"{where}intent.")
        if problem:
            return problem
    for key in ("entities", "intent_ranking"):
        for index, item in enumerate(message.get(key) or []):
            if not isinstance(item, dict):
                return _wrong(f"{where}{key}[{index}]", item, "an object")
            problem = _of(item, "entity" if key == "entities" else "name", str, f"{where}{key}[{index}].")
            if problem:
                return problem
    return None


def event_problem(event: Any, where: str) -> Optional[str]:
    """One of the tracker's events: an object naming its kind, with the fields the actions read well-typed."""
    if not isinstance(event, dict):
        return _wrong(where, event, "an object")
    kind = event.get("event")
    if not isinstance(kind, str):
        return f"{where}.event is missing" if kind is None else _wrong(f"{where}.event", kind, "the event's kind")
    problem = (_of(event, "name", str, f"{where}.") or _of(event, "text", str, f"{where}.")
               or _of(event, "input_channel", str, f"{where}.") or _of(event, "parse_data", dict, f"{where}."))
    if problem:
        return problem
    if isinstance(event.get("parse_data"), dict):
        return message_problem(event["parse_data"], f"{where}.parse_data.")
    return None


_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _of(container: Dict[str, Any], key: str, kind: type, where: str, nullable: bool = True) -> Optional[str]:
    """A problem when `container[key]` is present and not of `kind` (nor null, where null is allowed: rasa_sdk
    puts a default in for a missing slots or events, but takes a null as it is)."""
    if key not in container:
        return None
    value = container[key]
    if (value is None and nullable) or isinstance(value, kind):
        return None
    return _wrong(f"{where}{key}", value, _KINDS[kind])


def _name(container: Dict[str, Any], key: str, where: str) -> Optional[str]:
    """A problem unless `container[key]` is a non-blank string (an action's name, a conversation's id)."""
    value = container.get(key)
    if value is None:
        return f"{where}{key} is missing: {CALL_SHAPE}"
    if not isinstance(value, str):
        return _wrong(f"{where}{key}", value, "a string")
    return None if value.strip() else f"{where}{key} must not be empty"


def _wrong(where: str, value: Any, expected: str) -> str:
    return f"{where} must be {expected}, not {json_kind(value)}"
