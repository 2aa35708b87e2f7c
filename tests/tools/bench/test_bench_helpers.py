"""Benchmark helpers: percentiles and the checks applied to replayed development conversations."""

import pytest

from tools.bench.conversations import check_turn
from tools.bench.load import percentile, summarise


@pytest.mark.parametrize("q, expected", [(50, 50), (95, 95), (99, 99), (100, 100), (1, 1)])
def test_nearest_rank_percentile(q, expected) -> None:
    assert percentile(list(range(1, 101)), q) == expected


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 95) == 0.0


def test_summary_counts_errors_and_throughput() -> None:
    result = summarise("x", [0.01] * 10, errors=2, wall=2.0)
    assert (result.requests, result.errors, result.throughput, result.p95_ms) == (12, 2, 5.0, 10.0)


@pytest.mark.parametrize(
    "reply, expect, ok",
    [
        ("高才通A類年收入要達港幣250萬元", {"language": "zh-Hant", "any_of": ["250萬"]}, True),
        ("高才通A类年收入要达到港币250万元", {"language": "zh-Hant", "any_of": ["250万"]}, False),
        ("Stay is 6 MONTHS", {"language": "en", "any_of": ["6 months"]}, True),
        ("Stay is 6 months, guaranteed", {"language": "en", "none_of": ["guaranteed"]}, False),
    ],
)
def test_turn_checks(reply, expect, ok) -> None:
    assert (check_turn(reply, expect) == []) is ok


def test_the_long_messages_are_10000_characters_and_summarised() -> None:
    from tools.bench.long_message import LENGTH, MESSAGES
    from tools.bench.main import summarise

    assert LENGTH == 10_000 and all(len(text) == LENGTH for text in MESSAGES.values())
    summary = summarise({"long_message_ms": {name: 12.5 for name in MESSAGES}})
    assert [summary[f"NLU, 10,000 characters of {name} (ms)"] for name in MESSAGES] == [12.5] * len(MESSAGES)
