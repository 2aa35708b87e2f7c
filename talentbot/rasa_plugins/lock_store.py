"""Rasa's Redis lock store, with a clear answer when Redis is down: the message is refused, not dropped unanswered.

Configured in `bot/endpoints.production.yml` as ``type: talentbot.rasa_plugins.lock_store.RedisLockStore`` with the
settings of
Rasa's ``type: redis`` (url, port, db, key_prefix...); the keys and locks are Rasa's, so replicas running either
store share them.

Why: upstream, a conversation's lock is taken before the message is handled (`Agent.handle_message`), and when
Redis cannot be reached Rasa raises a `LockError` that the REST channel turns into ``200 []``: in issue 12, all
172 messages sent during a 22 s Redis outage were "answered" with nothing and never recorded. Here:

- failing to take the lock raises `StoreUnavailable` (nothing has run, nothing is stored), and the outage is
  logged once (talentbot.core.store_outages);
- failing to release it after the message was handled and stored is logged, not raised: the answer is sent. The
  ticket left behind (if Redis kept it) expires after its lifetime (Rasa's TICKET_LOCK_LIFETIME, 60 s), so the
  conversation's next message waits at most that long.
- a message whose own ticket expires while it waits (it waited a whole lifetime, e.g. behind the ticket of a
  message whose process or host died) takes a new ticket and waits on. Upstream its ticket is dropped with the dead
  one in the same clean-up when both expire within one polling interval (1 s), and it then waits for a ticket that
  no longer exists, forever: the user's message is never answered (found by tests/scale/test_multihost.py, where
  a user sends again at once the message that died with its host).

Rasa's Redis client retries nothing: the first message after Redis is back is served normally.

That client is synchronous: while it waits for Redis, the Rasa process's event loop waits with it, and every
conversation of that process stands still. Rasa lets it wait 10 s for a connection and 10 s for each answer, so a
Redis host that does not answer at all (a network cut or a dropped route, not a refused port) froze the process
for 10 s per message. Here the waits are short (`SOCKET_TIMEOUT_S`, `CONNECT_TIMEOUT_S`; ``socket_timeout`` and
``socket_connect_timeout`` in the endpoint's settings), so the message is refused within about a second instead.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

from talentbot.core.observability.logs import pseudonym
from talentbot.core.store_outages import LOCK_STORE, OUTAGES, OutageLog, connection_failure, reporting

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_S = 1.0
"""Longest wait for Redis's answer to one command. A lock command takes well under a millisecond on a working Redis;
a second allows for a slow disk save or fail-over, while an unreachable Redis stops a process's conversations for
no longer than this."""

CONNECT_TIMEOUT_S = 1.0
"""Longest wait for a connection to Redis (a new connection after a failure, or for a new worker)."""


def seconds(value: object, name: str) -> float:
    """A timeout setting as seconds (the endpoint file may give a string, from an environment variable)."""
    try:
        timeout = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"lock store setting {name} must be a number of seconds, not {value!r}") from None
    if not timeout > 0:
        raise ValueError(f"lock store setting {name} must be more than 0 seconds, not {value!r}")
    return timeout


class TicketExpired(LockError):
    """A waiting message's ticket expired before its turn came: it takes a new one (`RedisLockStore.lock`)."""


class RedisLockStore(RasaRedisLockStore):
    """Rasa's `RedisLockStore` (same settings, keys and locks); an unreachable Redis raises `StoreUnavailable`."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, outages: OutageLog = OUTAGES,
                 **settings: object) -> None:
        # Rasa builds a custom lock store as `cls(endpoint_config=...)`; tests may pass the settings directly.
        if endpoint_config is not None:
            settings = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **settings}
        connect_timeout = seconds(settings.pop("socket_connect_timeout", CONNECT_TIMEOUT_S), "socket_connect_timeout")
        settings["socket_timeout"] = seconds(settings.get("socket_timeout", SOCKET_TIMEOUT_S), "socket_timeout")
        super().__init__(**settings)  # type: ignore[arg-type]
        # Rasa's store takes no connect timeout (redis-py then waits socket_timeout); its pool makes connections
        # from these settings only when a command needs one, so none exists yet.
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = connect_timeout
        self.outages = outages

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `LockStore.lock`, with Redis failures told apart: before the message runs they refuse it,
        after it ran they are only logged."""
        with reporting(LOCK_STORE, self.outages):
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                try:
                    with reporting(LOCK_STORE, self.outages):
                        acquired = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
                    break
                except TicketExpired:
                    with reporting(LOCK_STORE, self.outages):
                        ticket = self.issue_ticket(conversation_id, lock_lifetime)
            yield acquired
        finally:
            self._release(conversation_id, ticket)

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's wait for the ticket's turn, except that a ticket no longer in the lock (expired while waiting, and
        dropped; or the whole lock gone with it) raises `TicketExpired` instead of waiting for it forever."""
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or all(queued.number != ticket for queued in lock.tickets):
                raise TicketExpired(conversation_id, ticket)
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)

    def _release(self, conversation_id: Text, ticket: int) -> None:
        try:
            self.cleanup(conversation_id, ticket)
        except Exception as error:
            cause = connection_failure(error)
            if cause is None:
                raise
            self.outages.failed(LOCK_STORE, cause)
            logger.debug("Lock of %s not released (%s); its ticket expires by itself.", pseudonym(conversation_id),
                         cause)
        else:
            self.outages.succeeded(LOCK_STORE)
