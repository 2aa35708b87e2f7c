"""Staff authentication rules: password hashing, session tokens and their expiry, CSRF tokens, what each role may do.

Pure apart from bcrypt and the random source; where sessions are stored is `accounts.py`'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from functools import lru_cache
from typing import Optional, Sequence

import bcrypt

from talentbot.core.handoff.models import ROLES

BCRYPT_ROUNDS = 12
"""bcrypt's work factor (2^12 iterations, about a quarter second here): the library's default, OWASP's minimum is 10
(Password Storage Cheat Sheet). Tests pass a lower value to stay fast."""

MAX_PASSWORD_BYTES = 72
"""bcrypt uses only the first 72 bytes of a password (bcrypt 5 refuses longer ones), so longer ones are refused here
rather than silently truncated."""

MIN_PASSWORD_CHARS = 12
"""Our minimum; NIST SP 800-63B §5.1.1.2 asks for at least 8, staff accounts reach personal data so we ask for more."""

SESSION_IDLE_TIMEOUT = dt.timedelta(minutes=30)
"""A session unused for this long is over (OWASP Session Management Cheat Sheet: 15-30 minutes for most apps)."""

SESSION_MAX_AGE = dt.timedelta(hours=10)
"""A session ends this long after log-in whatever its use: one working day, so a shift logs in once."""

TOKEN_BYTES = 32
"""Random bytes in session and CSRF tokens (256 bits, beyond guessing)."""

LOGIN_FAILURES_ALLOWED = 5
"""Failed log-ins for one username within LOGIN_FAILURE_WINDOW before it is locked (OWASP Authentication Cheat
Sheet: lock after a small number of failures, for a limited time, so guessing a password online is impractical)."""

LOGIN_FAILURE_WINDOW = dt.timedelta(minutes=15)
"""How long a failed log-in counts; also the longest a username stays locked."""

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
"""Usernames: letters, digits and . _ @ -, up to 64 characters (the column's width); the whole name must match
(`valid_username`: `$` alone would let a trailing line feed through)."""

USERNAME_RULE = "usernames are 1-64 letters, digits or . _ @ - and start with a letter or digit"


def locked_until(failures: Sequence[dt.datetime], now: dt.datetime) -> Optional[dt.datetime]:
    """Until when a username is locked, given the times of its failed log-ins; None when it is not.

    Locked while LOGIN_FAILURES_ALLOWED failures lie within the window: until the oldest of the latest ones leaves
    it. Attempts made while locked are refused without checking the password and do not count, so the lock ends
    on time even while someone keeps trying.
    """
    recent = sorted(at for at in failures if now - at < LOGIN_FAILURE_WINDOW)
    if len(recent) < LOGIN_FAILURES_ALLOWED:
        return None
    return recent[-LOGIN_FAILURES_ALLOWED] + LOGIN_FAILURE_WINDOW


@lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    """A hash of a random password at the normal cost, checked when the username is unknown, so that a log-in
    attempt takes the same time whether or not the account exists (made on first use, not at import)."""
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(BCRYPT_ROUNDS))


class PasswordRejected(ValueError):
    """The password does not meet the rules above; the message says which."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRejected(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise PasswordRejected(f"the password must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8")


def valid_username(username: str) -> bool:
    return USERNAME_PATTERN.fullmatch(username) is not None


def check_username(username: str) -> None:
    if not valid_username(username):
        raise ValueError(USERNAME_RULE)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """bcrypt hash (salt included) of a password that meets the rules."""
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: Optional[str]) -> bool:
    """Whether `password` matches; False (after the same work) for an unknown user (`password_hash` None)."""
    candidate = password.encode("utf-8")
    if len(candidate) > MAX_PASSWORD_BYTES:
        return False
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
    except ValueError:  # a malformed hash in the database
        return False


def new_token() -> str:
    """A fresh random token for a session cookie or a CSRF token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of a session token (SHA-256 hex), so a copy of the table cannot be used to log in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_expires_at(created_at: dt.datetime) -> dt.datetime:
    return created_at + SESSION_MAX_AGE


def session_alive(last_seen: dt.datetime, expires_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a session is still valid at `now`: before its absolute end and used within the idle timeout."""
    return now < expires_at and now - last_seen < SESSION_IDLE_TIMEOUT


def csrf_valid(expected: str, given: Optional[str]) -> bool:
    """Constant-time comparison of the session's CSRF token with the one the request sent (header X-CSRF-Token).
    Our tokens are ASCII; a header that is not (bytes the client chose, possibly not even encodable) is wrong."""
    if not given or not given.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))


def may_view_stats(role: str) -> bool:
    """The supervisor view is for supervisors."""
    return role == "supervisor"


def may_act_on(role: str, username: str, assignee: Optional[str]) -> bool:
    """Replying to, transferring and resolving a claimed ticket: its assignee, or any supervisor."""
    return role == "supervisor" or (assignee is not None and assignee == username)
