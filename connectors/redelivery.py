"""Platform webhooks (Telegram, WhatsApp, WeChat): each message answered once, and none lost.

The platforms deliver a message again when the webhook does not answer 2xx: Telegram repeats the request and
"gives up after a reasonable amount of attempts" (undelivered updates are kept 24 hours); Meta keeps trying "with
decreasing frequency" for up to 7 days; WeChat retries three times within about 15 s, then shows the user
"该公众号暂时无法提供服务，请稍后再试". So:

- A message is answered once: its id is claimed in the connectors' state store before it is handled, and a
  delivery of a message already handled is acknowledged without an answer.
- A message is acknowledged (2xx) only once it was handled: answered, answered with one of the channel's own notes
  (too long, unsupported, welcome), or refused politely because a store Rasa needs is down (connectors/outage.py:
  the user was told to send it again, in their language, straight away).
- When it could not be handled (the connectors' state store is unreachable, so it cannot be claimed; the platform's
  API did not take our note or the outage refusal), its claim is released and the webhook answers 503: the platform
  keeps the message and delivers it again, and the redelivery is handled like a first delivery. Nothing of such a
  message was stored, so the tracker store still gets it exactly once.
- Once Rasa has taken a message, a failure is acknowledged, never redelivered: the turn may already be stored (its
  answer failed to go out), and a redelivery would store it twice, or meet the same fault again for days.

Two keys per message: ``<key>`` says "handled" (kept for the platform's redelivery horizon; the key the channels
always claimed, so messages handled before an upgrade stay handled), and ``<key>:pending`` is held while a request
handles it. A pending claim lasts `PENDING_TTL_S`, so when the state store fails mid-way and the claim cannot be
released, a redelivery after that time is handled rather than dropped as a duplicate.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from enum import Enum
from typing import Awaitable, Callable, Generic, Optional, TypeVar

from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.response import HTTPResponse

from connectors.outage import RETRY_AFTER_S, UNREPORTED_STORES, OnNewMessage, open_refusal_note
from connectors.state import StateStore
from talentbot.core.observability.logs import pseudonym
from talentbot.core.store_outages import OUTAGES, OutageLog, StoreUnavailable, reporting, store_outage

logger = logging.getLogger(__name__)

T = TypeVar("T")

STATE_STORE = "connectors' state store"
"""The state store's name in the outage log (connectors/state.py: Redis in production, SQLite embedded)."""

PENDING_TTL_S = 120.0
"""How long a message is held by the request handling it: longer than any handling (a Rasa turn with its store
time-outs and a few platform API calls), so a concurrent redelivery is told to come back later, never answered
twice; short enough that a claim stranded by a state-store failure frees the message within minutes."""

HANDLED = "handled"


class Redeliver(Exception):
    """The message was not handled and nothing of it was stored: the platform must deliver it again."""


class Outcome(Enum):
    """What the webhook tells the platform about one message."""

    HANDLED = "handled"  # answered, noted or refused: 2xx
    DUPLICATE = "duplicate"  # handled before: 2xx, no answer
    REDELIVER = "redeliver"  # not handled: 503, the platform delivers it again


@dataclass(frozen=True)
class Once(Generic[T]):
    """A message's outcome and, when it was handled now, what handling it returned (WeChat's passive reply)."""

    outcome: Outcome
    value: Optional[T] = None


REDELIVER_REASON = "the message could not be handled now: deliver it again later"


