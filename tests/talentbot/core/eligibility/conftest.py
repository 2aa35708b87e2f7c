"""Shared helpers for the eligibility tests: build a profile from keyword fields and evaluate one scheme."""

from __future__ import annotations

from typing import Any

import pytest

from talentbot.core.eligibility import SchemeResult, evaluate, parse_profile
from tests.talentbot.core.eligibility.figures import AS_OF


def result_for(scheme: str, **fields: Any) -> SchemeResult:
    """Evaluate one scheme for a profile given as JSON fields (as_of defaults to figures.AS_OF)."""
    fields.setdefault("as_of", AS_OF.isoformat())
    return evaluate(parse_profile(fields), [scheme]).get(scheme)


@pytest.fixture
def scheme_result():
    """The `result_for` helper, as a fixture for the scheme tests."""
    return result_for
