"""talentbot.core.observability.metrics: label values, the exposition, and one server's processes added up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from talentbot.core import paths
from talentbot.core.observability import metrics
from talentbot.core.store_outages import OutageLog


@pytest.mark.parametrize("value, allowed, expected", [
    ("rest", {"rest", "socketio"}, "rest"),
    ("telegram", {"rest", "socketio"}, "other"),
    (None, {"rest"}, "unknown"),
    ("", (), "unknown"),
    ("action_answer", (), "action_answer"),
    ("Robert'); DROP TABLE", (), "other"),
    ("x" * 65, (), "other"),
])
def test_label_values_come_from_a_closed_list(value, allowed, expected) -> None:
    assert metrics.label(value, allowed) == expected


@pytest.mark.parametrize("language, expected", [
    ("en", "en"), ("zh-Hant", "zh-Hant"), ("zh-Hans", "zh-Hans"), ("fr", "other"), (None, "unknown"),
])
def test_language_labels(language, expected) -> None:
    assert metrics.language_label(language) == expected


def test_store_names_become_label_values() -> None:
    assert [metrics.store_label(s) for s in ("tracker store", "lock store", "handoff database", "Redis")] == [
        "tracker_store", "lock_store", "handoff_database", "redis"]


def test_every_failed_store_operation_is_counted_once_per_log() -> None:
    outages = OutageLog()
    metrics.count_store_errors(outages)
    metrics.count_store_errors(outages)  # a second registration changes nothing
    before = REGISTRY.get_sample_value("talentbot_store_errors_total", {"store": "tracker_store"}) or 0.0
    for _ in range(3):
        outages.failed("tracker store", ConnectionRefusedError("refused"))
    assert REGISTRY.get_sample_value("talentbot_store_errors_total", {"store": "tracker_store"}) == before + 3


def test_the_exposition_adds_collectors_computed_at_scrape_time() -> None:
    class Queue:
        def collect(self):
            yield GaugeMetricFamily("talentbot_test_waiting", "waiting", value=4)

    text = metrics.exposition([Queue()], env={}).decode()
    assert "talentbot_test_waiting 4.0" in text and "talentbot_store_errors_total" in text


def test_prepare_empties_the_folder_of_an_earlier_run(tmp_path: Path) -> None:
    folder = tmp_path / "metrics" / "rasa"
    assert metrics.prepare_multiprocess_dir({}) is None
    assert metrics.prepare_multiprocess_dir({metrics.MULTIPROCESS_VARIABLE: str(folder)}) == folder
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "README").write_text("kept")
    metrics.prepare_multiprocess_dir({metrics.MULTIPROCESS_VARIABLE: str(folder)})
    assert sorted(p.name for p in folder.iterdir()) == ["README"]


SERVER = textwrap.dedent("""
    import os, sys
    from talentbot.core.observability import metrics
    metrics.prepare_multiprocess_dir()
    from prometheus_client import Counter, Histogram
    messages = Counter("talentbot_test_messages_total", "test", ["channel"])
    seconds = Histogram("talentbot_test_seconds", "test", ["channel"])
    workers = []
    for worker in range(3):  # forked as the Sanic workers are (talentbot.rasa_plugins.sanic_workers)
        pid = os.fork()
        if pid == 0:
            for _ in range(worker + 1):
                messages.labels("rest").inc()
                seconds.labels("rest").observe(0.2)
            os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)
    messages.labels("socketio").inc()  # and the process answering the scrape
    sys.stdout.write(metrics.exposition().decode())
""")


def test_every_process_of_a_server_is_counted_in_the_exposition(tmp_path: Path) -> None:
    env = {**os.environ, metrics.MULTIPROCESS_VARIABLE: str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"\0" * 8)  # left by an earlier run: removed at start
    text = subprocess.run([sys.executable, "-c", SERVER], env=env, cwd=paths.ROOT, capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert 'talentbot_test_messages_total{channel="rest"} 6.0' in text
    assert 'talentbot_test_messages_total{channel="socketio"} 1.0' in text
    assert 'talentbot_test_seconds_count{channel="rest"} 6.0' in text
    assert 'talentbot_test_seconds_bucket{channel="rest",le="0.25"} 6.0' in text
