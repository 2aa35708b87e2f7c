"""Health, readiness, metrics and structured logs of the real servers.

The production set-up (bot/endpoints.production.yml: PostgreSQL tracker store in a database of the test's own, Redis
lock store, two Sanic workers, JSON log lines as `talentbot run --production` has them): `/health`, `/ready` and
`/metrics` of the Rasa server, the action server and the staff console answer without a token; messages are counted
by channel and language whichever worker handled them and whichever answers the scrape; and after a conversation
no log line of any server holds what the user wrote or their sender id. Then a Rasa server and an action server whose
Redis lock store and handoff database are on closed ports: alive, not ready, saying which dependency fails.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import httpx
import pytest
import sqlalchemy
from prometheus_client.parser import text_string_to_metric_families

from talentbot.core import paths
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring import devserver
from talentbot.wiring.devserver import free_port, production_env
from tests.e2e.conftest import CREDENTIALS, POSTGRES, Client, logs_shown_on_failure, reachable, start, trained_model

pytestmark = pytest.mark.server

Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]
LOGS = ("rasa.log", "actions.log", "console.log")


def scrape(url: str) -> Samples:
    response = httpx.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    return sum(found for (metric, series), found in samples.items()
               if metric == name and set(labels.items()) <= set(series))


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Iterator[Client]:
    """The production set-up with JSON logs (its default), on a PostgreSQL database of its own."""
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("the production set-up needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    database = f"talentbot_test_{uuid.uuid4().hex[:8]}"
    env = production_env({**os.environ, "DB_NAME": database})
    assert env["TALENTBOT_LOG_FORMAT"] == "json"
    try:
        yield from start(tmp_path_factory.mktemp("observed"), paths.ENDPOINTS_PRODUCTION, env)
    finally:
        engine = sqlalchemy.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def servers(client: Client) -> Dict[str, str]:
    running = client.running
    assert running.console_url is not None
    return {"rasa": running.url, "actions": running.action_url, "console": running.console_url}


def test_health_and_ready_answer_probes_without_a_token(observed: Client) -> None:
    expected_checks = {
        "rasa": {"model": "ok", "tracker_store": "ok", "lock_store": "ok", "handoff_database": "ok"},
        "actions": {"handoff_database": "ok"},
        "console": {"handoff_database": "ok"},
    }
    for name, url in servers(observed).items():
        health = httpx.get(f"{url}/health", timeout=10)
        assert (health.status_code, health.json()) == (200, {"status": "ok"}), name
        for _ in range(4):  # each of the Rasa server's workers, most likely
            ready = httpx.get(f"{url}/ready", timeout=10)
            assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": expected_checks[name]})
    assert httpx.get(f"{observed.url}/status", timeout=10).status_code == 401  # the API itself still needs it


def worker_pids(client: Client, kind: str = "counter") -> set:
    """The processes that wrote values of `kind` into the Rasa server's multi-process folder."""
    folder = client.running.workdir / "metrics" / "rasa"
    return {int(match.group(1)) for path in folder.glob(f"{kind}_*.db")
            if (match := re.fullmatch(rf"{kind}_(\d+)\.db", path.name))}


def test_messages_are_counted_by_channel_and_language_whichever_worker_answers(observed: Client) -> None:
    before = scrape(observed.url)
    turns = {"en": ["hello", "What is TTPS?"], "zh-Hant": ["你好", "高才通係咩？"]}
    sent: Counter = Counter()

    def conversation(language: str) -> None:
        user = f"metrics-{uuid.uuid4().hex[:10]}"
        for text in turns[language]:
            observed.send(user, text)

    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent users keep both workers busy
        for _ in range(4):
            for language in turns:
                sent[language] += len(turns[language]) * 4
            list(pool.map(conversation, [language for language in turns for _ in range(4)]))
            if len(worker_pids(observed) - {observed.running.rasa.pid}) >= 2:
                break
    assert len(worker_pids(observed)) >= 2, "both Sanic workers handled messages"

    for _ in range(6):  # any worker may answer a scrape: each reports the whole server
        after = scrape(observed.url)
        for language, count in sent.items():
            labels = {"channel": "rest", "language": language, "outcome": "answered"}
            assert value(after, "talentbot_messages_total", **labels) - value(
                before, "talentbot_messages_total", **labels) == count, (language, labels)
        assert value(after, "talentbot_message_duration_seconds_count", channel="rest") - value(
            before, "talentbot_message_duration_seconds_count", channel="rest") == sum(sent.values())
    assert value(after, "talentbot_action_server_calls_total", action="action_answer", outcome="ok") >= 8


