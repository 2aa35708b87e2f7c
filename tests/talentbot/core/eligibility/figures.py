"""Figures of the rule data (talentbot/core/eligibility/data/rules.yml) for the tests: a test that needs a
threshold reads it here instead of restating it, so the data file stays the one place a figure is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from talentbot.core.eligibility.ruledata import load_rulebook

AS_OF = dt.date(2025, 3, 1)
"""The day `result_for` evaluates on unless a test says otherwise."""


def rule(scheme: str, key: str, day: dt.date | str = AS_OF) -> Any:
    """`key` of the scheme's rule version in force on `day`."""
    when = dt.date.fromisoformat(day) if isinstance(day, str) else day
    version = load_rulebook().version(scheme, when)
    assert version is not None, (scheme, when)
    return version[key]
