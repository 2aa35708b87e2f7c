"""Timing of rule evaluation per profile and of university matching per name (for `make bench`)."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from functools import partial
from typing import Any, Callable, Sequence

from talentbot.core.eligibility.engine import evaluate
from talentbot.core.eligibility.profile import Profile, parse_profile
from talentbot.core.eligibility.universities import default_matcher

BENCH_PROFILES: tuple[dict[str, Any], ...] = (
    {"as_of": "2023-03-01", "annual_income_hkd": 2600000, "degree": "none", "nationality": "US"},
    {"as_of": "2025-06-01", "degree": "bachelor", "university": "Univ. of Tokyo", "graduation_date": "2021-06-30",
     "work_experience_years": 1, "age": 25, "nationality": "JP"},
    {"as_of": "2024-02-01", "degree": "master", "university": "Standford", "graduation_date": "2012-06-30",
     "work_experience_years": 10, "job_offer": {"annual_salary_hkd": 2100000, "on_talent_list": True,
                                                  "technology_area": "artificial intelligence"}},
    {"as_of": "2023-03-01", "mainland_chinese_resident": True, "nationality": "CN", "age": 24, "job_offer": None,
     "hk_degree": {"level": "master", "graduation_date": "2022-11-30", "campus": "hong_kong"}},
    {"as_of": "2026-02-01", "degree": "bachelor", "university": "Southern Cross University", "age": 32},
    {"as_of": "2022-06-01", "age": 40},
    {},
)
BENCH_NAMES: tuple[str, ...] = (
    "MIT", "牛津", "清华", "清華大學", "HKU", "港大", "Univ. of Tokyo", "Standford", "University of Sydney",
    "Jiao Tong University", "Harvard Extension School", "Peking Universty", "香港中文大學", "Queen Mary",
)


def _time(calls: Sequence[Callable[[], object]], n: int) -> dict[str, float]:
    samples = []
    for call in itertools.islice(itertools.cycle(calls), n):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {"mean_us": statistics.fmean(samples), "p95_us": samples[int(0.95 * (len(samples) - 1))], "n": n}


def run_benchmark(n: int = 2000) -> dict[str, dict[str, float]]:
    """Mean and p95 microseconds per profile evaluation and per university match (warm caches)."""
    profiles: list[Profile] = [parse_profile(p) for p in BENCH_PROFILES]
    matcher = default_matcher()
    evaluate(profiles[0])  # load data and build the matcher outside the timing
    return {
        "evaluate_profile": _time([partial(evaluate, p) for p in profiles], n),
        "match_university": _time([partial(matcher.match, q) for q in BENCH_NAMES], n),
    }


if __name__ == "__main__":  # pragma: no cover - manual use
    for name, row in run_benchmark().items():
        print(f"{name:20s} mean {row['mean_us']:8.1f} us   p95 {row['p95_us']:8.1f} us   "
              f"(n={row['n']:.0f}) {dt.date.today()}")
