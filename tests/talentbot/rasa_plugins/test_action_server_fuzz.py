"""The action server's `POST /webhook` driven with random calls (hypothesis): random bytes, random JSON, deflate
bodies, and calls shaped as Rasa makes them whose texts hold NUL, lone surrogates, emoji and 10,000 characters and
whose fields have the wrong types. The real server process (`python -m talentbot.rasa_plugins.action_server`, behind its
token)
on a real SQLite handoff database. Never a 5xx, never a crash, every refusal a JSON error, a caller without the
token refused before anything runs, and the messages of a ticket stored before the run still there afterwards.

The rules are restated here independently of talentbot/rasa_plugins/action_call.py, so the fuzzer checks the code, not
itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from talentbot.core import paths
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.wiring.devserver import free_port, prepare_handoff_database, wait_until_ready

pytestmark = pytest.mark.server

TOKEN = "fuzz-secret"
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
KEPT = ["我想搵人幫手", "still waiting \U0001F600", "Hello, this is Sue."]
"""The messages of the ticket stored before the run: they must be there, unchanged, after every call."""


def unstorable(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"


# --- strategies ----------------------------------------------------------------------------------------------------

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # surrogates included
texts = st.text(any_char, max_size=30) | st.sampled_from([
    "", " ", "\x00", "\ud800", "a\udfff", "I want a person\x00", "我想搵真人 \U0001F600", "\u202egnp.exe",
    "/request_human",
])
long_texts = st.sampled_from(["x" * 10_000, "高才通" * 3400, "\ud800" * 10_000, "\U0001F600" * 5000, "a\x00" * 5000])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
ACTIONS = ["action_handoff", "action_answer", "validate_eligibility_form", "action_eligibility_result"]
SLOT_VALUES = ["en", "zh-Hant", "zh-Hans", "TTPS", "QMAS", "housing", "elig_age", "elig_income"]


@st.composite
def trackers(draw: Any, broken: bool) -> Dict[str, Any]:
    """A tracker state as Rasa sends it, its texts random; when `broken`, now and then a field of the wrong type or
    missing."""

    def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
        """The right kind of value; when broken, sometimes any JSON value (a wrong type) in its place."""
        return st.one_of(strategy, strategy, strategy, json_values) if broken else strategy

    text = draw(maybe(texts | long_texts))
    message = {"text": text, "intent": draw(maybe(st.fixed_dictionaries({"name": maybe(texts)}))),
               "entities": draw(maybe(st.lists(st.fixed_dictionaries({"entity": maybe(texts), "value": json_values}),
                                               max_size=2)))}
    events: List[Any] = [{"event": "action", "name": "action_listen"},
                         {"event": "user", "text": text, "parse_data": message, "input_channel": draw(maybe(texts))}]
    if broken and draw(st.booleans()):
        events.append(draw(json_values))
    tracker = {
        "sender_id": draw(maybe(st.sampled_from(["telegram:55", "web:" + "0" * 32]) | texts)),
        "slots": draw(maybe(st.dictionaries(st.sampled_from(["language", "scheme", "topic", "requested_slot"]),
                                            maybe(st.none() | texts | st.sampled_from(SLOT_VALUES)), max_size=3))),
        "latest_message": message, "events": draw(maybe(st.just(events))), "paused": draw(maybe(st.booleans())),
        "latest_input_channel": draw(maybe(st.sampled_from(["telegram", "rest"]))),
        "active_loop": draw(maybe(st.just({}) | st.just({"name": "eligibility_form"}))),
        "latest_action_name": draw(maybe(st.just("action_listen"))),
    }
    for key in draw(st.lists(st.sampled_from(sorted(tracker)), max_size=2 if broken else 0)):
        tracker.pop(key, None)
    return tracker


@st.composite
def calls(draw: Any) -> Any:
    """A call as Rasa makes it (its texts random), or, a third of the time, one with broken parts."""
    broken = draw(st.integers(0, 2)) == 0

    def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(strategy, strategy, strategy, json_values) if broken else strategy

    call = {"next_action": draw(maybe(st.sampled_from(ACTIONS + ["no_such_action", ""]))),
            "tracker": draw(maybe(trackers(broken))), "domain": draw(maybe(st.just({}))),
            "version": draw(maybe(st.just("3.6.21")))}
    for key in draw(st.lists(st.sampled_from(sorted(call)), max_size=1 if broken else 0)):
        call.pop(key, None)
    return call


def utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@dataclass(frozen=True)
class Request:
    body: bytes
    obj: Any  # what the body encodes, when it is JSON
    deflate: bool
    token: Optional[str]


@st.composite
def requests(draw: Any) -> Request:
    kind = draw(st.sampled_from(["call", "call", "call", "value", "bytes", "truncated"]))
    obj: Any = None
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    else:
        obj = draw(calls()) if kind != "value" else draw(json_values)
        raw_text = draw(st.integers(0, 3)) == 0  # else JSON escapes, as Rasa writes them
        body = json.dumps(obj, ensure_ascii=not raw_text).encode("utf-8", "surrogatepass")
        if kind == "truncated":
            body, obj = body[: draw(st.integers(0, max(0, len(body) - 1)))], None
        if not utf8(body):  # a lone surrogate written raw, not as an escape: no JSON text is encoded so
            obj = None
    deflate = draw(st.integers(0, 4)) == 0
    token = draw(st.sampled_from([TOKEN] * 8 + [None, "guess"]))
    return Request(zlib.compress(body) if deflate else body, obj, deflate, token)


# --- the server ----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    queue: str
    kept_ticket: int
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("actions_fuzz")
    queue = f"sqlite:///{workdir / 'handoff.sqlite3'}"
    prepare_handoff_database(queue)
    store = SqlTicketStore.from_url(queue)
    try:
        ticket = store.open_ticket("telegram:55", "telegram", "zh-Hant", "requested", summary=KEPT[0])
        for sender, text in zip(("user", "user", "staff"), KEPT, strict=True):
            store.add_message(ticket.id, sender, text)
    finally:
        store.close()
    port, log = free_port(), workdir / "actions.log"
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "HANDOFF_DB_URL": queue}
    env.pop("ACTION_SERVER_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "talentbot.rasa_plugins.action_server", "--actions", "actions", "--port", str(port)],
        cwd=paths.ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", process, timeout=120)
        yield Server(f"http://127.0.0.1:{port}", process, queue, ticket.id, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def queue(server: Server) -> Iterator[SqlTicketStore]:
    store = SqlTicketStore.from_url(server.queue)
    yield store
    store.close()


def well_formed(obj: Any) -> bool:
    """Whether a call has every field rasa_sdk and the actions read, of the right type (restating the rules)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("next_action"), str) or not _clean(obj["next_action"]):
        return False
    tracker = obj.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        return False
    if not _clean(tracker["sender_id"]).strip():
        return False
    kinds = {"slots": dict, "latest_message": dict, "events": list, "paused": bool, "active_loop": dict,
             "latest_action_name": str, "latest_input_channel": str}
    if any(tracker.get(key) is not None and not isinstance(tracker[key], kind) for key, kind in kinds.items()):
        return False
    if any(key in tracker and tracker[key] is None for key in ("slots", "events")):  # rasa_sdk takes null as is
        return False
    for slot, value in (tracker.get("slots") or {}).items():  # text and categorical slots of bot/domain
        allowed = (str,) if slot == "requested_slot" else (str, int, float, bool)
        if value is not None and not isinstance(value, allowed):
            return False
    if obj.get("domain") is not None and not isinstance(obj["domain"], dict):
        return False
    if obj.get("version") is not None and not isinstance(obj["version"], str):
        return False
    message = tracker.get("latest_message") or {}
    if not _message_ok(message):
        return False
    if isinstance(tracker.get("active_loop"), dict) and not _optional(tracker["active_loop"].get("name"), str):
        return False
    for entry in tracker.get("events") or []:  # not `event`: that name is hypothesis's, imported above
        if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
            return False
        if not all(_optional(entry.get(key), str) for key in ("name", "text", "input_channel")):
            return False
        if not _optional(entry.get("parse_data"), dict) or not _message_ok(entry.get("parse_data") or {}):
            return False
    return True


