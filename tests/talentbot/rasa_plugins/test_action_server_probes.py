"""The action server's /health, /ready and /metrics: open without the token, /ready failing with the reason while the
handoff database is unreachable, action calls counted by action and outcome across two Sanic workers, and JSON log
lines that name a conversation by its pseudonym only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, NamedTuple

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from talentbot.core import paths
from talentbot.core.observability.logs import pseudonym
from talentbot.rasa_plugins.action_server import refusal
from talentbot.wiring.devserver import free_port, metrics_env, wait_until_ready

TOKEN = "a-shared-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
def test_probes_and_metrics_need_no_token(path: str) -> None:
    assert refusal(path, None, TOKEN) is None
    assert refusal("/webhook", None, TOKEN) is not None


class Server(NamedTuple):
    url: str
    log: Path
    env: dict


@pytest.fixture(scope="module")
def action_server(tmp_path_factory) -> Iterator[Server]:
    """Two Sanic workers, JSON logs, a handoff database on a closed port."""
    workdir = tmp_path_factory.mktemp("actions-probes")
    port = free_port()
    env = metrics_env({**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "ACTION_SERVER_SANIC_WORKERS": "2",
                       "HANDOFF_DB_URL": f"postgresql://postgres:secret-word@127.0.0.1:{free_port()}/handoff",
                       "TALENTBOT_LOG_FORMAT": "json", "TALENTBOT_LOG_SALT": "test salt"}, workdir, "actions")
    (Path(env["PROMETHEUS_MULTIPROC_DIR"]) / "counter_1.db").write_bytes(b"\0" * 16)  # an earlier run's: removed
    log = workdir / "actions.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "talentbot.rasa_plugins.action_server", "--actions", "actions", "--port", str(port)],
        cwd=paths.ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", process, timeout=120)
        yield Server(f"http://127.0.0.1:{port}", log, env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def call(sender: str, action: str = "action_handoff") -> dict:
    tracker = {"sender_id": sender, "slots": {"language": "en"}, "events": [], "paused": False,
               "latest_message": {"text": "I want a person", "intent": {"name": "request_human"}, "entities": []},
               "latest_input_channel": "telegram", "active_loop": {}, "latest_action_name": "action_listen"}
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.21"}


def scrape(url: str) -> dict:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.server
def test_alive_but_not_ready_without_the_handoff_database(action_server: Server) -> None:
    assert httpx.get(f"{action_server.url}/health", timeout=10).json() == {"status": "ok"}
    ready = httpx.get(f"{action_server.url}/ready", timeout=10)
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready",
                                                       "checks": {"handoff_database": "unreachable"}})
    assert "secret-word" not in ready.text and "127.0.0.1" not in ready.text


@pytest.mark.server
def test_calls_are_counted_by_action_and_outcome_in_every_worker(action_server: Server) -> None:
    url = action_server.url
    folder = Path(action_server.env["PROMETHEUS_MULTIPROC_DIR"])
    assert not (folder / "counter_1.db").exists()  # the earlier run's values are gone

    def handoff(number: int) -> None:  # the queue is unreachable: the action tells the user so, an "ok" call
        assert httpx.post(f"{url}/webhook", json=call(f"telegram:77{number}"), headers=AUTH, timeout=30).is_success

    calls = 0
    with ThreadPoolExecutor(max_workers=6) as pool:  # concurrent calls, until both workers have taken some
        while calls < 30 and (calls == 0 or len(list(folder.glob("counter_*.db"))) < 2):
            list(pool.map(handoff, range(calls, calls + 6)))
            calls += 6
    assert len(list(folder.glob("counter_*.db"))) == 2
    assert httpx.post(f"{url}/webhook", json=call("telegram:1", "action_nonexistent"), headers=AUTH,
                      timeout=30).status_code == 404
    assert httpx.post(f"{url}/webhook", content=b"[1, 2]", headers=AUTH, timeout=30).status_code == 400
    for _ in range(4):  # whichever worker answers
        found = scrape(url)
        assert found[("talentbot_action_calls_total", (("action", "action_handoff"), ("outcome", "ok")))] == calls
        assert found[("talentbot_action_calls_total", (("action", "other"), ("outcome", "not_found")))] == 1
        assert found[("talentbot_action_calls_total", (("action", "none"), ("outcome", "refused")))] == 1
        assert found[("talentbot_action_duration_seconds_count", (("action", "action_handoff"),))] == calls


@pytest.mark.server
def test_log_lines_are_json_and_name_no_sender(action_server: Server) -> None:
    sender = "telegram:5550123"
    httpx.post(f"{action_server.url}/webhook", json=call(sender), headers=AUTH, timeout=30)
    lines = action_server.log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line one JSON object
    assert all({"time", "level", "logger", "message", "process"} <= set(entry) for entry in entries)
    assert not any("5550123" in line for line in lines)
    failed = [e for e in entries if e["message"].startswith("could not open a handoff ticket for ")]
    assert pseudonym(sender, action_server.env) in {e["message"].rsplit(" ", 1)[1] for e in failed}
