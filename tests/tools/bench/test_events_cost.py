"""tools.bench.events_cost's bookkeeping: the block order that cancels drift, and the comparison `make bench` prints."""

from __future__ import annotations

from typing import Any, Dict, List

from tools.bench.events_cost import compare, schedule, summary, summary_line


def block(p95: float, throughput: float, broker: bool, load: float = 1.0) -> Dict[str, Any]:
    return {"p95_1_sender_ms": p95, "throughput_16": throughput, "messages_16": throughput * 10, "wall_16_s": 10.0,
            "stored_after_s": 0.3 if broker else None, "loadavg": load, "errors": 0,
            "cpu_ms_per_message": {"rasa": 20.0 + broker, "consumer": 0.5 * broker, "rabbitmq": 0.0,
                                   "machine": 50.0}}


def test_blocks_alternate_in_mirrored_pairs() -> None:
    assert schedule(4) == [(False, True), (True, False), (False, True), (True, False)]


def test_a_steady_drift_is_no_cost() -> None:
    """Each block 1 ms slower and 1 msg/s less than the one before; the broker itself costs nothing."""
    off: List[Dict[str, Any]] = []
    on: List[Dict[str, Any]] = []
    moment = 0
    for first_on, second_on in schedule(4):
        for broker in (first_on, second_on):
            (on if broker else off).append(block(30.0 + moment, 40.0 - moment, broker, load=1.5 + moment / 10))
            moment += 1
    sequential_off = [10.0] * 95 + [30.0] * 5
    comparison = compare(off, on, sequential_off, list(sequential_off))
    assert comparison["blocks"] == 4
    assert comparison["p95_1_sender_delta_ms"] == 0.0
    assert comparison["p95_1_sender_pairs_ms"] == [1.0, -1.0, 1.0, -1.0]
    assert comparison["throughput_16_delta_pct"] == 0.0
    assert comparison["cpu_ms_per_message"]["on"] == {"rasa": 21.0, "consumer": 0.5, "rabbitmq": 0.0, "machine": 50.0}
    assert comparison["stored_after_s_max"] == 0.3
    assert summary_line(comparison) == (
        "+0.0 ms (blocks median +0.0, -1.0..+1.0), +0.0 % (blocks median +0.1, -2.8..+3.0), 4 block pairs, "
        "loadavg 1.5-2.2")
    assert comparison["cpu_per_message_delta_ms"] == 1.5 and comparison["cpu_capacity_delta_pct"] == -7.0
    assert summary({"embedded": comparison}) == {
        "events on vs off, embedded: p95 1 sender Δ ms, throughput 16 senders Δ %": summary_line(comparison),
        "events on vs off, embedded: CPU per message Δ ms (capacity Δ %)":
            "+1.50 ms (-7.0 %); consumer 0.50 ms, RabbitMQ 0.00 ms"}
