"""The review queue in the staff console: what the assistant did not understand, grouped, for supervisors to decide.

Routes (supervisors only, as the queue page's figures: `auth.may_view_stats`):

- `GET /review`: the page (no session: the log-in page; staff who are not supervisors: a 403 page);
- `GET /api/review`: the open groups, largest first (talentbot.core.analytics.review: which messages are misses,
  how a decision covers them), each with its counts per language, example texts (masked), the assistant's best
  guesses and, when the same question came back after a decision, that decision;
- `GET /api/review/targets`: what a group can be a paraphrase of: the domain's intents and the bank's entries;
- `GET /api/review/decisions`: the decisions in force, newest first, with a few of their texts;
- `POST /api/review/decisions` `{"group_id", "members": [row ids as shown], "status": "paraphrase" | "content_gap" |
  "dismissed", "target": {"kind": "intent" | "entry", "id"}, "note", "excluded": [row ids]}`: decides on exactly those
  messages (201; 409 when some were decided meanwhile, or are gone);
- `POST /api/review/decisions/{id}/withdraw`: sends a decision's messages back to the queue.

POSTs need the session's CSRF token, as the rest of the API. Grouping a few thousand messages takes seconds, so the
groups are computed in a worker thread and kept until the queue's input changes (`ReviewStore.version`). The
analytics tables are ANALYTICS_DB_URL's database when that is set, else the queue's own (the default: one database).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from aiohttp import web
from sqlalchemy.engine import Engine

from talentbot.console.api_input import JsonObject, Refusal
from talentbot.console.web import CONSOLE, PAGES, Console, Handler, _session, _with_body, api, error, parse_id, refused
from talentbot.core.analytics import db
from talentbot.core.analytics.grouping import Group
from talentbot.core.analytics.review import (
    PARAPHRASE,
    STATUSES,
    TARGET_KINDS,
    AlreadyDecided,
    NotFound,
    Queue,
    QueueGroup,
    ReviewError,
    ReviewStore,
    Target,
    domain_intents,
    targets,
)
from talentbot.core.handoff import auth
from talentbot.core.handoff.accounts import Session
from talentbot.core.inbound import clean_text, json_kind
from talentbot.core.qbank.loader import read_bank

FORBIDDEN_PAGE = "forbidden.html"
NOT_FOR_YOU = "the review queue is for supervisors"
EXAMPLES_SHOWN = 12
"""Texts shown per group (all member ids are sent: a decision covers every member, not only those shown)."""
DECISION_EXAMPLES = 3


@dataclass
class ReviewState:
    """The store, and the last queue computed with the input version it was computed for."""

    store: Optional[ReviewStore]
    owned: bool = False
    migrate: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)
    cached: Optional[Tuple[Tuple[Any, ...], Queue]] = None
    targets: Optional[List[Target]] = None

    def ready(self) -> ReviewStore:
        """The store, its tables created first (Alembic, as the events consumer does) the first time it answers:
        the console starts, and serves its other pages, while the database is away."""
        assert self.store is not None
        if self.migrate:
            with self.lock:
                if self.migrate:
                    db.upgrade(self.store.engine)
                    self.migrate = False
        return self.store

    def queue(self) -> Queue:
        store = self.ready()
        version = store.version()
        with self.lock:  # one computation at a time; the others wait for it and reuse it
            if self.cached is None or self.cached[0] != version:
                self.cached = (version, store.queue())
            return self.cached[1]

    def known_targets(self) -> List[Target]:
        if self.targets is None:
            bank, _problems = read_bank()
            self.targets = targets(domain_intents(), bank.entries)
        return self.targets


REVIEW = web.AppKey("review", ReviewState)


def add_review(app: web.Application, analytics_url: Optional[str] = None, migrate: bool = True) -> None:
    """Adds the routes to the console application `app` (web.build_app calls this)."""
    handoff: Optional[Engine] = getattr(app[CONSOLE].store, "engine", None)
    url = analytics_url or os.environ.get(db.URL_VARIABLE)
    state = ReviewState(ReviewStore(handoff) if handoff is not None else None, migrate=migrate)
    if url:
        state = ReviewState(ReviewStore(db.make_engine(db.database_url({db.URL_VARIABLE: url}))), owned=True,
                            migrate=migrate)

        async def dispose(_app: web.Application) -> None:
            if state.store is not None:
                state.store.close()

        app.on_cleanup.append(dispose)  # type: ignore[arg-type]  # aiohttp 3.9 vs aiosignal 1.4, as in web.py
    app[REVIEW] = state
    app.add_routes([
        web.get("/review", supervisors_page("review.html")),
        web.get("/api/review", api(queue)),
        web.get("/api/review/targets", api(target_list)),
        web.get("/api/review/decisions", api(decision_list)),
        web.post("/api/review/decisions", api(_with_body(decide), state_changing=True)),
        web.post("/api/review/decisions/{decision_id}/withdraw", api(withdraw, state_changing=True)),
    ])


def supervisors_page(name: str) -> Handler:
    """A page for supervisors: without a session, the log-in page; a session of another role, a 403 page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        session = await _session(request, request.app[CONSOLE])
        if session is None:
            raise web.HTTPFound("/login")
        if not auth.may_view_stats(session.role):
            if not (PAGES / FORBIDDEN_PAGE).exists():
                return web.Response(status=403, text=NOT_FOR_YOU)
            return web.FileResponse(PAGES / FORBIDDEN_PAGE, status=403,
                                    headers={"Content-Type": "text/html; charset=utf-8"})
        return web.FileResponse(PAGES / name, headers={"Content-Type": "text/html; charset=utf-8"})

    return handler


