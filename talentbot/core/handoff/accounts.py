"""Staff accounts and their log-in sessions in the handoff database (sessions survive restarts and are shared by
every console process)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from talentbot.core.handoff import auth
from talentbot.core.handoff.models import staff_login_failures, staff_sessions, staff_users
from talentbot.core.handoff.store import HandoffError, utcnow


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: str  # agent or supervisor


@dataclass(frozen=True)
class Session:
    """A logged-in staff member; `csrf_token` must come back in the X-CSRF-Token header of every state change."""

    username: str
    role: str
    csrf_token: str
    expires_at: dt.datetime


class StaffExists(HandoffError):
    pass


class LoginLocked(HandoffError):
    """Too many failed log-ins for this username lately (auth.locked_until); `until` says when it may try again."""

    def __init__(self, username: str, until: dt.datetime) -> None:
        super().__init__(f"too many failed log-ins for {username!r}")
        self.until = until


class StaffDirectory:
    """Staff users and sessions, on the same engine as the ticket store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, username: str, role: str, password: str, rounds: int = auth.BCRYPT_ROUNDS,
            now: Optional[dt.datetime] = None) -> StaffUser:
        """Creates an account; raises StaffExists, ValueError (bad username or role) or auth.PasswordRejected."""
        auth.check_username(username)
        auth.check_role(role)
        password_hash = auth.hash_password(password, rounds)
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(staff_users).values(
                    username=username, role=role, password_hash=password_hash, created_at=now or utcnow()))
        except IntegrityError:
            raise StaffExists(f"staff member {username!r} already exists") from None
        return StaffUser(username, role)

    def get(self, username: str) -> Optional[StaffUser]:
        with self.engine.connect() as connection:
            row = connection.execute(select(staff_users.c.username, staff_users.c.role)
                                     .where(staff_users.c.username == username)).first()
        return None if row is None else StaffUser(row.username, row.role)

    def list(self) -> List[StaffUser]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(staff_users.c.username, staff_users.c.role)
                                      .order_by(staff_users.c.username)).all()
        return [StaffUser(row.username, row.role) for row in rows]

    def authenticate(self, username: str, password: str) -> Optional[StaffUser]:
        """The user when the password matches, else None (same work whether or not the account exists)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(staff_users).where(staff_users.c.username == username)).first()
        if not auth.verify_password(password, None if row is None else row.password_hash):
            return None
        return StaffUser(row.username, row.role)

    def log_in(self, username: str, password: str, now: Optional[dt.datetime] = None) -> Optional[StaffUser]:
        """`authenticate`, limited per username: raises LoginLocked after too many recent failures (without
        checking the password); a failure stays recorded, a success clears the attempts made before it.

        The attempt is written to the database (committed) before it is counted, and counted before the password
        is checked: of attempts racing each other, in this process or another, whichever counts last sees all of
        them, so no more than auth.LOGIN_FAILURES_ALLOWED passwords are checked however many arrive at once (a
        burst may refuse more than needed, never fewer). A refused attempt takes its record back, so the lock
        ends on time even while someone keeps trying.
        """
        now = now or utcnow()
        key = username[:64]
        attempt = self._record_attempt(key, now)
        until = auth.locked_until(self._other_attempts(key, attempt, now), now)
        if until is not None:
            self._forget_attempts(staff_login_failures.c.id == attempt)
            raise LoginLocked(key, until)
        user = self.authenticate(username, password)
        if user is None:  # the attempt stays as a failure; the expired ones of every username go
            self._forget_attempts(staff_login_failures.c.failed_at <= now - auth.LOGIN_FAILURE_WINDOW)
        else:
            self._forget_attempts(and_(staff_login_failures.c.username == key, staff_login_failures.c.id <= attempt))
        return user

    def _record_attempt(self, key: str, now: dt.datetime) -> int:
        """Counts a log-in attempt as a failure until it succeeds; its id."""
        with self.engine.begin() as connection:
            result = connection.execute(insert(staff_login_failures).values(username=key, failed_at=now))
            return int(result.inserted_primary_key[0])

    def _other_attempts(self, key: str, attempt: int, now: dt.datetime) -> List[dt.datetime]:
        """When the username's other attempts within the window were made (failed or still being checked)."""
        failures = staff_login_failures
        with self.engine.connect() as connection:
            return list(connection.execute(select(failures.c.failed_at).where(and_(
                failures.c.username == key, failures.c.id != attempt,
                failures.c.failed_at > now - auth.LOGIN_FAILURE_WINDOW))).scalars())

    def _forget_attempts(self, condition: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(staff_login_failures).where(condition))

    def start_session(self, user: StaffUser, now: Optional[dt.datetime] = None) -> Tuple[str, Session]:
        """A new session; returns the token for the cookie (only its hash is stored) and the session."""
        now = now or utcnow()
        token, csrf = auth.new_token(), auth.new_token()
        expires_at = auth.session_expires_at(now)
        with self.engine.begin() as connection:
            connection.execute(delete(staff_sessions).where(or_(
                staff_sessions.c.expires_at <= now, staff_sessions.c.last_seen <= now - auth.SESSION_IDLE_TIMEOUT)))
            connection.execute(insert(staff_sessions).values(
                token_hash=auth.token_hash(token), username=user.username, csrf_token=csrf, created_at=now,
                last_seen=now, expires_at=expires_at))
        return token, Session(user.username, user.role, csrf, expires_at)

    def session(self, token: Optional[str], now: Optional[dt.datetime] = None, touch: bool = True
                ) -> Optional[Session]:
        """The live session for a cookie token, or None when absent or expired. Its idle clock restarts unless
        `touch` is false (a check on behalf of the session, not a use of it, such as the event stream's)."""
        if not token:
            return None
        now = now or utcnow()
        key = auth.token_hash(token)
        with self.engine.begin() as connection:
            row = connection.execute(
                select(staff_sessions, staff_users.c.role)
                .join(staff_users, staff_users.c.username == staff_sessions.c.username)
                .where(staff_sessions.c.token_hash == key)).first()
            if row is None:
                return None
            if not auth.session_alive(row.last_seen, row.expires_at, now):
                connection.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == key))
                return None
            if touch:
                connection.execute(update(staff_sessions).where(
                    and_(staff_sessions.c.token_hash == key)).values(last_seen=now))
        return Session(row.username, row.role, row.csrf_token, row.expires_at)

    def end_session(self, token: Optional[str]) -> None:
        if token:
            with self.engine.begin() as connection:
                connection.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == auth.token_hash(token)))
