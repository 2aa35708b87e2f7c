"""Who and which, without saying who: the keyed hashes that name a conversation and an event in the analytics tables.

Rasa's events carry the conversation's sender id (``telegram:12345``, a WhatsApp phone number, a WeChat openid), so the
analytics tables hold only an HMAC-SHA-256 of it, keyed with the deployment's secret salt
(``TALENTBOT_ANALYTICS_SALT``): the rows of one conversation stay together, and without the salt no one can tell
whose conversation it is, nor test a guessed id against it.

An event's identity: Rasa 3.6's events have no id of their own (``message_id`` is on user messages only, and a
client may send its own), so an event is named by its conversation, its type and its timestamp (Rasa's float,
as the event's JSON carries it), hashed with the same salt. A redelivered event has the same key, and the store's
unique constraint keeps it from being counted twice. Changing the salt starts new keys: do it only when no event
is in flight.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Mapping, Optional

SALT_VARIABLE = "TALENTBOT_ANALYTICS_SALT"
"""The secret key of the hashes; required in production (`talentbot events consume --production`)."""

SALT_FILE_VARIABLE = "TALENTBOT_ANALYTICS_SALT_FILE"
"""Where the embedded set-up keeps a generated salt when the variable is unset (default var/analytics-salt)."""

MIN_SALT_LENGTH = 16
"""A salt shorter than this is refused: it could be guessed, and with it every hashed id tested."""


class SaltMissing(Exception):
    """No usable salt: the consumer must not start (production needs TALENTBOT_ANALYTICS_SALT)."""


def salt_from(env: Mapping[str, str], production: bool, salt_file: Optional[Path] = None) -> bytes:
    """The salt: TALENTBOT_ANALYTICS_SALT; else, outside production, the salt kept in `salt_file` (created with a
    random one, readable by its owner only, on first use), so hashes stay the same from one run to the next."""
    configured = (env.get(SALT_VARIABLE) or "").strip()
    if configured:
        if len(configured) < MIN_SALT_LENGTH:
            raise SaltMissing(f"{SALT_VARIABLE} is shorter than {MIN_SALT_LENGTH} characters")
        return configured.encode("utf-8")
    if production or salt_file is None:
        raise SaltMissing(
            f"{SALT_VARIABLE} is not set: analytics hash every sender id with this secret, and production must "
            "not run without one (generate one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if not salt_file.exists():
        salt_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    kept = salt_file.read_text(encoding="utf-8").strip()
    if len(kept) < MIN_SALT_LENGTH:
        raise SaltMissing(f"the salt in {salt_file} is shorter than {MIN_SALT_LENGTH} characters")
    return kept.encode("utf-8")


def _keyed(salt: bytes, *parts: str) -> str:
    message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(salt, message, hashlib.sha256).hexdigest()


def conversation_key(sender_id: str, salt: bytes) -> str:
    """The conversation's stand-in: 64 hex digits."""
    return _keyed(salt, "conversation", sender_id)


def event_key(sender_id: str, event_type: str, timestamp: float, salt: bytes) -> str:
    """The event's identity: 64 hex digits from its conversation, type and timestamp (``repr`` of the float, which
    survives a JSON round trip exactly)."""
    return _keyed(salt, "event", sender_id, event_type, repr(float(timestamp)))