def test_fallbacks_and_did_you_mean_offers_are_counted(observed: Client) -> None:
    before, actions_before = scrape(observed.url), scrape(observed.running.action_url)
    observed.send(f"fallback-{uuid.uuid4().hex[:8]}", "/nlu_fallback")  # the NLU's own fallback intent
    [offer] = observed.send(f"offer-{uuid.uuid4().hex[:8]}", "how long is the first visa valid for?")
    assert offer["text"].startswith("Did you mean")
    after, actions_after = scrape(observed.url), scrape(observed.running.action_url)
    assert total(after, "talentbot_fallbacks_total", kind="nlu_fallback") - total(
        before, "talentbot_fallbacks_total", kind="nlu_fallback") == 1
    assert value(after, "talentbot_did_you_mean_offers_total", kind="asked_first", language="en") - value(
        before, "talentbot_did_you_mean_offers_total", kind="asked_first", language="en") == 1
    ok = {"action": "action_answer", "outcome": "ok"}
    assert value(actions_after, "talentbot_action_calls_total", **ok) - value(
        actions_before, "talentbot_action_calls_total", **ok) == 1
    assert value(actions_after, "talentbot_action_duration_seconds_count", action="action_answer") >= 1


def test_the_console_counts_the_queue(observed: Client) -> None:
    console = servers(observed)["console"]
    user = f"queue-{uuid.uuid4().hex[:8]}"
    observed.send(user, "can I talk to a real person please")
    found = scrape(console)
    assert value(found, "talentbot_handoff_database_up") == 1
    assert value(found, "talentbot_handoff_waiting") >= 1
    assert value(found, "talentbot_handoff_oldest_waiting_seconds") >= 0


def log_lines(workdir: Path) -> Dict[str, List[str]]:
    return {log: (workdir / log).read_text(encoding="utf-8", errors="replace").splitlines() for log in LOGS}


def test_json_log_lines_hold_no_message_text_and_no_sender_id(observed: Client) -> None:
    """A conversation through a question, a miss, a "Did you mean" and a handoff (the action server and the queue
    too); Rasa logs at INFO, its default."""
    tag = uuid.uuid4().hex[:8]
    user = f"privacy-{tag}"
    texts = [f"What is TTPS? {tag}", f"blorfle wibble {tag}", f"how long is the first visa valid for? {tag}",
             f"高才通要幾多人工？ {tag}", f"can I talk to a real person please {tag}", f"my case is odd {tag}"]
    for text in texts:
        observed.send(user, text)
    observed.tracker(user)  # the API's conversation route too

    lines = log_lines(observed.running.workdir)
    leaks = [f"{log}: {line[:200]}" for log, found in lines.items() for line in found if tag in line]
    assert leaks == []
    for log, found in lines.items():
        assert found, f"{log} is empty"
        for line in found:
            entry = json.loads(line)  # every line: one JSON object
            assert {"time", "level", "logger", "message", "process"} <= set(entry), line
    loggers = {json.loads(line)["logger"] for line in lines["rasa.log"]}
    assert {"rasa.core.processor", "py.warnings"} <= loggers  # Rasa's own lines and Python's warnings are JSON too


@pytest.fixture
def unreachable_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """A Rasa server and an action server whose Redis lock store and handoff database are on closed ports (the
    queue's database cannot be prepared, so that step is skipped; the console, which needs it, is not started)."""
    monkeypatch.setattr(devserver, "prepare_handoff_database", lambda url: None)
    endpoints = {"tracker_store": sqlite_endpoint(tmp_path / "t.db"),
                 "lock_store": {"type": "talentbot.rasa_plugins.lock_store.RedisLockStore", "url": "127.0.0.1",
                                "port": free_port(), "key_prefix": "talentbot"}}
    env = {**os.environ, "HANDOFF_DB_URL": f"postgresql://postgres:secret-word@127.0.0.1:{free_port()}/handoff",
           "TALENTBOT_LOG_FORMAT": "json"}
    with logs_shown_on_failure(tmp_path):
        with devserver.assistant(trained_model(), tmp_path, endpoints, CREDENTIALS, env=env, console=False) as running:
            yield Client(running)


def test_ready_names_the_unreachable_redis_and_handoff_database(unreachable_stores: Client) -> None:
    rasa, actions = unreachable_stores.url, unreachable_stores.running.action_url
    for url in (rasa, actions):
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200  # alive all the same
    ready = httpx.get(f"{rasa}/ready", timeout=10)
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready", "checks": {
        "model": "ok", "tracker_store": "ok", "lock_store": "unreachable", "handoff_database": "unreachable"}})
    assert "127.0.0.1" not in ready.text and "secret-word" not in ready.text
    ready = httpx.get(f"{actions}/ready", timeout=10)
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready",
                                                       "checks": {"handoff_database": "unreachable"}})

    for _ in range(3):
        assert httpx.get(f"{rasa}/ready", timeout=10).status_code == 503
    log = (unreachable_stores.running.workdir / "rasa.log").read_text(errors="replace")
    assert len(re.findall(r"Not ready: the lock store check fails \(ConnectionError", log)) == 1  # not per probe

    # A message is not taken (the queue's database, which the channels look in first, is down): a store error.
    refused = httpx.post(f"{rasa}/webhooks/rest/webhook", json={"sender": "someone", "message": "hello"}, timeout=30)
    assert refused.status_code == 503
    assert total(scrape(rasa), "talentbot_store_errors_total") >= 1
