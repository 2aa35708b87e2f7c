"""The staff console: the JSON API of interfaces §5, the event stream and the pages, on aiohttp.

A thin adapter: the queue's rules are in policy.py, storage in store.py / accounts.py, what each request may carry
in api_input.py (checked before any store call). The conversation's transcript and delivery to the user's channel
are passed in (talentbot/wiring/handoff_service.py wires in Rasa's HTTP API and connectors.outbound.send_text). While
the
database cannot be reached, every request is answered 503 with a JSON error, and the console serves again as soon
as it answers (no restart).

`/health` (alive), `/ready` (the database answers: 200, else 503 with the reason) and `/metrics` (the queue's
length and the age of its oldest ticket, computed from the database at each scrape; replies sent) need no session:
probes and scrapers have none, and they say nothing about conversations or staff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Awaitable, Callable, Iterable, List, Mapping, Optional, ParamSpec, Tuple, TypeVar, Union

from aiohttp import web
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from talentbot.console.api_input import (
    MAX_BODY_BYTES,
    JsonObject,
    Refusal,
    credentials,
    json_object,
    reply_text,
    session_token,
    ticket_status,
    transfer_target,
)
from talentbot.core.handoff import auth, texts
from talentbot.core.handoff.accounts import LoginLocked, Session, StaffDirectory
from talentbot.core.handoff.events import ChangeHub, sse_frame
from talentbot.core.handoff.policy import QueuePolicy, default_policy
from talentbot.core.handoff.store import (
    ClaimConflict,
    InvalidState,
    SqlTicketStore,
    Ticket,
    TicketNotFound,
    TicketStore,
    UnknownStaff,
    utcnow,
)
from talentbot.core.handoff.wire import Turn, message_json, stats_json, ticket_detail, ticket_summary
from talentbot.core.observability import logs, metrics, readiness
from talentbot.core.store_outages import OUTAGES, OutageLog, StoreUnavailable, reporting

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

PORT_VARIABLE = "STAFF_CONSOLE_PORT"
DEFAULT_PORT = 8080
"""interfaces §5."""

HOST_VARIABLE = "STAFF_CONSOLE_HOST"
DEFAULT_HOST = "127.0.0.1"
"""Loopback by default: put a TLS-terminating proxy in front to reach it from elsewhere."""

SECURE_COOKIE_VARIABLE = "STAFF_CONSOLE_SECURE_COOKIE"
"""Set to 1 behind HTTPS so the session cookie is never sent in clear."""

COOKIE_NAME = "talentbot_staff_session"
CSRF_HEADER = "X-CSRF-Token"

HANDOFF_DATABASE = "handoff database"
"""The store's name in the outage log (talentbot/core/store_outages.py): one error line when it stops answering, one
when it answers again."""

OUTAGE_RETRY_AFTER_S = 30
"""`Retry-After` of a request refused while the database is unreachable: restarts and fail-overs take seconds."""

EVENT_POLL_S = 1.0
"""How often an event stream looks in the database for changes made by other processes."""

EVENT_HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies from closing an idle stream and notices a dead session."""

PAGES = Path(__file__).with_name("static")

REPLIES = Counter("talentbot_handoff_replies_total",
                  "Staff replies sent from the console, by outcome (delivered, not_delivered: kept on the ticket)",
                  ["outcome"])

Deliver = Callable[[str, str, str], Awaitable[None]]
"""`deliver(channel, recipient_id, text)`: sends a text to the user on their channel."""

TranscriptSource = Callable[[str], Awaitable[List[Turn]]]
"""`transcript(conversation_id)`: the conversation so far, bot turns included."""

Resume = Callable[[Ticket], Awaitable[None]]
"""Called before a ticket is resolved: hands the conversation back to the assistant (raises if it cannot)."""


async def _no_resume(ticket: Ticket) -> None:
    return None