def please_redeliver(as_json: bool = True) -> HTTPResponse:
    """The answer to a message that was not handled: 503 with ``Retry-After`` (as the REST channel's outage
    refusal), so the platform keeps it and delivers it again."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if as_json:
        return response.json({"error": REDELIVER_REASON}, status=503, headers=headers)
    return response.text(REDELIVER_REASON, status=503, headers=headers)


def pending_key(key: str) -> str:
    return f"{key}:pending"


async def _claim(state: StateStore, key: str) -> Optional[bool]:
    """True: this request handles the message. False: it was handled before. None: another request holds it."""
    if await state.get(key) is not None:
        return False
    if await state.claim(pending_key(key), PENDING_TTL_S):
        return True
    return False if await state.get(key) is not None else None


@dataclass(frozen=True)
class PlatformAPI:
    """A platform's API as this module needs to know it: its name in the outage log, and which of its errors mean
    "not now" (down, slow, rate-limiting: a later try may succeed) rather than a refusal a retry would meet again."""

    name: str
    transient: Callable[[BaseException], bool]


def unavailable(error: BaseException, api: PlatformAPI) -> Optional[tuple[str, BaseException]]:
    """What could not be reached when `error` stopped a message (the platform's API or a store) and why, or None
    when `error` is a fault a redelivery would meet again."""
    cause = error.__cause__ if isinstance(error, Redeliver) and error.__cause__ is not None else error
    if api.transient(cause):
        return api.name, cause
    outage = store_outage(cause)
    if outage is not None:
        # Rasa's stores report their own outages (and `guarded` turns them into refusals); a bare Redis or database
        # error out here came from the state store, the only other store a channel uses.
        return (STATE_STORE if outage.store in UNREPORTED_STORES else outage.store), outage.cause
    if isinstance(cause, sqlite3.OperationalError):  # the embedded state store: locked too long, disk failing
        return STATE_STORE, cause
    return None


async def handle_once(
    state: StateStore,
    key: str,
    ttl_s: float,
    handle: Callable[[], Awaitable[T]],
    api: PlatformAPI,
    outages: OutageLog = OUTAGES,
) -> Once[T]:
    """Handles the message claimed under `key` unless it was handled before (`ttl_s`: how long that is remembered).

    A message that could not be handled for something unreachable is released for redelivery, and that outage is
    logged once (not once per message); any other failure is logged and acknowledged.
    """
    try:
        with reporting(STATE_STORE, outages):
            first = await _claim(state, key)
    except Exception as error:  # without a claim the message cannot be answered once: the platform keeps it
        if not isinstance(error, StoreUnavailable):
            logger.exception("Claiming message %s failed: to be delivered again", key)
        return Once(Outcome.REDELIVER)
    if first is False:
        return Once(Outcome.DUPLICATE)
    if first is None:
        logger.info("Message %s is being handled by another request: to be delivered again", key)
        return Once(Outcome.REDELIVER)
    try:
        value = await handle()
    except Exception as error:
        down = unavailable(error, api)
        if down is None:
            logger.exception("Handling message %s failed; acknowledged, not redelivered", key)
            await _settle(state, key, ttl_s, outages)
            return Once(Outcome.HANDLED)
        what, cause = down
        outages.failed(what, cause)  # one error line per outage
        logger.debug("Message %s not handled (%s unreachable): released for redelivery", key, what)
        await _release(state, key, outages)
        return Once(Outcome.REDELIVER)
    outages.succeeded(api.name)
    await _settle(state, key, ttl_s, outages)
    return Once(Outcome.HANDLED, value)


async def _settle(state: StateStore, key: str, ttl_s: float, outages: OutageLog) -> None:
    """Marks the message handled. Should the state store fail here, the message is still handled (and answered
    2xx): only a redelivery after `PENDING_TTL_S`, which platforms do not make for an acknowledged message, could
    be answered again."""
    try:
        with reporting(STATE_STORE, outages):
            await state.put(key, HANDLED, ttl_s)
            await state.delete(pending_key(key))
    except Exception as error:
        if not isinstance(error, StoreUnavailable):
            logger.warning("Message %s handled, but could not be marked so: %s", key, error)


async def _release(state: StateStore, key: str, outages: OutageLog) -> None:
    """Frees the message for its redelivery; when the state store is down too, its claim expires instead."""
    try:
        with reporting(STATE_STORE, outages):
            await state.delete(pending_key(key))
    except Exception as error:
        if not isinstance(error, StoreUnavailable):
            logger.warning("Message %s could not be released (its claim expires instead): %s", key, error)


async def pass_on(message: UserMessage, on_new_message: OnNewMessage, apologise: Callable[[], Awaitable[None]]) -> None:
    """Gives a message to the assistant (`on_new_message`: behind the handoff gate and the outage guard).

    Raises `Redeliver` when the message was refused for an outage and the refusal could not be sent: the user
    heard nothing and nothing of it was stored. Any other failure comes after Rasa took the message (its turn may
    be stored) or is a fault: it is logged, and the user is told something went wrong if the platform takes it.
    """
    note = open_refusal_note()
    try:
        await on_new_message(message)
    except Exception as error:
        if note.refused:
            raise Redeliver(f"the refusal ({', '.join(note.refused)} down) could not be sent") from error
        logger.exception("The assistant failed on a %s message of %s", message.input_channel,
                         pseudonym(message.sender_id))
        try:
            await apologise()
        except Exception as apology_error:
            logger.warning("The apology to %s could not be sent either: %s", pseudonym(message.sender_id),
                           apology_error)
