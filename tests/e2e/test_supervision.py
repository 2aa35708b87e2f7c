"""The real assistant under talentbot.wiring.devserver's supervisor: a killed action server, Rasa server or Sanic worker
is
replaced and the next message is answered, with the supervisor still running."""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, List

import httpx
import pytest
import sqlalchemy

from talentbot.core import paths
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import ACTIONS, RASA, READY_TIMEOUT_S, RunningAssistant, assistant, production_env
from talentbot.wiring.training import model_path
from tools.bench.procs import children

pytestmark = pytest.mark.server

CREDENTIALS = {"connectors.rest.RestInput": None}
QUESTION = "What are the requirements for the Top Talent Pass Scheme?"
"""Answered by action_answer: a reply needs the action server as well as the Rasa server."""
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def eventually(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.5)


def ask(running: RunningAssistant, text: str = QUESTION) -> List[dict]:
    reply = httpx.post(f"{running.url}/webhooks/rest/webhook",
                       json={"sender": f"sup{uuid.uuid4().hex[:12]}", "message": text}, timeout=120)
    reply.raise_for_status()
    return reply.json()


def answered(replies: List[dict]) -> bool:
    """A real answer to QUESTION (from action_answer), not an empty list or an apology."""
    text = " ".join(r.get("text") or "" for r in replies)
    return "TTPS" in text or "Top Talent" in text


def answers(url: str, headers: dict | None = None) -> bool:
    try:
        return httpx.get(url, headers=headers or {}, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def trained_model() -> Path:
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` (make test does it before these tests)")
    return model


def dump_logs(workdir: Path) -> None:
    for log in ("rasa.log", "actions.log"):
        if (workdir / log).exists():
            print(f"--- {log}\n" + (workdir / log).read_text(errors="replace")[-6000:])


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Iterator[RunningAssistant]:
    """The embedded set-up (SQLite, one Sanic worker) of its own: these tests kill its processes."""
    workdir = tmp_path_factory.mktemp("supervised")
    try:
        with assistant(trained_model(), workdir, {"tracker_store": sqlite_endpoint(workdir / "t.db")}, CREDENTIALS,
                       console=False) as running:
            yield running
    except Exception:
        dump_logs(workdir)
        raise


def test_a_killed_action_server_is_restarted_and_the_next_message_answered(embedded, caplog) -> None:
    caplog.set_level(logging.INFO, logger="talentbot.wiring.supervisor")
    assert answered(ask(embedded))
    killed = embedded.actions.pid
    os.kill(killed, signal.SIGKILL)
    eventually(lambda: embedded.supervisor.services[ACTIONS].restarts == 1, 10, "the action server restarted")
    eventually(lambda: answers(f"{embedded.action_url}/health"), 120, "the new action server answers")
    assert answered(ask(embedded))
    assert embedded.actions.pid != killed and embedded.supervisor.supervising
    assert f"action server (pid {killed}) died with exit code -9 (SIGKILL)" in caplog.text
    assert "restarting it in 1 s, at " in caplog.text


def test_a_killed_rasa_server_is_restarted_and_the_next_message_answered(embedded, caplog) -> None:
    caplog.set_level(logging.INFO, logger="talentbot.wiring.supervisor")
    killed = embedded.rasa.pid
    os.kill(killed, signal.SIGKILL)
    eventually(lambda: embedded.supervisor.services[RASA].restarts == 1, 10, "the Rasa server restarted")
    status = f"{embedded.url}/status"
    eventually(lambda: answers(status, {"Authorization": f"Bearer {embedded.token}"}), READY_TIMEOUT_S,
               "the new Rasa server answers")
    assert answered(ask(embedded))
    assert embedded.supervisor.supervising
    assert f"Rasa server (pid {killed}) died with exit code -9 (SIGKILL)" in caplog.text


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[RunningAssistant]:
    """The production set-up (PostgreSQL, Redis lock store, SANIC_WORKERS=2) on a database of its own."""
    import socket

    for port in (5432, 6379):
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                pytest.skip("the production set-up needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    database = f"talentbot_test_{uuid.uuid4().hex[:8]}"
    workdir = tmp_path_factory.mktemp("supervised-production")
    env = production_env({**os.environ, "DB_NAME": database})
    try:
        with assistant(trained_model(), workdir, paths.ENDPOINTS_PRODUCTION, CREDENTIALS, env=env,
                       console=False) as running:
            yield running
    except Exception:
        dump_logs(workdir)
        raise
    finally:
        engine = sqlalchemy.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def test_killed_rasa_workers_are_replaced_and_the_server_keeps_answering(production) -> None:
    main = production.rasa.pid
    log = production.workdir / "rasa.log"

    def loaded() -> int:
        return log.read_text(errors="replace").count("Rasa server is up and running")

    eventually(lambda: len(children(main, live=True)) == 2 and loaded() >= 2, 60, "two workers serving")
    first, second = children(main, live=True)
    os.kill(first, signal.SIGKILL)
    assert answered(ask(production))  # the other worker serves meanwhile
    eventually(lambda: len(children(main, live=True)) == 2 and first not in children(main, live=True), 30,
               "a new worker")
    eventually(lambda: loaded() >= 3, READY_TIMEOUT_S, "the new worker loaded the model")

    os.kill(second, signal.SIGKILL)  # upstream Sanic stopped the whole server when the last first-born worker died
    assert answered(ask(production))
    eventually(lambda: len(children(main, live=True)) == 2 and second not in children(main, live=True), 30,
               "another new worker")
    assert production.rasa.pid == main and production.supervisor.services[RASA].restarts == 0
    text = log.read_text(errors="replace")
    assert f"(pid {first}) died with exit code -9 (SIGKILL)" in text and "replaced (pid" in text