@dataclass
class Console:
    """What the handlers need; one per application."""

    store: TicketStore
    directory: StaffDirectory
    deliver: Deliver
    transcript: TranscriptSource
    policy: QueuePolicy
    resume: Resume = _no_resume
    clock: Callable[[], dt.datetime] = utcnow
    secure_cookie: bool = False
    hub: ChangeHub = field(default_factory=ChangeHub)
    outages: OutageLog = OUTAGES

    async def run(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs a blocking store call in a worker thread, keeping the event loop free for other staff. A database
        that cannot be reached raises StoreUnavailable (logged once per outage), answered 503 by `store_outage`."""
        with reporting(HANDOFF_DATABASE, self.outages):
            return await asyncio.to_thread(function, *args, **kwargs)


CONSOLE = web.AppKey("console", Console)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AuthedHandler = Callable[[web.Request, Console, Session], Awaitable[web.StreamResponse]]


# --- responses and guards ------------------------------------------------------------------------------------


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def refused(refusal: Refusal) -> web.Response:
    return error(refusal.status, refusal.reason)


def _cookie_token(request: web.Request) -> Optional[str]:
    return session_token(request.cookies.get(COOKIE_NAME))


async def _session(request: web.Request, console: Console) -> Optional[Session]:
    token = _cookie_token(request)
    return None if token is None else await console.run(console.directory.session, token, console.clock())


def api(handler: AuthedHandler, state_changing: bool = False) -> Handler:
    """Wraps an API handler: a live session (else 401) and, for state changes, the session's CSRF token (else 403)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        console = request.app[CONSOLE]
        session = await _session(request, console)
        if session is None:
            return error(401, "log in first")
        if state_changing and not auth.csrf_valid(session.csrf_token, request.headers.get(CSRF_HEADER)):
            return error(403, f"missing or wrong {CSRF_HEADER} header")
        try:
            return await handler(request, console, session)
        except TicketNotFound as problem:
            return error(404, str(problem))
        except ClaimConflict as problem:
            return error(409, str(problem))
        except (InvalidState, UnknownStaff) as problem:
            return error(409, str(problem))

    return wrapped


async def read_json(request: web.Request) -> Union[JsonObject, Refusal]:
    """The request's JSON object, or why it is refused. JSON content type only: a cross-site form cannot send it
    without a CORS preflight. Endpoints without a body (log-out, claim, resolve) never read what is sent."""
    if request.content_type != "application/json":
        return Refusal(415, "send JSON (Content-Type: application/json)")
    too_large = Refusal(413, f"the body is over {MAX_BODY_BYTES:,} bytes")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return too_large
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_large
    return json_object(raw)


MAX_ID = 2**31 - 1
"""Largest ticket or message id: the Integer columns' range on PostgreSQL (int4). A larger number in a URL is no
ticket, not a database error."""


def parse_id(text: str, minimum: int = 1) -> Optional[int]:
    """`text` as an id if it is plain ASCII digits within minimum..MAX_ID, else None (int() alone would take
    "+1", " 1", "1_0" or full-width digits, and numbers the database cannot hold)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if minimum <= value <= MAX_ID else None


def _ticket_id(request: web.Request) -> int:
    ticket_id = parse_id(request.match_info["ticket_id"])
    if ticket_id is None:
        raise TicketNotFound(f"no ticket {request.match_info['ticket_id'][:40]!r}")
    return ticket_id


def _with_body(handler: Callable[[web.Request, Console, Session, JsonObject], Awaitable[web.StreamResponse]]
               ) -> AuthedHandler:
    async def wrapped(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
        body = await read_json(request)
        if isinstance(body, Refusal):
            return refused(body)
        return await handler(request, console, session, body)

    return wrapped


# --- log-in --------------------------------------------------------------------------------------------------


async def login(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    body = await read_json(request)
    if isinstance(body, Refusal):
        return refused(body)
    given = credentials(body)
    if isinstance(given, Refusal):
        return refused(given)
    username, password = given
    try:
        user = await console.run(console.directory.log_in, username, password, console.clock())
    except LoginLocked as locked:
        wait = max(1, math.ceil((locked.until - console.clock()).total_seconds()))
        response = error(429, f"Too many failed log-ins for this account. Try again in {math.ceil(wait / 60)} "
                              f"minute(s).")
        response.headers["Retry-After"] = str(wait)
        return response
    if user is None:
        return error(401, "wrong username or password")
    token, session = await console.run(console.directory.start_session, user, console.clock())
    response = web.json_response({"username": session.username, "role": session.role,
                                  "csrf_token": session.csrf_token})
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict", path="/",
                        secure=console.secure_cookie or request.secure,
                        max_age=int(auth.SESSION_MAX_AGE.total_seconds()))
    return response


async def logout(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    await console.run(console.directory.end_session, _cookie_token(request))
    console.hub.notify()  # this process's event streams look at their sessions now and the logged-out one ends
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE_NAME, path="/")
    return response


async def me(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    """Who is logged in, and the CSRF token the pages send back."""
    return web.json_response({"username": session.username, "role": session.role, "csrf_token": session.csrf_token})


# --- tickets -------------------------------------------------------------------------------------------------


async def list_tickets(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    status = ticket_status(request.query.get("status"))
    if isinstance(status, Refusal):
        return refused(status)
    found = await console.run(console.store.list_by_status, status)
    now = console.clock()
    return web.json_response([ticket_summary(ticket, now, console.policy) for ticket in found])


async def _transcript(console: Console, conversation_id: str) -> tuple[List[Turn], Optional[str]]:
    try:
        return list(await console.transcript(conversation_id)), None
    except Exception:  # the tracker store being down must not hide the ticket
        log.exception("could not load the transcript of %s", logs.pseudonym(conversation_id))
        return [], "the conversation history could not be loaded"


async def get_ticket(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    ticket = await console.run(console.store.get, _ticket_id(request))
    found = await console.run(console.store.messages, ticket.id)
    transcript, problem = await _transcript(console, ticket.conversation_id)
    return web.json_response(ticket_detail(ticket, console.clock(), console.policy, found, transcript, problem,
                                           texts.saved_replies(ticket.language)))


async def claim(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    ticket = await console.run(console.store.claim, _ticket_id(request), session.username, console.clock())
    console.hub.notify()
    return web.json_response(ticket_summary(ticket, console.clock(), console.policy))


async def _own(console: Console, session: Session, ticket_id: int) -> Ticket:
    ticket = await console.run(console.store.get, ticket_id)
    if ticket.status != "assigned":
        raise InvalidState(f"ticket {ticket.id} is {ticket.status}; claim it first")
    if not auth.may_act_on(session.role, session.username, ticket.assignee):
        raise PermissionError(f"ticket {ticket.id} is handled by {ticket.assignee}")
    return ticket


async def post_message(request: web.Request, console: Console, session: Session,
                       body: JsonObject) -> web.StreamResponse:
    """A staff reply (cleaned and capped, api_input.reply_text): stored first (nothing is lost if the channel
    fails), then delivered to the user's channel."""
    text = reply_text(body)
    if isinstance(text, Refusal):
        return refused(text)
    try:
        ticket = await _own(console, session, _ticket_id(request))
    except PermissionError as problem:
        return error(403, str(problem))
    # delivered stays None (pending) until the channel answers
    message = await console.run(partial(console.store.add_message, ticket.id, "staff", text, author=session.username,
                                        now=console.clock()))
    console.hub.notify()
    try:
        await console.deliver(ticket.channel, ticket.conversation_id, text)
    except Exception as problem:  # the channel's own error (e.g. WeChat's 48-hour window), shown to staff
        log.warning("reply to ticket %s not delivered: %s", ticket.id, problem)
        REPLIES.labels("not_delivered").inc()
        await console.run(console.store.set_delivered, message.id, False)
        failed = message_json(message)
        failed["delivered"] = False
        return web.json_response({"error": f"saved but not delivered: {problem}", "message": failed}, status=502)
    REPLIES.labels("delivered").inc()
    try:
        await console.run(console.store.set_delivered, message.id, True)
    except StoreUnavailable:  # delivered all the same: say so, not "try again" (the user would get it twice)
        log.warning("reply %s delivered, but not marked so: the database went away", message.id)
    delivered = message_json(message)
    delivered["delivered"] = True
    return web.json_response(delivered, status=201)


async def transfer(request: web.Request, console: Console, session: Session,
                   body: JsonObject) -> web.StreamResponse:
    target = transfer_target(body)
    if isinstance(target, Refusal):
        return refused(target)
    try:
        ticket = await _own(console, session, _ticket_id(request))
    except PermissionError as problem:
        return error(403, str(problem))
    ticket = await console.run(console.store.transfer, ticket.id, target, console.clock())
    console.hub.notify()
    return web.json_response(ticket_summary(ticket, console.clock(), console.policy))


async def resolve(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    """Resumes the bot, closes the ticket, and tells the user in their language that the assistant is back.

    The bot is resumed first: if that fails, the ticket stays open (the user's messages still reach staff) and
    staff are asked to try again. Closed first, a failed resume would leave a paused bot and no ticket, and the
    user's messages would get no answer from anyone.
    """
    ticket = await console.run(console.store.get, _ticket_id(request))
    if ticket.status == "resolved":
        return error(409, f"ticket {ticket.id} is already resolved")
    if ticket.status == "assigned" and not auth.may_act_on(session.role, session.username, ticket.assignee):
        return error(403, f"ticket {ticket.id} is handled by {ticket.assignee}")
    if ticket.status == "waiting" and session.role != "supervisor":
        return error(409, f"ticket {ticket.id} is waiting; claim it first")
    try:
        await console.resume(ticket)
    except Exception:
        log.exception("ticket %s: resuming the assistant failed; the ticket stays open", ticket.id)
        return error(502, "The assistant could not take the conversation back, so the ticket is still open. "
                          "Try again in a moment.")
    ticket = await console.run(console.store.resolve, ticket.id, console.clock())
    console.hub.notify()
    try:
        await console.deliver(ticket.channel, ticket.conversation_id, texts.user_text("resolved", ticket.language))
    except Exception:  # resolved all the same: the user's next message reaches the bot
        log.exception("ticket %s resolved, but telling the user failed", ticket.id)
    return web.json_response(ticket_summary(ticket, console.clock(), console.policy))


async def stats(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    if not auth.may_view_stats(session.role):
        return error(403, "the supervisor view is for supervisors")
    figures = await console.run(console.store.stats, console.policy, console.clock())
    return web.json_response(stats_json(figures))


async def staff(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    """Staff to transfer a ticket to."""
    users = await console.run(console.directory.list)
    return web.json_response([{"username": user.username, "role": user.role} for user in users])


async def _stream_may_go_on(request: web.Request, console: Console) -> bool:
    """Whether the stream's session is still live. Looked at without restarting its idle clock: an open page is
    not a member of staff at work, so the idle timeout still ends the session and with it the stream."""
    found = await console.run(partial(console.directory.session, _cookie_token(request), console.clock(),
                                      touch=False))
    return found is not None


async def events(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    """Server-sent events: `message` for each new handoff message (id = message id, so a reconnecting browser's
    Last-Event-ID resumes where it left off) and `queue` when any ticket changes.

    The session is looked at on every round, after reading what is new and before sending it: once a log-out or
    an expiry is in the database, the stream sends one `ended` event and closes, and nothing more reaches it.
    While the database cannot be reached, rounds send nothing (only the heartbeat) and the stream goes on where
    it was once the database answers: the open page misses nothing.
    """
    cursor = parse_id(request.headers.get("Last-Event-ID", ""), minimum=0)
    if cursor is None:
        cursor = await console.run(console.store.last_message_id)
    last_change = await console.run(console.store.last_change)  # an outage before this point is a plain 503
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    quiet_since = console.clock()
    await response.write(b": connected\n\n")
    while not console.hub.closed:
        wake = console.hub.current()
        try:
            found = await console.run(console.store.messages_after, cursor)
            change = await console.run(console.store.last_change)
            going_on = await _stream_may_go_on(request, console)
        except StoreUnavailable:
            found, change, going_on = [], last_change, True
        if not going_on:
            await response.write(sse_frame("ended", json.dumps({"error": "the session has ended; log in again"})))
            break
        for message in found:
            await response.write(sse_frame("message", json.dumps(message_json(message)), message.id))
            cursor = message.id
            quiet_since = console.clock()
        if change != last_change:
            last_change = change
            await response.write(sse_frame("queue", json.dumps({"changed_at": change.isoformat() if change else None})))
            quiet_since = console.clock()
        if (console.clock() - quiet_since).total_seconds() >= EVENT_HEARTBEAT_S:
            await response.write(b": keep-alive\n\n")
            quiet_since = console.clock()
        await ChangeHub.wait(wake, EVENT_POLL_S)
    return response


# --- probes and metrics --------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.StreamResponse:
    engine = getattr(request.app[CONSOLE].store, "engine", None)
    checks = {readiness.HANDOFF_DATABASE: readiness.sql_check(engine)} if engine is not None else {}
    result = await readiness.check(checks)
    return web.json_response(result.body(), status=result.status)


class QueueGauges:
    """The queue as gauges, read from the database when Prometheus scrapes (every console process sees the same
    queue): tickets waiting, the age of the oldest, and whether the database answered."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("talentbot_handoff_database_up",
                               "1 when the handoff database answered this scrape, else 0 (and no queue figures)")
        try:
            waiting = self.console.store.list_by_status("waiting")
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        now = self.console.clock()
        oldest = min((ticket.created_at for ticket in waiting), default=None)
        yield GaugeMetricFamily("talentbot_handoff_waiting", "Handoff tickets waiting for a member of staff",
                                value=len(waiting))
        yield GaugeMetricFamily("talentbot_handoff_oldest_waiting_seconds",
                                "How long the oldest waiting ticket has waited (0 with none waiting)",
                                value=0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
        yield up


async def metrics_page(request: web.Request) -> web.StreamResponse:
    gauges = QueueGauges(request.app[CONSOLE])
    body = await asyncio.to_thread(metrics.exposition, [gauges])  # the queue's query runs off the event loop
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


# --- pages ---------------------------------------------------------------------------------------------------


def _page(name: str) -> Handler:
    """A page that needs a session: without one, the browser is sent to the log-in page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        console = request.app[CONSOLE]
        if name != "login.html" and await _session(request, console) is None:
            raise web.HTTPFound("/login")
        return web.FileResponse(PAGES / name, headers={"Content-Type": "text/html; charset=utf-8"})

    return handler


CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                           "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
"""Only our own script runs: even a message that slipped into the page as HTML could not execute."""


@web.middleware
async def api_errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The refusals aiohttp makes itself (no such route, wrong method) in the API's form, `{"error": ...}`, as the
    pages' script and any other client read every other refusal."""
    try:
        return await handler(request)
    except web.HTTPException as problem:
        if problem.status < 400 or not request.path.startswith("/api/"):
            raise
        allowed = problem.headers.get("Allow")
        response = error(problem.status, f"{problem.reason}{f'; use {allowed}' if allowed else ''}")
        if allowed:
            response.headers["Allow"] = allowed
        return response


@web.middleware
async def store_outage(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request that needed the database while it could not be reached: 503 and a JSON error, not a stack trace.
    Nothing is retried: staff see the message and try again, by which time the pool has a fresh connection."""
    try:
        return await handler(request)
    except StoreUnavailable:
        response = error(503, "The ticket database cannot be reached just now, so this was not done. Try again in "
                              "a minute.")
        response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_S)
        return response


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- application ---------------------------------------------------------------------------------------------


def build_app(store: TicketStore, directory: StaffDirectory, deliver: Deliver, transcript: TranscriptSource,
              policy: Optional[QueuePolicy] = None, resume: Resume = _no_resume,
              clock: Callable[[], dt.datetime] = utcnow, secure_cookie: bool = False,
              outages: OutageLog = OUTAGES) -> web.Application:
    """The console application; everything it talks to is passed in, so tests run it with fakes."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[security_headers, api_errors_as_json,
                                                                         store_outage])
    console = Console(store, directory, deliver, transcript, policy or default_policy(), resume, clock, secure_cookie,
                      outages=outages)
    app[CONSOLE] = console
    metrics.count_store_errors(outages)

    async def close_streams(_app: web.Application) -> None:
        console.hub.close()

    # aiohttp 3.9 declares its signals for aiosignal < 1.4, whose Signal was generic in the callback type
    app.on_shutdown.append(close_streams)  # type: ignore[arg-type]
    routes = [
        web.post("/api/login", login),
        web.post("/api/logout", api(logout, state_changing=True)),
        web.get("/api/me", api(me)),
        web.get("/api/tickets", api(list_tickets)),
        web.get("/api/tickets/{ticket_id}", api(get_ticket)),
        web.post("/api/tickets/{ticket_id}/claim", api(claim, state_changing=True)),
        web.post("/api/tickets/{ticket_id}/messages", api(_with_body(post_message), state_changing=True)),
        web.post("/api/tickets/{ticket_id}/transfer", api(_with_body(transfer), state_changing=True)),
        web.post("/api/tickets/{ticket_id}/resolve", api(resolve, state_changing=True)),
        web.get("/api/stats", api(stats)),
        web.get("/api/staff", api(staff)),
        web.get("/api/events", api(events)),
        web.get("/health", health),
        web.get("/ready", ready),
        web.get("/metrics", metrics_page),
        web.get("/login", _page("login.html")),
        web.get("/", _page("queue.html")),
        web.get("/tickets/{ticket_id}", _page("ticket.html")),
        web.static("/static", PAGES / "assets"),
    ]
    app.add_routes(routes)
    from talentbot.console.insights import add_insights  # here: that module builds on this one

    add_insights(app)  # the supervisors' insights and content-gap pages
    from talentbot.console.review import add_review  # here: that module builds on this one too

    add_review(app)  # the supervisors' review queue of what the assistant did not understand
    return app


async def _undelivered(channel: str, recipient_id: str, text: str) -> None:
    raise RuntimeError("the console was started without a delivery function")


async def _no_transcript(conversation_id: str) -> List[Turn]:
    return []


def listen_address(port: Optional[int] = None, env: Mapping[str, str] = os.environ) -> Tuple[str, int]:
    """Where the console listens: STAFF_CONSOLE_HOST (else loopback only) and `port`, else STAFF_CONSOLE_PORT,
    else 8080. Reaching it from other machines is a choice made in the environment, never the default."""
    host = env.get(HOST_VARIABLE, "").strip() or DEFAULT_HOST
    return host, port or int(env.get(PORT_VARIABLE) or DEFAULT_PORT)


def serve(port: Optional[int] = None, deliver: Deliver = _undelivered,
          transcript: TranscriptSource = _no_transcript, resume: Resume = _no_resume,
          cleanup: Optional[Callable[[], Awaitable[None]]] = None) -> None:
    """Runs the console until interrupted, at `listen_address(port)` and on HANDOFF_DB_URL's database."""
    store = SqlTicketStore.from_url()
    app = build_app(store, StaffDirectory(store.engine), deliver, transcript, resume=resume,
                    secure_cookie=os.environ.get(SECURE_COOKIE_VARIABLE) == "1")
    if cleanup is not None:
        async def run_cleanup(_app: web.Application) -> None:
            await cleanup()

        app.on_cleanup.append(run_cleanup)  # type: ignore[arg-type]  # aiohttp 3.9 vs aiosignal 1.4, as above
    host, port = listen_address(port)
    log.info("Staff console on http://%s:%d", host, port)
    # with JSON log lines, no banner in between (the line above says where it listens)
    web.run_app(app, host=host, port=port, shutdown_timeout=5, print=None if logs.wants_json() else print)
