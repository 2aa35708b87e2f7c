"""Staff accounts and sessions in the database: log-in, expiry, log-out, and sessions that outlive a restart."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from talentbot.core.handoff import auth
from talentbot.core.handoff.accounts import LoginLocked, StaffDirectory, StaffExists
from talentbot.core.handoff.store import SqlTicketStore
from tests.talentbot.conftest import PASSWORD, TEST_ROUNDS, hkt

T0 = hkt("2026-03-02 09:00")


@pytest.fixture
def amy(directory: StaffDirectory):
    return directory.add("amy", "agent", PASSWORD, rounds=TEST_ROUNDS)


def test_accounts_are_unique_and_roles_checked(directory: StaffDirectory, amy) -> None:
    with pytest.raises(StaffExists):
        directory.add("amy", "supervisor", PASSWORD, rounds=TEST_ROUNDS)
    with pytest.raises(ValueError, match="role"):
        directory.add("zed", "admin", PASSWORD, rounds=TEST_ROUNDS)
    assert [(user.username, user.role) for user in directory.list()] == [("amy", "agent")]


@pytest.mark.parametrize("username, password, ok", [
    ("amy", PASSWORD, True), ("amy", PASSWORD.upper(), False), ("nobody", PASSWORD, False), ("amy", "", False),
])
def test_authenticate(directory: StaffDirectory, amy, username: str, password: str, ok: bool) -> None:
    assert (directory.authenticate(username, password) is not None) is ok


def test_session_lives_while_used_and_ends_when_idle(directory: StaffDirectory, amy) -> None:
    token, session = directory.start_session(amy, now=T0)
    later = directory.session(token, now=T0 + dt.timedelta(minutes=20))
    assert later is not None and later.csrf_token == session.csrf_token
    assert directory.session(token, now=T0 + dt.timedelta(minutes=45)) is not None  # used 25 minutes before
    assert directory.session(token, now=T0 + dt.timedelta(minutes=45) + auth.SESSION_IDLE_TIMEOUT) is None
    assert directory.session(token, now=T0 + dt.timedelta(minutes=46)) is None  # deleted once expired


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_no_session_without_a_real_token(directory: StaffDirectory, amy, token) -> None:
    directory.start_session(amy, now=T0)
    assert directory.session(token, now=T0) is None


def test_log_out_ends_the_session(directory: StaffDirectory, amy) -> None:
    token, _ = directory.start_session(amy, now=T0)
    directory.end_session(token)
    assert directory.session(token, now=T0) is None


def test_sessions_are_in_the_database_not_in_memory(database_url: str, directory: StaffDirectory, amy) -> None:
    token, session = directory.start_session(amy, now=T0)
    other = SqlTicketStore.from_url(database_url)  # another process, or the same after a restart
    try:
        found = StaffDirectory(other.engine).session(token, now=T0 + dt.timedelta(minutes=1))
        assert found is not None and (found.username, found.role, found.csrf_token) == ("amy", "agent",
                                                                                        session.csrf_token)
    finally:
        other.close()


def _minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def test_log_in_locks_a_username_after_repeated_failures(directory: StaffDirectory, amy) -> None:
    for n in range(auth.LOGIN_FAILURES_ALLOWED):
        assert directory.log_in("amy", "not the password", now=_minutes(n)) is None
    with pytest.raises(LoginLocked) as locked:
        directory.log_in("amy", PASSWORD, now=_minutes(5))  # even the right password, while locked
    assert locked.value.until == T0 + auth.LOGIN_FAILURE_WINDOW
    assert directory.log_in("amy", PASSWORD, now=locked.value.until) == amy  # the oldest failure has aged out


def test_a_successful_log_in_clears_the_failures(directory: StaffDirectory, amy) -> None:
    for n in range(auth.LOGIN_FAILURES_ALLOWED - 1):
        directory.log_in("amy", "not the password", now=_minutes(n))
    assert directory.log_in("amy", PASSWORD, now=_minutes(4)) == amy
    for n in range(auth.LOGIN_FAILURES_ALLOWED - 1):
        directory.log_in("amy", "not the password", now=_minutes(5 + n))
    assert directory.log_in("amy", PASSWORD, now=_minutes(9)) == amy  # four since the success: not locked


def test_unknown_usernames_are_limited_too_and_others_are_not_affected(directory: StaffDirectory, amy) -> None:
    for n in range(auth.LOGIN_FAILURES_ALLOWED):
        directory.log_in("nobody", PASSWORD, now=_minutes(n))
    with pytest.raises(LoginLocked):
        directory.log_in("nobody", PASSWORD, now=_minutes(5))
    assert directory.log_in("amy", PASSWORD, now=_minutes(5)) == amy


def test_the_limit_is_shared_by_every_console_process(database_url: str, directory: StaffDirectory, amy) -> None:
    other = SqlTicketStore.from_url(database_url)  # another console process
    try:
        elsewhere = StaffDirectory(other.engine)
        for n in range(auth.LOGIN_FAILURES_ALLOWED):
            (directory if n % 2 else elsewhere).log_in("amy", "not the password", now=_minutes(n))
        with pytest.raises(LoginLocked):
            elsewhere.log_in("amy", PASSWORD, now=_minutes(5))
    finally:
        other.engine.dispose()


def _attempt(directory: StaffDirectory, password: str) -> str:
    try:
        return "checked" if directory.log_in("amy", password) is None else "logged in"
    except LoginLocked:
        return "refused"


def test_log_ins_racing_each_other_check_no_more_passwords_than_the_limit(database_url: str, amy) -> None:
    """Three console processes (engines), 60 attempts from 12 threads at once: the limit holds across them all."""
    stores = [SqlTicketStore.from_url(database_url) for _ in range(3)]
    try:
        directories = [StaffDirectory(store.engine) for store in stores]
        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(lambda n: _attempt(directories[n % 3], "not the password"), range(60)))
        checked = outcomes.count("checked")
        assert checked <= auth.LOGIN_FAILURES_ALLOWED and set(outcomes) <= {"checked", "refused"}
        # whatever the burst left behind, exactly the limit is checked before the lock
        later = [_attempt(directories[0], "not the password") for _ in range(auth.LOGIN_FAILURES_ALLOWED - checked)]
        assert later == ["checked"] * (auth.LOGIN_FAILURES_ALLOWED - checked)
        assert _attempt(directories[1], PASSWORD) == "refused"
    finally:
        for store in stores:
            store.close()


def test_a_check_that_does_not_touch_the_session_leaves_its_idle_clock(directory: StaffDirectory, amy) -> None:
    """The event stream looks at its session every second; that must not keep an unattended page logged in."""
    token, _ = directory.start_session(amy, now=T0)
    assert directory.session(token, now=_minutes(20), touch=False) is not None
    assert directory.session(token, now=_minutes(31), touch=False) is None
