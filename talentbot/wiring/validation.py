"""`talentbot validate`: runs `rasa data validate` and fails on any warning not explained in bot/validation.yml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import yaml

from talentbot.core import paths

EXPLAINED = paths.ROOT / "bot" / "validation.yml"
_WARNING = re.compile(r"(?:UserWarning: | WARNING +)(.*)")
"""Rasa's data warnings (UserWarning) and WARNING log lines; library DeprecationWarnings are silenced below."""


def explained_warnings(file: Path = EXPLAINED) -> Dict[str, str]:
    """Pattern → why that warning is expected (e.g. a response only a custom action utters)."""
    data = yaml.safe_load(file.read_text(encoding="utf-8")) if file.exists() else None
    return {str(item["pattern"]): str(item["why"]) for item in (data or {}).get("explained", [])}


def unexplained(output: str, explained: Dict[str, str]) -> List[str]:
    """Warning lines of `rasa data validate` output that no explained pattern matches."""
    lines = [m.group(1).strip() for m in _WARNING.finditer(output)]
    return [line for line in lines if not any(re.search(p, line) for p in explained)]


def validate_content() -> List[str]:
    """Problems in the answer content (bot/content): a missing language, source or date, an over-long answer."""
    from talentbot.core.content.loader import ContentError, load_content

    try:
        load_content()
    except ContentError as error:
        return error.problems
    return []


def validate_bank() -> List[str]:
    """Problems in the question bank (bot/questions): languages, sources, dates, lengths, duplicate or look-alike
    questions."""
    from talentbot.core.qbank.loader import BankError, load_bank

    try:
        load_bank(paths.QUESTIONS, check_clashes=True)
    except BankError as error:
        return error.problems
    return []


def validate() -> int:
    command = [
        sys.executable, "-m", "rasa", "data", "validate",
        "--config", str(paths.CONFIG), "--domain", str(paths.DOMAIN),
        "--data", str(paths.NLU_DATA), str(paths.DIALOGUE_DATA),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(command, cwd=paths.ROOT, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    problems = unexplained(output, explained_warnings())
    if result.returncode != 0 or problems:
        print(output[-20000:], file=sys.stderr)
        for line in problems:
            print(f"unexplained warning: {line}", file=sys.stderr)
        print(f"rasa data validate: exit {result.returncode}, {len(problems)} unexplained warning(s)", file=sys.stderr)
        return 1
    print(f"rasa data validate: OK ({len(explained_warnings())} explained warning pattern(s) in {EXPLAINED.name})")
    for label, check in (("content", validate_content), ("question bank", validate_bank)):
        problems = check()
        for problem in problems:
            print(f"{label}: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"{label}: OK")
    return 0
