"""`talentbot staff add --username U --role agent|supervisor` with the password on standard input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.wiring.handoff_cli import EXIT_BAD_INPUT, EXIT_EXISTS, EXIT_OK, main_staff_add
from tests.talentbot.conftest import PASSWORD


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'handoff.sqlite3'}"


def _run(url: str, argv, stdin: str):
    out, err = io.StringIO(), io.StringIO()
    return main_staff_add(argv, io.StringIO(stdin), out, err, url=url), out.getvalue(), err.getvalue()


def test_adds_an_account_that_can_log_in(url: str) -> None:
    status, out, err = _run(url, ["--username", "sue", "--role", "supervisor"], PASSWORD + "\n")
    assert (status, out.strip(), err) == (EXIT_OK, "created supervisor sue", "")
    store = SqlTicketStore.from_url(url)
    try:
        user = StaffDirectory(store.engine).authenticate("sue", PASSWORD)  # the newline is not part of it
        assert user is not None and user.role == "supervisor"
    finally:
        store.close()


def test_handoff_db_url_picks_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{target}")
    status = main_staff_add(["--username", "amy", "--role", "agent"], io.StringIO(PASSWORD), io.StringIO(),
                            io.StringIO())
    assert status == EXIT_OK and target.exists()


@pytest.mark.parametrize("argv, stdin, status, message", [
    (["--username", "amy", "--role", "admin"], PASSWORD, EXIT_BAD_INPUT, ""),
    (["--username", "amy"], PASSWORD, EXIT_BAD_INPUT, ""),
    (["--username", "amy", "--role", "agent"], "short\n", EXIT_BAD_INPUT, "at least"),
    (["--username", "amy", "--role", "agent"], "", EXIT_BAD_INPUT, "at least"),
    (["--username", "bad name", "--role", "agent"], PASSWORD, EXIT_BAD_INPUT, "usernames"),
])
def test_bad_input_exits_2(url: str, argv, stdin: str, status: int, message: str) -> None:
    code, _, err = _run(url, argv, stdin)
    assert code == status
    assert message in err


def test_an_existing_account_is_left_alone(url: str) -> None:
    assert _run(url, ["--username", "amy", "--role", "agent"], PASSWORD)[0] == EXIT_OK
    status, _, err = _run(url, ["--username", "amy", "--role", "supervisor"], "another long password")
    assert status == EXIT_EXISTS and "already exists" in err
