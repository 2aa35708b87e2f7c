"""The benchmark reports timings for rule evaluation and university matching."""

from __future__ import annotations

from tools.bench.eligibility import run_benchmark

MAX_MEAN_US = 1000.0
"""Issue 4: rules evaluation "well under 1 ms" per profile."""


def test_benchmark_rows_and_target() -> None:
    rows = run_benchmark(n=100)
    assert set(rows) == {"evaluate_profile", "match_university"}
    for row in rows.values():
        assert row["n"] == 100 and 0 < row["mean_us"] <= row["p95_us"] * 10
    assert rows["evaluate_profile"]["mean_us"] < MAX_MEAN_US
