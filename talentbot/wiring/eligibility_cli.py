"""`talentbot eligibility`: one profile JSON on stdin, one result JSON on stdout; exit 2 on malformed input."""

from __future__ import annotations

import json
from typing import TextIO

from talentbot.core.eligibility.engine import evaluate
from talentbot.core.eligibility.profile import ProfileError, parse_profile

EXIT_OK = 0
EXIT_BAD_INPUT = 2
"""Exit status for malformed input (interfaces §3)."""


def run(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Read, evaluate, print. Errors are one line on stderr so scripts can show them as they are."""
    text = stdin.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        print(f"error: input is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
              file=stderr)
        return EXIT_BAD_INPUT
    try:
        profile = parse_profile(data)
    except ProfileError as error:
        print(f"error: {error}", file=stderr)
        return EXIT_BAD_INPUT
    print(evaluate(profile).to_json_text(), file=stdout)
    return EXIT_OK
