"""A PostgreSQL (tracker store) outage while users write through Telegram, for real: nothing lost, nothing doubled.

The production set-up (two Sanic workers, PostgreSQL and Redis of the test's own: tests/e2e/conftest.py) runs
with the Telegram channel pointed at a local fake Bot API (tests.conftest's `FakePlatform`, in a thread of its own,
answering from tests/connectors/fixtures/telegram/). The test plays Telegram and the users: several chats send
updates to the webhook before, during and after PostgreSQL is stopped for a few seconds.

- Telegram: an update answered with anything but 2xx (or not answered) is delivered again a moment later with the
  same update_id, until it gets a 2xx; one chat's updates are also delivered a second time after their 2xx, as
  Telegram does when our answer is lost, and must be acknowledged without a second answer.
- The users: a user told "we could not take your message, please send it again" sends the same text again, as a new
  update.
- The Bot API: refusals to one chat fail every other time (502), so those updates meet connectors/redelivery.py's
  503 and come back through Telegram's redelivery.

Then every update has been answered exactly once (the fake's sendMessage log: one delivery of it got the answer or
the polite refusal, no other delivery got anything), and the tracker store holds every user message exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qsl

import httpx
import pytest
from aiohttp import web

from connectors.outage import RETRY_AFTER_S
from connectors.telegram.client import WEBHOOK_PATH
from connectors.texts import load_texts
from tests.conftest import FakePlatform, Recorded, serving_in_a_thread, telegram_method
from tests.e2e.conftest import LANGUAGE_OF_TURN, Stack, outage_lines, production_stack, unique_turns

pytestmark = pytest.mark.server

TOKEN, SECRET = "7000001:AAoutage", "outage-webhook-s3cret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures" / "telegram"
"""The fake Bot API's answers (getMe, sendMessage), those of the Telegram channel's own tests."""

CHATS = {910001: "en", 910002: "zh-hant", 910003: "zh-hans", 910004: "en", 910005: "zh-hk"}
"""The users' private chats and their Telegram interface languages."""
FLAKY_CHAT = 910002
"""The chat whose outage refusals the Bot API fails every other time (502): its updates meet the 503."""
REPEATED_CHAT = 910004
"""The chat whose every update Telegram delivers once more after its 2xx."""

BEFORE_S = 3.0
"""Normal traffic before PostgreSQL stops."""
OUTAGE_S = 6.0
"""How long PostgreSQL stays down."""
AFTER_S = 4.0
"""New messages after PostgreSQL is back; then the users only finish what they started."""
DRAIN_S = 20.0
"""How long after PostgreSQL is back updates may still be delivered (Telegram) or resent (users)."""
REDELIVERY_S = 1.0
"""Telegram's wait before delivering a refused update again (its real back-off is longer; the behaviour is the same)."""
RESEND_S = 0.5
"""A user's wait before sending a refused message again."""

BAD_GATEWAY = {"ok": False, "error_code": 502, "description": "Bad Gateway"}


@dataclass
class BotAPI(FakePlatform):
    """The fake Bot API with a sendMessage log per chat (text, taken?), failing every other outage refusal sent to
    `flaky_chat`."""

    flaky_chat: str = ""
    refusals: Tuple[str, ...] = ()
    sent: Dict[str, List[Tuple[str, bool]]] = field(default_factory=lambda: defaultdict(list))
    _refusals_to_flaky: int = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if self.name_of(request.path) != "sendMessage":
            return await super()._handle(request)
        body = await request.read()
        form = dict(parse_qsl(body.decode("utf-8")))
        chat, text = form.get("chat_id", ""), form.get("text", "")
        if chat == self.flaky_chat and text in self.refusals:
            self._refusals_to_flaky += 1
            if self._refusals_to_flaky % 2 == 1:
                self.requests.append(Recorded(request.method, request.path, dict(request.query),
                                              dict(request.headers), body))
                self.sent[chat].append((text, False))
                return web.json_response(BAD_GATEWAY, status=502)
        self.sent[chat].append((text, True))
        return await super()._handle(request)

    def sends_to(self, chat: int) -> List[Tuple[str, bool]]:
        return list(self.sent[str(chat)])


