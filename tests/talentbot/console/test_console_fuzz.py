"""Every endpoint of the staff console driven with random requests (hypothesis): random bytes, random JSON, texts
with NUL, lone surrogates, emoji and 10,000 characters, odd ids, odd query strings, forged cookies and CSRF tokens,
logged in and not. The real aiohttp application on a free port, on a real SQLite file and on the real PostgreSQL
(where NUL is refused). Never a 5xx, every refusal a JSON error, a reply stored exactly when the rules say, and no
message stored before any request ever lost or changed.

The rules are restated here independently of talentbot/console/api_input.py, so the fuzzer checks the code, not
itself.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from talentbot.core.handoff.store import Ticket
from tests.talentbot.conftest import RunningConsole

pytestmark = pytest.mark.server

CAP = 4096  # longest staff reply, in characters once cleaned
MAX_BODY = 64 * 1024
SESSION_USER = "sue"  # a supervisor: may claim, reply, transfer and resolve any ticket
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def unstorable(char: str) -> bool:
    """Control characters (but tab, LF, CR) and lone surrogates: never stored."""
    return unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"


def cleaned(text: str) -> str:
    return "".join(c for c in text if not unstorable(c))


# --- strategies ----------------------------------------------------------------------------------------------------

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # surrogates included
texts = st.text(any_char, max_size=40) | st.sampled_from([
    "", " ", "\x00", "\ud800", "a\udfff", "hi\x00there", "你好，我幫你跟進。", "\U0001F600\U0001F44D", "\u202egnp.exe",
    "\x1b[31m", "amy", "ben", "waiting", "assigned", "resolved", "<script>alert(1)</script>", "\r\n",
])
long_texts = st.sampled_from(["x" * 10_000, "字" * CAP, "字" * (CAP + 1), "x" * CAP + "\x00" * 20,
                              "\ud800" * 10_000, "\U0001F600" * 5000, "ab\x00" * 3000])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
usernames = (st.sampled_from(["amy", "ben", "nobody", ""]) | texts | json_values).filter(
    lambda name: name != SESSION_USER)  # wrong passwords lock an account: never the fuzzer's own


@st.composite
def bodies(draw: Any, meant: str) -> Tuple[Optional[bytes], Any]:
    """(raw body or None, the value it encodes when it is JSON): most often the kind of body the endpoint reads
    (`meant`: reply, login, transfer or none), else any kind."""
    kinds = ["none", "bytes", "value", "object", "reply", "login", "transfer", "truncated"]
    kind = draw(st.sampled_from([meant] * len(kinds) + kinds))
    if kind == "none":
        return None, None
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    if kind == "value":
        obj: Any = draw(json_values)
    elif kind == "reply":
        obj = {"text": draw(texts | long_texts)}
    elif kind == "login":
        obj = {"username": draw(usernames), "password": draw(texts | long_texts | json_values)}
    elif kind == "transfer":
        obj = {"username": draw(usernames)}
    else:
        keys = st.sampled_from(["text", "username", "password", "other"])
        obj = draw(st.dictionaries(keys, texts | long_texts | json_values, max_size=4))
    raw_text = draw(st.integers(0, 3)) == 0  # else JSON escapes, as browsers write them
    raw = json.dumps(obj, ensure_ascii=not raw_text).encode("utf-8", "surrogatepass")
    if kind == "truncated":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))], None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:  # a lone surrogate written raw, not as an escape: no JSON text is encoded so
        return raw, None
    return raw, obj


def url_part(text: str) -> str:
    """Any text as a path segment or query value, percent-encoded (lone surrogates as invalid UTF-8 bytes); its
    first 4,000 characters, as a client library refuses a URL over 64 KiB (aiohttp refuses one over 8 KiB)."""
    return quote(text[:4000].encode("utf-8", "surrogatepass"), safe="")


ids = st.one_of(
    *[st.just("{target}")] * 6, st.just("{other}"), st.integers(-3, 2**40).map(str), texts.filter(bool).map(url_part),
    st.sampled_from(["99999999999999999999999", "2147483648", "0", "+1", "1e3", "0x10", "%EF%BC%91", "%FF"]))
statuses = st.none() | st.sampled_from(["waiting", "assigned", "resolved"]) | texts.map(url_part)
header_bytes = st.binary(max_size=60).map(  # what a client library lets through: no CR, LF, VT, FF, NUL, no padding
    lambda raw: raw.translate(None, b"\r\n\x0b\x0c\x00").strip())
ENDPOINTS = [
    ("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/me"), ("GET", "/api/tickets"),
    ("GET", "/api/tickets/{id}"), ("POST", "/api/tickets/{id}/claim"), ("POST", "/api/tickets/{id}/messages"),
    ("POST", "/api/tickets/{id}/transfer"), ("POST", "/api/tickets/{id}/resolve"), ("GET", "/api/stats"),
    ("GET", "/api/staff"), ("GET", "/api/events"), ("GET", "/login"), ("GET", "/"), ("GET", "/tickets/{id}"),
]
BODY_READ = {"/api/login": "login", "/api/tickets/{id}/messages": "reply", "/api/tickets/{id}/transfer": "transfer"}
"""The endpoints that read a body, and what they read; the others are sent any body now and then."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    id: str
    status: Optional[str]
    auth: str  # none, forged cookie, session (with its CSRF token), session without / with a wrong CSRF token
    cookie: bytes
    csrf: bytes
    content_type: Optional[str]
    body: Optional[bytes]
    obj: Any
    last_event_id: Optional[bytes]


