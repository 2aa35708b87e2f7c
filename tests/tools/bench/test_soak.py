"""The soak's verdicts (tools/bench/soak.py): windows after warm-up, memory growth first vs last window, pass/fail,
errors and latency per window, and the names given to each host's processes."""

from __future__ import annotations

import random

import pytest

from tools.bench.soak import (
    GROWTH_LIMIT_PCT,
    Outcome,
    bucket,
    growth,
    memory_verdicts,
    passes,
    plan_windows,
    process_labels,
    window_rows,
)

MINUTE = 60.0


def every_30_s(minutes: float, value) -> list:
    """A sample every 30 s from 0 to `minutes`, value(t in seconds)."""
    return [(t, value(t)) for t in (30.0 * i for i in range(int(minutes * 2) + 1))]


def test_a_30_minute_soak_has_five_windows_of_5_minutes_after_the_warm_up() -> None:
    assert plan_windows(30 * MINUTE, 5 * MINUTE, 5 * MINUTE) == [
        (300.0, 600.0), (600.0, 900.0), (900.0, 1200.0), (1200.0, 1500.0), (1500.0, 1800.0)]


def test_a_short_soak_still_has_a_first_and_a_last_window() -> None:
    assert plan_windows(3 * MINUTE, 1 * MINUTE, 5 * MINUTE) == [(60.0, 120.0), (120.0, 180.0)]


def test_no_time_after_the_warm_up_is_an_error() -> None:
    with pytest.raises(ValueError):
        plan_windows(5 * MINUTE, 5 * MINUTE, 5 * MINUTE)


def test_warm_up_points_are_left_out_and_the_last_window_takes_late_points() -> None:
    windows = [(60.0, 120.0), (120.0, 180.0)]
    assert bucket([(0.0, "a"), (59.9, "b"), (60.0, "c"), (120.0, "d"), (180.0, "e"), (181.5, "f")], windows) == [
        ["c"], ["d", "e", "f"]]


def test_a_steadily_growing_process_fails() -> None:
    windows = plan_windows(30 * MINUTE, 5 * MINUTE, 5 * MINUTE)
    leaking = every_30_s(30, lambda t: 800.0 + 0.05 * t)  # 3 MiB a minute: 800 → 890 MiB
    figures = growth(leaking, windows)
    assert figures["growth_pct"] is not None and figures["growth_pct"] > GROWTH_LIMIT_PCT
    assert not passes(figures["growth_pct"])


def test_a_flat_but_noisy_process_passes() -> None:
    rng = random.Random(3)
    windows = plan_windows(30 * MINUTE, 5 * MINUTE, 5 * MINUTE)
    # ±4 % noise, and now and then a spike of 20 % (a burst, a collection): medians are not moved by them
    noisy = every_30_s(30, lambda t: 800.0 * (1 + rng.uniform(-0.04, 0.04)) * (1.2 if rng.random() < 0.1 else 1))
    figures = growth(noisy, windows)
    assert figures["growth_pct"] is not None and abs(figures["growth_pct"]) < GROWTH_LIMIT_PCT
    assert passes(figures["growth_pct"])


def test_growth_during_the_warm_up_does_not_count() -> None:
    # loading the model and the first conversations: 500 → 900 MiB in the first 5 minutes, flat afterwards
    series = every_30_s(30, lambda t: 500.0 + 80 * t / MINUTE if t < 5 * MINUTE else 900.0)
    assert passes(growth(series, plan_windows(30 * MINUTE, 5 * MINUTE, 5 * MINUTE))["growth_pct"])
    assert not passes(growth(series, plan_windows(30 * MINUTE, 0.0, 5 * MINUTE))["growth_pct"])  # without warm-up


def test_growth_just_under_and_at_the_limit() -> None:
    windows = [(0.0, 10.0), (10.0, 20.0)]
    assert growth([(0.0, 100.0), (15.0, 104.9)], windows)["growth_pct"] == 4.9
    assert passes(4.9) and not passes(5.0)


def test_a_process_without_samples_in_the_last_window_fails() -> None:
    windows = [(0.0, 10.0), (10.0, 20.0)]
    verdicts = memory_verdicts({"h3 rasa": [(1.0, 900.0)], "load generator": [(1.0, 90.0), (15.0, 300.0)]},
                               windows, judged=["h3 rasa"])
    assert verdicts["h3 rasa"]["growth_pct"] is None and verdicts["h3 rasa"]["pass"] is False
    assert verdicts["load generator"]["pass"] is None  # shown, not judged


