"""How long conversations, handoff tickets and channel state are kept after their last activity."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from typing import Mapping

RETENTION_ENV = "TALENTBOT_RETENTION_DAYS"
"""Environment variable setting the retention in whole days."""

DEFAULT_RETENTION_DAYS = 180
"""Our choice: long enough for an application to be decided and a follow-up question asked (most schemes take 4 to
6 weeks, QMAS longer), short enough that nothing is kept for years. The privacy note of the question bank
(bot/questions/privacy.yml) states this figure; change both together."""

MAX_SENDER_ID = 255
"""Rasa's `events.sender_id` and the handoff tickets' `conversation_id` hold at most this many characters."""


def retention_days(env: Mapping[str, str] = os.environ) -> int:
    """TALENTBOT_RETENTION_DAYS, else the default; anything but a whole number of days >= 1 is refused."""
    raw = (env.get(RETENTION_ENV) or "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a whole number of days, got {raw!r}") from None
    if days < 1:
        raise ValueError(f"{RETENTION_ENV} must be at least 1 day, got {days}")
    return days


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def cutoff(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """The moment before which data whose last activity lies is kept no longer (an aware UTC datetime)."""
    if days < 1:
        raise ValueError("the retention is at least 1 day")
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware one")
    return moment.astimezone(dt.timezone.utc) - dt.timedelta(days=days)


def check_sender_id(sender_id: str) -> str:
    """A conversation id as the stores hold it (``telegram:12345``, ``web:<hex>``, a REST client's own id): refused
    when it is empty, too long or has control characters, since no store could hold it."""
    if not sender_id or not sender_id.strip():
        raise ValueError("the user id is empty")
    if len(sender_id) > MAX_SENDER_ID:
        raise ValueError(f"the user id has {len(sender_id)} characters; the stores hold at most {MAX_SENDER_ID}")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in sender_id):
        raise ValueError("the user id has control characters")
    return sender_id