@st.composite
def calls(draw: Any) -> Call:
    method, path = draw(st.sampled_from(ENDPOINTS))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    body, obj = draw(bodies(BODY_READ.get(path, "none")))
    return Call(
        method=method, path=path, id=draw(ids), status=draw(statuses),
        auth=draw(st.sampled_from(["session"] * 4 + ["none", "forged", "no-csrf", "wrong-csrf"])),
        cookie=draw(header_bytes), csrf=draw(header_bytes),
        content_type=draw(st.sampled_from(["application/json"] * 5 + ["application/json; charset=utf-8",
                                                                      "text/plain", None, "multipart/form-data"])),
        body=body, obj=obj, last_event_id=draw(st.none() | header_bytes))


@st.composite
def text_calls(draw: Any) -> Call:
    """One random text (NUL, lone surrogates, emoji, 10,000 characters...) in a field an endpoint reads: a body's
    text, username or password, a ticket id, the status filter, Last-Event-ID; sent as the logged-in page sends
    its requests (session cookie, CSRF token, JSON with escapes)."""
    path = draw(st.sampled_from(["/api/login", "/api/tickets/{id}/messages", "/api/tickets/{id}/transfer",
                                 "/api/tickets", "/api/tickets/{id}", "/api/events", "/api/tickets/{id}/claim"]))
    text = draw(texts | long_texts)
    username = draw(st.sampled_from(["amy", "ben", text if text != SESSION_USER else "amy"]))
    bodies_of = {"/api/login": {"username": username, "password": text},
                 "/api/tickets/{id}/messages": {"text": text}, "/api/tickets/{id}/transfer": {"username": text}}
    obj = bodies_of.get(path)
    safe_header = text.encode("utf-8", "surrogatepass").translate(None, b"\r\n\x0b\x0c\x00").strip()[:200]
    return Call(
        method="GET" if path in ("/api/tickets", "/api/tickets/{id}", "/api/events") else "POST", path=path,
        id="{target}" if obj is not None or text == "" else draw(st.sampled_from(["{target}", url_part(text)])),
        status=url_part(text), auth="session", cookie=b"", csrf=b"", content_type="application/json",
        body=None if obj is None else json.dumps(obj).encode("ascii"), obj=obj,
        last_event_id=safe_header if path == "/api/events" else None)


# --- the world the fuzzer writes into ------------------------------------------------------------------------------


@dataclass
class World:
    """A logged-in supervisor, the ticket the fuzzer writes into (assigned, with messages) and one to the side;
    every message stored so far, which must stay exactly as it was."""

    console: RunningConsole
    cookie: str = ""
    csrf: str = ""
    target: Optional[Ticket] = None
    other: Optional[Ticket] = None
    seen: Dict[int, Tuple[int, str, str]] = field(default_factory=dict)  # message id -> (ticket, sender, text)
    tickets: List[int] = field(default_factory=list)
    conversations: int = 0

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints it with each failing case
        printer.text(f"World(target={self.target and self.target.id}, other={self.other and self.other.id})")

    async def log_in(self) -> None:
        client, self.csrf = await self.console.logged_in(SESSION_USER)
        async with client:
            self.cookie = client.cookies["talentbot_staff_session"]

    def new_target(self) -> Ticket:
        """An assigned ticket with a user's and a staff member's message already stored."""
        self.conversations += 1
        store = self.console.store
        ticket = store.open_ticket(f"telegram:{1000 + self.conversations}", "telegram", "zh-Hant", "requested",
                                   summary="我想搵人幫手")
        store.claim(ticket.id, SESSION_USER)
        store.add_message(ticket.id, "user", "我想問下高才通 \U0001F600")
        store.add_message(ticket.id, "staff", "Hello, Sue here.", author=SESSION_USER, delivered=True)
        self.tickets.append(ticket.id)
        self.remember()
        return store.get(ticket.id)

    def remember(self) -> None:
        for ticket_id in self.tickets:
            for message in self.console.store.messages(ticket_id):
                self.seen.setdefault(message.id, (message.ticket_id, message.sender, message.text))

    def check_nothing_lost(self) -> None:
        """Every message stored before is still there, unchanged; nothing stored holds an unstorable character."""
        now = {m.id: (m.ticket_id, m.sender, m.text) for t in self.tickets for m in self.console.store.messages(t)}
        lost = {key: value for key, value in self.seen.items() if now.get(key) != value}
        assert not lost, f"messages lost or changed: {lost}"
        assert not [text for _, _, text in now.values() if any(map(unstorable, text))]
        self.seen.update(now)