@pytest.fixture(scope="module")
def telegram(tmp_path_factory) -> Iterator[Tuple[Stack, BotAPI]]:
    """The production set-up with the Telegram channel on, pointed at the fake Bot API."""
    refusals = tuple(load_texts().texts["store_outage"].values())
    api = BotAPI(FIXTURES, telegram_method, flaky_chat=str(FLAKY_CHAT), refusals=refusals)
    with serving_in_a_thread(api):
        env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_API_BASE_URL": api.url}
        with production_stack(tmp_path_factory, "platform-outage", env) as stack:
            yield stack, api


@dataclass
class Delivery:
    """One POST of an update to the webhook, and what it brought."""

    at: float  # monotonic
    status: Optional[int] = None  # None: no HTTP answer (timeout, connection error)
    body: Any = None
    retry_after: Optional[str] = None
    error: str = ""
    sends: List[Tuple[str, bool]] = field(default_factory=list)  # sendMessage calls to the chat meanwhile: (text, ok)

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def taken(self) -> List[str]:
        """What reached the user: the messages the Bot API took."""
        return [text for text, taken in self.sends if taken]


@dataclass
class Update:
    """One Telegram update (one update_id) and each of its deliveries."""

    update_id: int
    deliveries: List[Delivery] = field(default_factory=list)

    def acknowledged(self) -> bool:
        return any(d.acknowledged for d in self.deliveries)

    def answer(self) -> List[str]:
        """What reached the user for this update, whichever delivery brought it."""
        return [text for d in self.deliveries for text in d.taken]


@dataclass
class Message:
    """What a user wrote once, and the updates it took (a refused message is sent again as a new update)."""

    chat: int
    text: str  # unique: the turn plus a tag
    turn: str
    sent_at: float  # monotonic
    updates: List[Update] = field(default_factory=list)

    @property
    def refusal(self) -> str:
        return load_texts().texts["store_outage"][LANGUAGE_OF_TURN[self.turn]]


@dataclass
class Run:
    """Every message of the run, and when PostgreSQL stopped and was back (monotonic)."""

    messages: List[Message] = field(default_factory=list)
    down_at: float = 0.0
    up_at: float = 0.0

    def deadline(self) -> float:
        return self.up_at + DRAIN_S if self.up_at else float("inf")

    def updates(self) -> List[Tuple[Message, Update]]:
        return [(m, u) for m in self.messages for u in m.updates]


UPDATE_IDS = itertools.count(1)
"""Telegram numbers a bot's updates in sequence; a redelivery keeps its number."""


def telegram_update(update_id: int, chat: int, text: str) -> Dict[str, Any]:
    """A private chat's text message as Telegram posts it to the webhook."""
    user = {"id": chat, "is_bot": False, "first_name": "User", "language_code": CHATS[chat]}
    chat_of = {"id": chat, "type": "private", "first_name": "User"}
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat_of, "from": user, "text": text}
    return {"update_id": update_id, "message": message}


async def post(client: httpx.AsyncClient, url: str, api: BotAPI, chat: int, body: Dict[str, Any]) -> Delivery:
    """One delivery; the chat's sendMessage calls meanwhile are its answer (a chat has one update in flight)."""
    before = len(api.sends_to(chat))
    delivery = Delivery(time.monotonic())
    try:
        reply = await client.post(url, json=body, headers=HEADERS)
        delivery.status, delivery.retry_after = reply.status_code, reply.headers.get("Retry-After")
        delivery.body = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else None
    except httpx.HTTPError as error:
        delivery.error = f"{type(error).__name__}: {error}"
    delivery.sends = api.sends_to(chat)[before:]
    return delivery


