"""Authentication rules: bcrypt hashes, password rules, session expiry, CSRF comparison, roles."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.handoff import auth
from tests.talentbot.conftest import PASSWORD, TEST_ROUNDS, hkt


def test_hash_is_bcrypt_salted_and_verifies() -> None:
    first, second = auth.hash_password(PASSWORD, TEST_ROUNDS), auth.hash_password(PASSWORD, TEST_ROUNDS)
    assert first.startswith("$2b$") and first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert auth.verify_password(PASSWORD, first)
    assert not auth.verify_password(PASSWORD + "x", first)


@pytest.mark.parametrize("password, problem", [
    ("short", "at least"),
    ("x" * 73, "at most 72 bytes"),
    ("密" * 25, "at most 72 bytes"),  # 25 characters but 75 bytes in UTF-8
])
def test_password_rules(password: str, problem: str) -> None:
    with pytest.raises(auth.PasswordRejected, match=problem):
        auth.hash_password(password, TEST_ROUNDS)


@pytest.mark.parametrize("password_hash", [None, "not-a-bcrypt-hash"])
def test_unknown_user_or_broken_hash_never_verifies(password_hash) -> None:
    assert auth.verify_password(PASSWORD, password_hash) is False


def test_overlong_password_never_verifies() -> None:
    assert auth.verify_password("x" * 100, auth.hash_password(PASSWORD, TEST_ROUNDS)) is False


@pytest.mark.parametrize("username, valid", [
    ("amy", True), ("amy.chan@tsw", True), ("a" * 64, True), ("a" * 65, False), ("", False), (".amy", False),
    ("amy chan", False), ("<script>", False),
])
def test_usernames(username: str, valid: bool) -> None:
    if valid:
        auth.check_username(username)
    else:
        with pytest.raises(ValueError):
            auth.check_username(username)


def test_tokens_are_random_and_stored_hashed() -> None:
    token = auth.new_token()
    assert len(token) >= 43 and token != auth.new_token()
    assert auth.token_hash(token) != token and len(auth.token_hash(token)) == 64


LOGIN = hkt("2026-03-02 09:00")


@pytest.mark.parametrize("last_seen_after, now_after, alive", [
    (dt.timedelta(0), dt.timedelta(minutes=29), True),
    (dt.timedelta(0), dt.timedelta(minutes=30), False),  # idle for the whole timeout
    (dt.timedelta(hours=9, minutes=50), dt.timedelta(hours=9, minutes=59), True),
    (dt.timedelta(hours=9, minutes=59), dt.timedelta(hours=10), False),  # busy, but past the absolute end
])
def test_session_expiry(last_seen_after: dt.timedelta, now_after: dt.timedelta, alive: bool) -> None:
    expires_at = auth.session_expires_at(LOGIN)
    assert auth.session_alive(LOGIN + last_seen_after, expires_at, LOGIN + now_after) is alive


@pytest.mark.parametrize("given, valid", [("abc", True), ("abd", False), ("", False), (None, False)])
def test_csrf_comparison(given, valid: bool) -> None:
    assert auth.csrf_valid("abc", given) is valid


@pytest.mark.parametrize("role, username, assignee, allowed", [
    ("agent", "amy", "amy", True),
    ("agent", "amy", "ben", False),
    ("agent", "amy", None, False),
    ("supervisor", "sue", "ben", True),
])
def test_who_may_act_on_a_ticket(role: str, username: str, assignee, allowed: bool) -> None:
    assert auth.may_act_on(role, username, assignee) is allowed


def test_only_supervisors_see_stats() -> None:
    assert auth.may_view_stats("supervisor") and not auth.may_view_stats("agent")


# --- the log-in limit ----------------------------------------------------------------------------------------

LIMIT_T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)


def _failures(*minutes: float):
    return [LIMIT_T0 + dt.timedelta(minutes=m) for m in minutes]


def test_a_username_is_locked_after_the_allowed_failures_within_the_window() -> None:
    four = _failures(0, 1, 2, 3)
    assert auth.locked_until(four, LIMIT_T0 + dt.timedelta(minutes=4)) is None
    five = _failures(0, 1, 2, 3, 4)
    assert auth.locked_until(five, LIMIT_T0 + dt.timedelta(minutes=4)) == LIMIT_T0 + auth.LOGIN_FAILURE_WINDOW


def test_the_lock_ends_when_the_oldest_counted_failure_leaves_the_window() -> None:
    five = _failures(0, 1, 2, 3, 4)
    end = LIMIT_T0 + auth.LOGIN_FAILURE_WINDOW
    assert auth.locked_until(five, end - dt.timedelta(seconds=1)) == end
    assert auth.locked_until(five, end) is None  # four left in the window: one more try


def test_old_failures_do_not_count() -> None:
    spread = _failures(0, 20, 40, 60, 61)  # never five within 15 minutes
    assert auth.locked_until(spread, LIMIT_T0 + dt.timedelta(minutes=62)) is None


def test_the_latest_failures_decide_how_long() -> None:
    many = _failures(0, 1, 2, 3, 4, 5, 6)
    assert auth.locked_until(many, LIMIT_T0 + dt.timedelta(minutes=7)) == (
        LIMIT_T0 + dt.timedelta(minutes=2) + auth.LOGIN_FAILURE_WINDOW)
