"""tools.bench.ratio's comparison: pooled throughput over all blocks, and the spread of the block pairs."""

from __future__ import annotations

from typing import Any, Dict

from tools.bench.ratio import compare, summary_line


def block(messages: int, wall_s: float) -> Dict[str, Any]:
    return {"messages": messages, "wall_s": wall_s, "errors": 0, "throughput": messages / wall_s, "loadavg": 1.0}


def test_the_ratio_pools_every_block_and_reports_each_pair() -> None:
    ours = [block(160, 4.0), block(160, 8.0)]  # 40 then 20 msg/s: the machine slowed down in the second pair
    starter = [block(160, 8.0), block(160, 16.0)]  # 20 then 10 msg/s
    comparison = compare(ours, starter)
    assert comparison["ratio"] == 2.0  # 320/12 over 320/24
    assert comparison["pair_ratios"] == [2.0, 2.0]
    assert summary_line(comparison) == "2.00 (26.7 vs 13.3 msg/s; block pairs median 2.00, 2.00..2.00, 2 pairs)"


def test_a_slow_block_weighs_by_its_time_not_as_one_pair_in_two() -> None:
    comparison = compare([block(160, 4.0), block(160, 16.0)], [block(160, 8.0), block(160, 8.0)])
    assert comparison["ratio"] == 0.8  # 320/20 msg/s over 320/16
    assert comparison["pair_ratios"] == [2.0, 0.5]