@pytest.fixture
async def world(console: RunningConsole) -> World:
    made = World(console)
    await made.log_in()
    made.target = made.new_target()
    made.other = made.new_target()
    return made


MAX_LINE = 8190
"""aiohttp's limit on the request line and on each header line: past it, its parser answers 400 itself."""


def bad_http(call: Call, url: str) -> bool:
    """Whether the request is bad HTTP, which aiohttp's parser answers 400 before the application sees it: a
    header holding a control character (HTTP forbids them), or a request line longer than MAX_LINE."""
    sent = (call.cookie if call.auth == "forged" else b"") + (call.csrf if call.auth == "wrong-csrf" else b"")
    sent += call.last_event_id or b""
    return any(byte < 0x20 and byte != 0x09 or byte == 0x7F for byte in sent) or len(url) > MAX_LINE - 20


def expected_reply(call: Call) -> Optional[str]:
    """The text a call must store as the supervisor's reply on the target ticket, or None when it must be refused."""
    if (call.method, call.path, call.id, call.auth) != ("POST", "/api/tickets/{id}/messages", "{target}", "session"):
        return None
    if call.content_type is None or call.content_type.split(";")[0] != "application/json":
        return None
    if call.body is None or len(call.body) > MAX_BODY or not isinstance(call.obj, dict):
        return None
    text = call.obj.get("text")
    if not isinstance(text, str):
        return None
    text = cleaned(text)
    return text if text.strip() and len(text) <= CAP else None


async def send(client: httpx.AsyncClient, world: World, call: Call) -> httpx.Response:
    assert world.target is not None and world.other is not None  # set up by the `world` fixture
    ticket_id = call.id.format(target=world.target.id, other=world.other.id)
    url = call.path.replace("{id}", ticket_id)
    if call.path == "/api/tickets" and call.status is not None:
        url += f"?status={call.status}"
    headers: Dict[str, Any] = {}
    if call.auth == "forged":
        headers["Cookie"] = b"talentbot_staff_session=" + call.cookie
    elif call.auth != "none":
        headers["Cookie"] = f"talentbot_staff_session={world.cookie}"
    if call.auth == "session":
        headers["X-CSRF-Token"] = world.csrf
    elif call.auth == "wrong-csrf":
        headers["X-CSRF-Token"] = call.csrf
    if call.content_type is not None:
        headers["Content-Type"] = call.content_type
    if call.last_event_id is not None:
        headers["Last-Event-ID"] = call.last_event_id
    request = client.build_request(call.method, url, headers=headers, content=call.body)
    if call.path == "/api/events":  # a stream: its first line is enough, then the page goes away
        response = await client.send(request, stream=True)
        try:
            if response.status_code == 200:
                first = await asyncio.wait_for(response.aiter_lines().__anext__(), 5)
                assert first == ": connected"
            else:
                await response.aread()
        finally:
            await response.aclose()
        return response
    return await client.send(request)


@FUZZ
@given(call=calls())
async def test_every_endpoint_under_random_requests(world: World, call: Call) -> None:
    await check(world, call)


@FUZZ
@given(call=text_calls())
async def test_random_texts_in_every_field_with_a_valid_session(world: World, call: Call) -> None:
    await check(world, call)


async def check(world: World, call: Call) -> None:
    """Sends the call; never a 5xx, refusals in JSON, a reply stored exactly when the rules say, nothing lost."""
    assert world.target is not None and world.other is not None  # set up by the `world` fixture
    console = world.console
    sent_before = len(console.deliver.sent)
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as client:
        response = await send(client, world, call)
    assert response.status_code < 500, (call, response.status_code, response.text[:300])
    event(f"answered {response.status_code}")
    if bad_http(call, str(response.request.url.raw_path, "ascii")):
        assert response.status_code == 400
        return
    if response.request.url.path.startswith("/api/") and response.status_code >= 400:
        assert isinstance(response.json()["error"], str)  # JSON that says what is wrong, never a stack trace
    reply = expected_reply(call)
    if reply is not None:
        assert response.status_code == 201, (call, response.text[:300])
        assert response.json()["text"] == reply
        assert console.store.messages(world.target.id)[-1].text == reply
        assert console.deliver.sent[sent_before:] == [("telegram", world.target.conversation_id, reply)]
    elif call.path == "/api/tickets/{id}/messages":
        assert response.status_code != 201 or call.auth == "session", call
        assert call.auth == "session" or console.deliver.sent[sent_before:] == []
    world.check_nothing_lost()
    if call.path == "/api/logout" and response.status_code == 200:
        await world.log_in()  # the fuzzer logged its own session out
    if console.store.get(world.target.id).status != "assigned":  # resolved or transferred by the fuzzer
        world.target = world.new_target()
    if console.store.get(world.other.id).status == "resolved":
        world.other = world.new_target()
