"""tools.bench.events_cost's bookkeeping: the run order that cancels drift, and the comparison `make bench` prints."""

from __future__ import annotations

from typing import Any, Dict

from tools.bench.events_cost import compare, schedule, summary_line


def run(index: int, broker: bool, p95: float, throughput: float, load: float = 1.0) -> Dict[str, Any]:
    return {"run": index, "setup": "embedded", "broker": broker, "sequential": {"p95_ms": p95},
            "concurrent16": {"throughput": throughput}, "stored_after_load_s": 0.4 if broker else None,
            "loadavg": [load, load, load], "cpu_ms_per_message": {"rasa": 20.0 + broker, "consumer": 0.5 * broker}}


def test_runs_alternate_in_mirrored_pairs() -> None:
    assert schedule(1) == [False, True]
    assert schedule(2) == [False, True, True, False]
    assert schedule(3) == [False, True, True, False, False, True]


def test_a_steady_drift_is_no_cost() -> None:
    """Each run 1 ms slower and 1 msg/s less than the one before; the broker itself costs nothing."""
    order = schedule(2)
    runs = [run(i, on, 30.0 + i, 40.0 - i, load=1.5 + i / 10) for i, on in enumerate(order)]
    comparison = compare(runs, "embedded")
    assert comparison is not None
    assert comparison["p95_1_sender_delta_ms"] == 0.0
    assert comparison["p95_1_sender_pairs_ms"] == [1.0, -1.0]
    assert abs(comparison["throughput_16_delta_pct"]) < 0.1
    assert comparison["cpu_ms_per_message"]["on"] == {"rasa": 21.0, "consumer": 0.5}
    assert summary_line(comparison) == "+0.0 ms (pairs -1.0..+1.0), +0.0 % (pairs -2.5..+2.7), loadavg 1.5-1.8"


def test_no_comparison_without_both_kinds_of_run() -> None:
    assert compare([run(0, False, 30.0, 40.0)], "embedded") is None
    assert compare([run(0, False, 30.0, 40.0), run(1, True, 31.0, 39.0)], "production") is None