async def deliver(client: httpx.AsyncClient, url: str, api: BotAPI, chat: int, update: Update, text: str,
                  run: Run) -> None:
    """Telegram's side: the update is delivered until the webhook answers 2xx, `REDELIVERY_S` apart."""
    body = telegram_update(update.update_id, chat, text)
    while True:
        update.deliveries.append(await post(client, url, api, chat, body))
        if update.deliveries[-1].acknowledged or time.monotonic() > run.deadline():
            return
        await asyncio.sleep(REDELIVERY_S)


async def converse(client: httpx.AsyncClient, url: str, api: BotAPI, chat: int, tag: str, run: Run,
                   stop: asyncio.Event) -> None:
    """One user writing turn after turn until `stop`, each text unique (`unique_turns`); a message refused for the
    outage is sent again as a new update."""
    for turn, text in unique_turns(tag):
        if stop.is_set():
            return
        message = Message(chat, text, turn, time.monotonic())
        run.messages.append(message)
        while True:
            update = Update(next(UPDATE_IDS))
            message.updates.append(update)
            await deliver(client, url, api, chat, update, message.text, run)
            if chat == REPEATED_CHAT and update.acknowledged():  # our 2xx "lost": Telegram delivers it again
                update.deliveries.append(await post(client, url, api, chat,
                                                    telegram_update(update.update_id, chat, message.text)))
            if update.answer() != [message.refusal] or time.monotonic() > run.deadline():
                break
            await asyncio.sleep(RESEND_S)  # "please send it again in a minute": the user does (sooner)
        await asyncio.sleep(0.05)


async def traffic(stack: Stack, api: BotAPI) -> Run:
    """The users write before, during and after the outage; PostgreSQL stops and starts in a thread meanwhile."""
    run = Run()
    stop = asyncio.Event()
    run_id = str(uuid.uuid4().int)[:6]
    url = stack.url + WEBHOOK_PATH
    async with httpx.AsyncClient(timeout=30) as client:
        users = [asyncio.create_task(converse(client, url, api, chat, f"{run_id}{n}", run, stop))
                 for n, chat in enumerate(CHATS)]
        await asyncio.sleep(BEFORE_S)
        run.down_at = time.monotonic()
        await asyncio.to_thread(stack.postgres.stop)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(stack.postgres.start)
        run.up_at = time.monotonic()
        await asyncio.sleep(AFTER_S)
        stop.set()
        await asyncio.gather(*users)
    await asyncio.sleep(0.5)  # a late sendMessage (after its webhook answered) would show in the final check
    return run


RECOVERY_S = 5.0
"""Answers resume this soon after PostgreSQL is back (the REST channel's measure: 0.5-2.5 s on a quiet machine;
more while CI runs everything else on two cores)."""
IN_FLIGHT_S = 2.0
"""An update whose turn was under way when PostgreSQL stopped may be refused though its delivery began just before."""


def counted(run: Run, stored: Counter) -> Dict[str, Any]:
    pairs = run.updates()
    deliveries = [d for _, u in pairs for d in u.deliveries]
    answered_after_recovery = [d.at for m, u in pairs for d in u.deliveries
                               if d.at > run.up_at and d.taken and u.answer() != [m.refusal]]
    senders = {f"telegram:{chat}" for chat in CHATS}
    return {
        "messages": len(run.messages), "updates": len(pairs), "deliveries": len(deliveries),
        "answered": sum(1 for m, u in pairs if u.answer() != [m.refusal]),
        "refused_politely": sum(1 for m, u in pairs if u.answer() == [m.refusal]),
        "deliveries_503": sum(1 for d in deliveries if d.status == 503),
        "duplicate_deliveries": sum(1 for d in deliveries if d.body == {"status": "duplicate"}),
        "stored": sum(count for (sender, _), count in stored.items() if sender in senders),
        "first_answer_after_recovery_s": round(min(answered_after_recovery, default=float("nan")) - run.up_at, 2),
    }