def _allowed(request: web.Request, session: Session) -> Union[ReviewState, web.Response]:
    if not auth.may_view_stats(session.role):
        return error(403, NOT_FOR_YOU)
    state = request.app[REVIEW]
    if state.store is None:
        return error(503, "the console has no database to read the review queue from")
    return state


# --- reading -----------------------------------------------------------------------------------------------------


def group_json(item: QueueGroup, labels: Dict[str, str]) -> Dict[str, Any]:
    group: Group = item.group
    return {
        "id": group.id, "signature": group.signature, "size": group.size, "representative": group.representative,
        "languages": dict(group.languages), "reasons": dict(item.reasons), "cohesion": group.cohesion,
        "members": list(group.keys),
        "examples": [{"key": m.key, "text": m.text, "language": m.language} for m in group.members[:EXAMPLES_SHOWN]],
        "guesses": [{"kind": g.kind, "id": g.id, "score": g.score, "members": g.members,
                     "label": labels.get(g.id, "")} for g in group.guesses],
        "earlier": item.earlier.json() if item.earlier is not None else None,
    }


def _labels(state: ReviewState) -> Dict[str, str]:
    return {t.id: t.labels.get("en", "") for t in state.known_targets() if t.kind == "entry"}


async def queue(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    state = _allowed(request, session)
    if isinstance(state, web.Response):
        return state
    found = await console.run(state.queue)
    labels = await console.run(_labels, state)
    return web.json_response({"groups": [group_json(g, labels) for g in found.groups], "misses": found.misses,
                              "decided": found.decided})


async def target_list(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    state = _allowed(request, session)
    if isinstance(state, web.Response):
        return state
    found = await console.run(state.known_targets)
    return web.json_response([t.json() for t in found])


async def decision_list(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    state = _allowed(request, session)
    if isinstance(state, web.Response):
        return state
    store = await console.run(state.ready)
    found = await console.run(store.decisions)
    examples = await console.run(store.examples, [d.id for d in found])
    return web.json_response([{**d.json(), "examples": [{"key": e.key, "text": e.text, "language": e.language,
                                                          "accepted": e.accepted}
                                                         for e in examples[d.id] if e.text][:DECISION_EXAMPLES]}
                              for d in found])


# --- deciding ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRequest:
    group_id: str
    members: List[int]
    status: str
    target_kind: Optional[str]
    target_id: Optional[str]
    note: Optional[str]
    excluded: List[int]


def _ids(body: JsonObject, key: str, required: bool) -> Union[List[int], Refusal]:
    value = body.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        return Refusal(400, f"{key} must be a list of message ids")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value):
        return Refusal(400, f"{key} must hold message ids (positive whole numbers)")
    return [int(v) for v in value]


def decision_request(body: JsonObject, known: List[Target]) -> Union[DecisionRequest, Refusal]:
    """What a decision's body must hold, checked before the store sees it."""
    group_id = body.get("group_id")
    if not isinstance(group_id, str) or not 1 <= len(group_id) <= 16 or not group_id.isascii():
        return Refusal(400, "group_id must be the group's id as the queue gave it")
    status = body.get("status")
    if status not in STATUSES:
        return Refusal(400, f"status must be one of {', '.join(STATUSES)}")
    members = _ids(body, "members", required=True)
    if isinstance(members, Refusal):
        return members
    excluded = _ids(body, "excluded", required=False)
    if isinstance(excluded, Refusal):
        return excluded
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        return Refusal(400, f"note must be a string, not {json_kind(note)}")
    note = clean_text(note).strip() if isinstance(note, str) else None
    kind = target_id = None
    if status == PARAPHRASE:
        target = body.get("target")
        if not isinstance(target, dict) or target.get("kind") not in TARGET_KINDS \
                or not isinstance(target.get("id"), str):
            return Refusal(400, 'a paraphrase needs "target": {"kind": "intent" or "entry", "id": ...}')
        kind, target_id = str(target["kind"]), str(target["id"])
        if not any(t.kind == kind and t.id == target_id for t in known):
            return Refusal(400, f"no {kind} {target_id[:80]!r}: pick one of /api/review/targets")
    return DecisionRequest(group_id, members, str(status), kind, target_id, note or None, excluded)


async def decide(request: web.Request, console: Console, session: Session, body: JsonObject) -> web.StreamResponse:
    state = _allowed(request, session)
    if isinstance(state, web.Response):
        return state
    store = await console.run(state.ready)
    known = await console.run(state.known_targets)
    asked = decision_request(body, known)
    if isinstance(asked, Refusal):
        return refused(asked)
    try:
        made = await console.run(store.decide, asked.group_id, asked.members, asked.status, session.username,
                                 console.clock(), asked.target_kind, asked.target_id, asked.note, asked.excluded)
    except (AlreadyDecided, NotFound) as problem:
        return error(409, str(problem))
    except ReviewError as problem:
        return error(400, str(problem))
    return web.json_response(made.json(), status=201)


async def withdraw(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    state = _allowed(request, session)
    if isinstance(state, web.Response):
        return state
    store = await console.run(state.ready)
    decision_id = parse_id(request.match_info["decision_id"])
    if decision_id is None:
        return error(404, f"no decision {request.match_info['decision_id'][:40]!r}")
    try:
        done = await console.run(store.withdraw, decision_id, session.username, console.clock())
    except NotFound as problem:
        return error(404, str(problem))
    except ReviewError as problem:
        return error(409, str(problem))
    return web.json_response(done.json())
