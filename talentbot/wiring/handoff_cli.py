"""`talentbot staff add --username U --role agent|supervisor`, the password read from standard input (interfaces §5)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional, Sequence, TextIO

from talentbot.core.handoff import auth
from talentbot.core.handoff.accounts import StaffDirectory, StaffExists, StaffUser
from talentbot.core.handoff.models import ROLES
from talentbot.core.handoff.store import SqlTicketStore

EXIT_OK = 0
EXIT_EXISTS = 1
"""The account already exists (nothing changed)."""
EXIT_BAD_INPUT = 2
"""Bad arguments or a password that breaks the rules (as argparse's own usage errors)."""


def add_staff(username: str, role: str, password: str, url: Optional[str] = None,
              rounds: int = auth.BCRYPT_ROUNDS) -> StaffUser:
    """Creates a staff account in the handoff database (HANDOFF_DB_URL unless `url`), migrating it first if needed."""
    store = SqlTicketStore.from_url(url)
    try:
        return StaffDirectory(store.engine).add(username, role, password, rounds=rounds)
    finally:
        store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talentbot staff add",
                                     description="Create a staff console account; the password is read from stdin.")
    parser.add_argument("--username", required=True)
    parser.add_argument("--role", required=True, choices=ROLES)
    return parser


def read_password(stdin: TextIO) -> str:
    """The first line of stdin without its line ending (so `echo secret | talentbot staff add ...` works)."""
    return stdin.readline().rstrip("\r\n")


def main_staff_add(argv: Sequence[str], stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                   stderr: TextIO = sys.stderr, url: Optional[str] = None) -> int:
    """Entry point for the CLI: returns the exit status; errors are one line on stderr."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_BAD_INPUT
    password = getpass.getpass("Password: ", stream=stderr) if stdin.isatty() else read_password(stdin)
    try:
        user = add_staff(args.username, args.role, password, url=url)
    except auth.PasswordRejected as problem:
        print(f"error: {problem}", file=stderr)
        return EXIT_BAD_INPUT
    except StaffExists as problem:
        print(f"error: {problem}", file=stderr)
        return EXIT_EXISTS
    except ValueError as problem:
        print(f"error: {problem}", file=stderr)
        return EXIT_BAD_INPUT
    print(f"created {user.role} {user.username}", file=stdout)
    return EXIT_OK
