"""connectors/redelivery.py: a platform message is answered once, acknowledged only once handled, and released for
redelivery when something it needs is unreachable, so nothing is lost."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors.outage import guarded
from connectors.redelivery import (
    PENDING_TTL_S,
    STATE_STORE,
    Outcome,
    PlatformAPI,
    Redeliver,
    handle_once,
    pass_on,
)
from connectors.state import SQLiteStateStore
from talentbot.core.store_outages import LOCK_STORE, OutageLog, StoreUnavailable
from tests.connectors.conftest import REDIS_DOWN, FlakyStore


class ApiDown(Exception):
    """The platform's API answered 502."""


API = PlatformAPI("Example API", lambda error: isinstance(error, ApiDown))
KEY, TTL = "example:msg:1", 3600.0


@pytest.fixture
def outages() -> OutageLog:
    return OutageLog(logging.getLogger("test.redelivery"))


class Handler:
    """Counts its calls; raises the next queued error, if any."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answered"


async def deliver(store: Any, handler: Handler, outages: OutageLog, key: str = KEY) -> Outcome:
    return (await handle_once(store, key, TTL, handler, API, outages)).outcome


async def test_a_message_is_handled_once_and_its_redeliveries_are_duplicates(sqlite_store, outages):
    handler = Handler()
    once = await handle_once(sqlite_store, KEY, TTL, handler, API, outages)
    assert (once.outcome, once.value) == (Outcome.HANDLED, "answered")
    assert [await deliver(sqlite_store, handler, outages) for _ in range(3)] == [Outcome.DUPLICATE] * 3
    assert handler.calls == 1


async def test_a_message_handled_before_the_upgrade_stays_handled(sqlite_store, outages):
    await sqlite_store.claim(KEY, TTL)  # what the channels stored before: the bare claim
    assert await deliver(sqlite_store, Handler(), outages) is Outcome.DUPLICATE


async def test_while_the_state_store_is_down_messages_are_left_with_the_platform(flaky_store, outages, caplog):
    caplog.set_level(logging.INFO, logger="test.redelivery")
    handler = Handler()
    flaky_store.down = True
    outcomes = [await deliver(flaky_store, handler, outages, f"example:msg:{n}") for n in range(5)]
    assert outcomes == [Outcome.REDELIVER] * 5 and handler.calls == 0
    assert list(outages.down()) == [STATE_STORE]
    flaky_store.down = False
    outcomes = [await deliver(flaky_store, handler, outages, f"example:msg:{n}") for n in range(5)]
    assert outcomes == [Outcome.HANDLED] * 5 and handler.calls == 5  # every redelivery answered, once
    assert outages.down() == {}
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]  # one line at the start, one at the end


@pytest.mark.parametrize("error", [ApiDown("502"), REDIS_DOWN, Redeliver("refusal not sent")],
                         ids=["platform-api", "store", "refusal-not-sent"])
async def test_a_message_not_handled_for_an_outage_is_released_for_its_redelivery(sqlite_store, outages, error):
    if isinstance(error, Redeliver):
        error.__cause__ = ApiDown("502")
    handler = Handler(error)
    assert await deliver(sqlite_store, handler, outages) is Outcome.REDELIVER
    assert await deliver(sqlite_store, handler, outages) is Outcome.HANDLED
    assert await deliver(sqlite_store, handler, outages) is Outcome.DUPLICATE
    assert handler.calls == 2


async def test_a_fault_is_logged_and_acknowledged_not_redelivered_for_days(sqlite_store, outages, caplog):
    handler = Handler(KeyError("bug"))
    assert await deliver(sqlite_store, handler, outages) is Outcome.HANDLED
    assert await deliver(sqlite_store, handler, outages) is Outcome.DUPLICATE
    assert handler.calls == 1 and "acknowledged, not redelivered" in caplog.text


async def test_a_redelivery_while_the_first_is_handled_comes_back_later(sqlite_store, outages):
    started, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await finish.wait()

    first = asyncio.ensure_future(handle_once(sqlite_store, KEY, TTL, slow, API, outages))
    await started.wait()
    assert await deliver(sqlite_store, Handler(), outages) is Outcome.REDELIVER  # never answered twice
    finish.set()
    assert (await first).outcome is Outcome.HANDLED
    assert await deliver(sqlite_store, Handler(), outages) is Outcome.DUPLICATE


async def test_a_claim_stranded_by_a_state_store_failure_expires(tmp_path, outages):
    """The store fails after the claim, so the claim cannot be released: the redelivery after PENDING_TTL_S is
    handled, not dropped as a duplicate."""
    now = [1_000_000.0]
    store = FlakyStore(SQLiteStateStore(tmp_path / "state.sqlite3", clock=lambda: now[0]))
    store.fail_after = 2  # get, claim; then the handler's own call fails, and the release too

    async def uses_the_store() -> None:
        await store.put("window:x", "1")

    assert (await handle_once(store, KEY, TTL, uses_the_store, API, outages)).outcome is Outcome.REDELIVER
    store.down, store.fail_after = False, None
    assert await deliver(store, Handler(), outages) is Outcome.REDELIVER  # still claimed
    now[0] += PENDING_TTL_S + 1
    handler = Handler()
    assert await deliver(store, handler, outages) is Outcome.HANDLED and handler.calls == 1
    await store.close()


# --- pass_on: what is raised, what is swallowed -----------------------------------------------------------------


class FailingOutput(CollectingOutputChannel):
    """An output whose platform API is down."""

    async def _persist_message(self, message: Any) -> None:
        raise ApiDown("502")


async def assistant_down(message: UserMessage) -> None:
    raise StoreUnavailable(LOCK_STORE, REDIS_DOWN)


async def test_a_refusal_that_reached_the_user_is_handled(outages):
    output = CollectingOutputChannel()
    apologies: List[str] = []
    await pass_on(UserMessage("hello", output, "telegram:1"), guarded(assistant_down, outages),
                  lambda: apologies.append("sorry"))
    assert [m["text"] for m in output.messages] == [
        "Sorry, we are having a technical problem and could not take your message. Please send it again in a minute."]
    assert apologies == []


async def test_a_refusal_that_could_not_be_sent_asks_for_redelivery(outages):
    with pytest.raises(Redeliver) as raised:
        await pass_on(UserMessage("hello", FailingOutput(), "telegram:1"), guarded(assistant_down, outages),
                      lambda: asyncio.sleep(0))
    assert isinstance(raised.value.__cause__, ApiDown)


async def test_a_failure_after_rasa_took_the_message_gets_an_apology_not_a_redelivery(outages):
    async def answers(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "an answer")

    apologies: List[str] = []

    async def apologise() -> None:
        apologies.append("sorry")

    # the turn is stored, then its answer cannot be sent: a redelivery would store it twice
    await pass_on(UserMessage("hello", FailingOutput(), "telegram:1"), guarded(answers, outages), apologise)
    # a fault in the assistant
    async def bug(message: UserMessage) -> None:
        raise KeyError("bug")

    await pass_on(UserMessage("hello", CollectingOutputChannel(), "telegram:1"), guarded(bug, outages), apologise)
    assert apologies == ["sorry", "sorry"]
