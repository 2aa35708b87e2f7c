"""Rasa's Redis lock store, with a clear answer when Redis is down: the message is refused, not dropped unanswered.

Configured in `bot/endpoints.production.yml` as ``type: talentbot.lock_store.RedisLockStore`` with the settings of
Rasa's ``type: redis`` (url, port, db, key_prefix...); the keys and locks are Rasa's, so replicas running either
store share them.

Why: upstream, a conversation's lock is taken before the message is handled (`Agent.handle_message`), and when
Redis cannot be reached Rasa raises a `LockError` that the REST channel turns into ``200 []``: in issue 12, all
172 messages sent during a 22 s Redis outage were "answered" with nothing and never recorded. Here:

- failing to take the lock raises `StoreUnavailable` (nothing has run, nothing is stored), and the outage is
  logged once (talentbot.store_outages);
- failing to release it after the message was handled and stored is logged, not raised: the answer is sent. The
  ticket left behind (if Redis kept it) expires after its lifetime (Rasa's TICKET_LOCK_LIFETIME, 60 s), so the
  conversation's next message waits at most that long.

Rasa's Redis client retries nothing: the first message after Redis is back is served normally.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

from talentbot.store_outages import LOCK_STORE, OUTAGES, OutageLog, connection_failure, reporting

logger = logging.getLogger(__name__)


class RedisLockStore(RasaRedisLockStore):
    """Rasa's `RedisLockStore` (same settings, keys and locks); an unreachable Redis raises `StoreUnavailable`."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, outages: OutageLog = OUTAGES,
                 **settings: object) -> None:
        # Rasa builds a custom lock store as `cls(endpoint_config=...)`; tests may pass the settings directly.
        if endpoint_config is not None:
            settings = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **settings}
        super().__init__(**settings)  # type: ignore[arg-type]
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
            with reporting(LOCK_STORE, self.outages):
                acquired = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            yield acquired
        finally:
            self._release(conversation_id, ticket)

    def _release(self, conversation_id: Text, ticket: int) -> None:
        try:
            self.cleanup(conversation_id, ticket)
        except Exception as error:
            cause = connection_failure(error)
            if cause is None:
                raise
            self.outages.failed(LOCK_STORE, cause)
            logger.debug("Lock of %s not released (%s); its ticket expires by itself.", conversation_id, cause)
        else:
            self.outages.succeeded(LOCK_STORE)
