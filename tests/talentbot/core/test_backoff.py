"""talentbot.core.backoff: restart delays double up to a cap and start again after a good run."""

from __future__ import annotations

from typing import List, Tuple

import pytest

from talentbot.core.backoff import Backoff


@pytest.mark.parametrize(
    "runs, delays",
    [
        ([0.5, 0.5, 0.5, 0.5], [1, 2, 4, 8]),  # crashing at start-up: doubling
        ([1] * 8, [1, 2, 4, 8, 16, 30, 30, 30]),  # capped
        ([1, 1, 1, 120], [1, 2, 4, 1]),  # ran fine for two minutes: quick again
        ([120, 120, 120], [1, 1, 1]),  # an occasional crash of a long-running process: always quick
        ([1, 59.9, 60], [1, 2, 1]),  # "fine" means at least STABLE_AFTER_S
    ],
)
def test_delays(runs: List[float], delays: List[float]) -> None:
    backoff = Backoff()
    assert [backoff.next_delay(ran_for) for ran_for in runs] == delays


@pytest.mark.parametrize("settings, runs, delays", [((0.1, 0.3, 5.0), [0, 0, 0, 10, 0], [0.1, 0.2, 0.3, 0.1, 0.2])])
def test_settings(settings: Tuple[float, float, float], runs: List[float], delays: List[float]) -> None:
    first, cap, stable = settings
    backoff = Backoff(first, cap, stable)
    assert [backoff.next_delay(ran_for) for ran_for in runs] == pytest.approx(delays)
