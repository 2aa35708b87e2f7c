"""Prometheus metrics: what every process shares (the exposition, the multi-process folder, label values, store
errors); each process defines its own metrics next to what it counts (talentbot.rasa_plugins.rasa_metrics, the
action server, the staff console).

A server with several Sanic workers (SANIC_WORKERS) counts in all of them, and a scrape reaches one: with
PROMETHEUS_MULTIPROC_DIR set (the wiring gives each server a folder of its own, talentbot.wiring.devserver),
prometheus-client keeps every process's values in memory-mapped files in that folder, and `exposition` adds them
up, so `/metrics` of any worker reports the whole server. The folder is emptied when the server starts
(`prepare_multiprocess_dir`, before any value is written): counters start from zero with each server, as Prometheus
expects of a restarted target, while a worker replaced during the server's life keeps what it counted. Without the
variable (a plain `rasa run`, tests) values live in the process's memory.

Every label value comes from a short closed list (channels, languages, stores, actions of the domain), never from
what a user sent, so no series is ever made per user or per message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Collection, Iterable, List, Mapping, Optional

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from talentbot.core.i18n import LANGUAGES
from talentbot.core.store_outages import OUTAGES, OutageLog

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's multi-process folder; read when prometheus-client is first imported."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format every Prometheus reads."""

SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Histogram buckets of handling times, from a cached answer to Rasa's action timeout."""

OTHER = "other"
UNKNOWN = "unknown"

STORE_ERRORS = Counter("talentbot_store_errors_total",
                       "Store operations that failed because the store could not be reached",
                       ["store"])


def prepare_multiprocess_dir(env: Mapping[str, str] = os.environ) -> Optional[Path]:
    """Creates the multi-process folder of PROMETHEUS_MULTIPROC_DIR and deletes what an earlier run of the server
    left in it; called by each server's main process at start, before its workers exist. None when unset."""
    folder = env.get(MULTIPROCESS_VARIABLE, "").strip()
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    return path


class _Joined:
    """Several collectors read as one (for `generate_latest`)."""

    def __init__(self, collectors: List[Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(extra: Collection[Collector] = (), env: Mapping[str, str] = os.environ) -> bytes:
    """The process's metrics in Prometheus' text format (`CONTENT_TYPE`): every process of the server in
    multi-process mode, else this process's; `extra` adds collectors computed at scrape time."""
    folder = env.get(MULTIPROCESS_VARIABLE, "").strip()
    if folder:
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry, folder)  # type: ignore[no-untyped-call]
        base: Collector = registry
    else:
        base = REGISTRY
    return generate_latest(_Joined([base, *extra]) if extra else base)


_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def label(value: Optional[str], allowed: Collection[str] = ()) -> str:
    """A label value: `value` if it is in `allowed` (or, with nothing allowed, a short lower-case name), `unknown`
    for none, else `other`."""
    if not value:
        return UNKNOWN
    if allowed:
        return value if value in allowed else OTHER
    return value if _NAME.fullmatch(value) else OTHER


def language_label(language: Optional[str]) -> str:
    """One of the reply languages, `unknown` before one is known, else `other`."""
    return label(language, LANGUAGES)


def store_label(store: str) -> str:
    """A store's name in the outage log ("tracker store") as a label value ("tracker_store")."""
    return label(store.strip().lower().replace(" ", "_").replace("-", "_"))


def _count_store_error(store: str) -> None:
    STORE_ERRORS.labels(store_label(store)).inc()


def count_store_errors(outages: OutageLog = OUTAGES) -> None:
    """Counts every failed operation `outages` is told of in `talentbot_store_errors_total` (once per log)."""
    if _count_store_error not in outages.observers:
        outages.observers.append(_count_store_error)