def test_errors_and_latency_are_counted_per_window() -> None:
    windows = [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0)]
    outcomes = [Outcome(at, 0.1) for at in range(0, 60)] + [Outcome(at, 0.2) for at in range(60, 180)]
    outcomes += [Outcome(70.0, 30.0, "timeout"), Outcome(130.0, 0.01, "HTTP 502"), Outcome(131.0, 0.05, "empty reply")]
    rows = window_rows(outcomes, windows, loadavg=[(0.0, 1.0), (90.0, 2.0), (100.0, 3.0)])
    assert [(row["sent"], row["answered"], row["errors"]) for row in rows] == [(60, 60, 0), (61, 60, 1), (62, 60, 2)]
    assert rows[2]["error_kinds"] == {"HTTP 502": 1, "empty reply": 1}
    assert (rows[0]["p95_ms"], rows[1]["p95_ms"]) == (100.0, 200.0)  # a timeout is an error, not a latency
    assert (rows[1]["loadavg_1m_mean"], rows[1]["loadavg_1m_max"], rows[2]["loadavg_1m_mean"]) == (2.5, 3.0, None)


def test_each_hosts_processes_are_named_by_role() -> None:
    python = "/work/main/.venv/bin/python -m"
    processes = [
        (101, 1, f"{python} talentbot.rasa_plugins.action_server --actions actions --port 5055"),
        (102, 1, f"{python} talentbot.wiring.rasa_server run --model m.tar.gz --port 5005"),
        (150, 102, f"{python} talentbot.wiring.rasa_server run --model m.tar.gz --port 5005"),
        (151, 102, f"{python} talentbot.wiring.rasa_server run --model m.tar.gz --port 5005"),
        (152, 102, "/work/main/.venv/bin/python -c from multiprocessing.resource_tracker import main;main(5)"),
        (103, 1, f"{python} talentbot.wiring.cli console --port 8080"),
    ]
    assert process_labels("h1", processes) == {
        101: "h1 actions", 102: "h1 rasa", 103: "h1 console", 150: "h1 rasa worker", 151: "h1 rasa worker 2",
        152: "h1 resource tracker"}


def test_the_bench_table_says_why_the_cluster_steps_were_skipped() -> None:
    from tools.bench.cluster_steps import summary

    reason = "skipped: three hosts need network namespaces here: network namespaces and veth pairs need root"
    lines = summary({"multihost": {"skipped": reason}, "soak": {"skipped": "SOAK_MINUTES=0"}})
    assert lines == {"multi-host": reason, "soak": "SOAK_MINUTES=0"}


def test_the_bench_table_shows_each_host_count_the_failover_and_the_soak() -> None:
    from tools.bench.cluster_steps import soak_warmup_minutes, summary

    rows = [{"hosts": n, "mode": mode, "throughput": 10.0 * n, "p95_ms": 500.0, "cpu_ms_per_message": 33.0,
             "errors": 0} for n in (1, 2, 3) for mode in ("closed loop, 16 sender(s)", "open loop, 12 msg/s offered")]
    failover = {"sent": 1288, "answered": 1288, "lost": 0, "doubled": 0}
    soaked = {"settings": {"minutes": 30, "rate": 10}, "max_growth_pct": 0.4, "errors": 0, "sent": 18000,
              "pass": True, "loadavg_1m_max": 3.1,
              "windows": [{"p95_ms": 900.0, "warmup": True}, {"p95_ms": 300.0}, {"p95_ms": 310.0}]}
    lines = summary({"multihost": {"throughput": rows, "failover": failover}, "soak": soaked})
    assert lines["multi-host, 3 host(s), 12 msg/s: msg/s / p95 ms / CPU ms per msg"] == "30.0 / 500.0 / 33.0"
    assert lines["multi-host, 1 host(s), 16 sender(s): msg/s / p95 ms / CPU ms per msg"] == "10.0 / 500.0 / 33.0"
    assert lines["multi-host fail-over: sent / answered / lost / doubled"] == "1288 / 1288 / 0 / 0"
    assert lines["soak (30 min, 10 msg/s, 3 hosts): max memory growth % / errors"] == "0.4 / 0 of 18000 (pass)"
    assert lines["soak (30 min, 10 msg/s, 3 hosts): p95 ms per window after warm-up"] == "300.0 / 310.0"
    assert (soak_warmup_minutes(30), soak_warmup_minutes(3)) == (5.0, 1.0)