def _message_ok(message: Dict[str, Any]) -> bool:
    if not (_optional(message.get("text"), str) and _optional(message.get("intent"), dict)
            and _optional(message.get("entities"), list)):
        return False
    if isinstance(message.get("intent"), dict) and not _optional(message["intent"].get("name"), str):
        return False
    return all(isinstance(e, dict) and _optional(e.get("entity"), str) for e in message.get("entities") or [])


def _optional(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _clean(text: str) -> str:
    return "".join(c for c in text if not unstorable(c))


@FUZZ
@given(request=requests())
def test_the_webhook_under_random_calls(server: Server, queue: SqlTicketStore, request: Request) -> None:
    headers = {"Content-Type": "application/json"}
    if request.token:
        headers["Authorization"] = f"Bearer {request.token}"
    if request.deflate:
        headers["Content-Encoding"] = "deflate"
    answer = httpx.post(f"{server.url}/webhook", content=request.body, headers=headers, timeout=60)
    assert server.process.poll() is None, "the action server stopped"
    assert answer.status_code < 500, (answer.status_code, answer.text[:500])
    if answer.status_code >= 400:
        assert isinstance(answer.json()["error"], str) and "request_body" not in answer.json()  # no echo
    if request.token != TOKEN:
        assert answer.status_code == 401
    elif well_formed(request.obj):
        known = request.obj["next_action"] in ACTIONS
        assert answer.status_code == (200 if known else 404), answer.text[:500]
    else:
        assert answer.status_code in (400, 404, 413, 415), answer.text[:500]
    event(f"answered {answer.status_code}")
    kept = queue.messages(server.kept_ticket)
    assert [m.text for m in kept] == KEPT  # nothing stored before was lost or changed
    for ticket in queue.list_by_status("waiting"):
        assert not any(map(unstorable, ticket.conversation_id + ticket.summary)), ticket


def test_the_server_logged_no_crash(server: Server) -> None:
    """Runs after the fuzzer (same module): the log has no traceback, so nothing was answered 4xx by accident."""
    assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text(errors="replace")