def check_update(message: Message, update: Update) -> None:
    """Answered exactly once: by one delivery (the answer, or the polite refusal alone); the deliveries before it
    answered 503 and got nothing to the user; those after it are duplicates, acknowledged without an answer."""
    where = f"update {update.update_id} ({message.text!r}): {update.deliveries}"
    first = next((n for n, d in enumerate(update.deliveries) if d.acknowledged), None)
    assert first is not None, f"never acknowledged: {where}"
    before, answering, after = update.deliveries[:first], update.deliveries[first], update.deliveries[first + 1:]
    # a 503 only when the refusal could not be sent (the fake's 502): the user heard nothing of that delivery
    assert all(d.status == 503 and d.retry_after == str(RETRY_AFTER_S) for d in before), where
    assert all(d.sends == [(message.refusal, False)] for d in before), where
    assert answering.body == {"status": "ok"}, where
    assert answering.taken and all(ok for _, ok in answering.sends), where
    assert answering.taken == [message.refusal] or message.refusal not in answering.taken, where
    assert all(d.acknowledged and d.body == {"status": "duplicate"} and d.sends == [] for d in after), where


def test_a_postgresql_outage_under_telegram_traffic_loses_nothing_and_answers_once(telegram) -> None:
    stack, api = telegram
    run = asyncio.run(traffic(stack, api))
    stored = stack.stored_user_messages()
    counts = counted(run, stored)
    print(f"\nPostgreSQL outage of {OUTAGE_S:.0f} s under Telegram traffic: {counts}")
    pairs = run.updates()

    # Telegram only ever hears 2xx or "deliver it again later" (503 with Retry-After), never a fault or a time-out
    assert [(u.update_id, d.status, d.body, d.error) for _, u in pairs for d in u.deliveries
            if d.status not in (200, 503)] == []
    for message, update in pairs:
        check_update(message, update)
    # every message answered in the end: each refused update was sent again, and its last update answered
    for message in run.messages:
        *earlier, last = message.updates
        assert all(u.answer() == [message.refusal] for u in earlier), message.updates
        assert last.answer() != [message.refusal], f"{message.text!r} still refused at the end"
    # nothing reached a user that no delivery accounts for (a late or stray sendMessage)
    for chat in CHATS:
        assert len(api.sends_to(chat)) == sum(len(d.sends) for m, u in pairs if m.chat == chat for d in u.deliveries)

    # the tracker store holds every message exactly once, and nothing else of these users
    assert {m.text: stored[(f"telegram:{m.chat}", m.text)] for m in run.messages} == {m.text: 1 for m in run.messages}
    assert counts["stored"] == len(run.messages)

    # the outage was met, and both its paths taken: refused politely; the refusal not sent, so redelivered
    assert counts["refused_politely"] > 0, "no update met the outage"
    assert counts["deliveries_503"] > 0
    assert {m.chat for m, u in pairs if any(d.status == 503 for d in u.deliveries)} == {FLAKY_CHAT}
    refused_outside = [(round(d.at - run.down_at, 2), round(d.at - run.up_at, 2))
                       for m, u in pairs if u.answer() == [m.refusal] for d in u.deliveries if d.taken
                       if not run.down_at - IN_FLIGHT_S <= d.at <= run.up_at + RECOVERY_S]
    assert refused_outside == [], "refused outside the outage: (s after it began, s after it ended)"
    # recovered without a restart: every user answered again
    assert {m.chat for m, u in pairs if u.answer() != [m.refusal] and u.deliveries[0].at > run.up_at} == set(CHATS)

    log = stack.rasa_log()
    lines = outage_lines(log, "tracker store")
    assert 1 <= len(lines) <= 2, lines  # once per outage in each Sanic worker that met it
    assert all("OperationalError" in line for line in lines), lines
    assert "The tracker store answers again after" in log
    assert "InMemoryTrackerStore" not in log  # Rasa's silent fallback never happened
    assert "acknowledged, not redelivered" not in log  # no update taken and then failed (lost, or stored unanswered)
    assert "The assistant failed on a" not in log
