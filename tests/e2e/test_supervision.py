"""The real assistant under talentbot.wiring.devserver's supervisor: a killed action server, Rasa server or Sanic worker
is
replaced and the next message is answered, with the supervisor still running; a killed supervisor takes every server
and worker with it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, List

import httpx
import pytest
import sqlalchemy

from talentbot.core import paths
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import (
    ACTIONS,
    RASA,
    READY_TIMEOUT_S,
    RunningAssistant,
    assistant,
    free_port,
    port_problems,
    production_env,
    run_listeners,
)
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


def reachable(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[RunningAssistant]:
    """The production set-up (PostgreSQL, Redis lock store, SANIC_WORKERS=2) on a database of its own."""
    if not (reachable(5432) and reachable(6379)):
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


TALENTBOT_RUN = ("import sys; from pathlib import Path; from talentbot.core import paths; "
                 "paths.VAR = Path(sys.argv[1]); from talentbot.wiring.cli import main; sys.exit(main(sys.argv[2:]))")
"""`talentbot <arguments>` with its working folder (var/) in a folder of the test's own, not the project's."""

SERVER_MODULES = {"talentbot.wiring.rasa_server": RASA, "talentbot.rasa_plugins.action_server": ACTIONS,
                  "talentbot.wiring.cli": "staff console"}


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not reaped by whoever adopted it, counts as dead: it holds no port)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def descendants(pid: int) -> List[int]:
    found = []
    for child in children(pid, live=True):
        found += [child, *descendants(child)]
    return found


def server_name(pid: int) -> str:
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return next((name for module, name in SERVER_MODULES.items() if module.encode() in arguments), "unknown")


def test_a_killed_talentbot_run_takes_every_server_and_worker_with_it(tmp_path) -> None:
    """`talentbot run` killed outright (kill -9, the OOM killer) cannot stop its servers: they, and the Sanic workers
    they forked, must die with it, so the next `make run` finds its ports free."""
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("`talentbot run --production` needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    trained_model()
    database = f"talentbot_test_{uuid.uuid4().hex[:8]}"
    ports = [free_port(), free_port(), free_port()]
    log = tmp_path / "run.log"
    command = [sys.executable, "-c", TALENTBOT_RUN, str(tmp_path / "var"), "run", "--production",
               "--port", str(ports[0]), "--actions-port", str(ports[1]), "--console-port", str(ports[2])]
    # two Sanic workers each: Rasa's from SANIC_WORKERS (a --production default), rasa_sdk's from its own variable
    env = {**os.environ, "DB_NAME": database, "ACTION_SERVER_SANIC_WORKERS": "2"}
    with open(log, "wb") as out:
        run = subprocess.Popen(command, cwd=paths.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    tree: List[int] = []
    try:
        output = lambda: log.read_text(errors="replace")  # noqa: E731
        eventually(lambda: run.poll() is not None or "talentbot is running" in output() or "Training" in output(),
                   READY_TIMEOUT_S, "talentbot run ready")
        assert run.poll() is None and "talentbot is running" in output(), output()[-6000:]
        servers = {server_name(pid): pid for pid in children(run.pid, live=True)}
        assert sorted(servers) == sorted(SERVER_MODULES.values())
        eventually(lambda: all(len(children(servers[name], live=True)) == 2 for name in (RASA, ACTIONS)), 30,
                   "two Sanic workers in each of the Rasa server and the action server")
        tree = descendants(run.pid)

        run.kill()
        run.wait()
        eventually(lambda: not any(alive(pid) for pid in tree), 10, f"every one of {len(tree)} processes gone")
        assert port_problems(run_listeners(ports[0], ports[1], ports[2], {})) == []
    except Exception:
        print(f"--- talentbot run\n{log.read_text(errors='replace')[-6000:]}")
        raise
    finally:  # after a failure: leave nothing running
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid in tree:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        engine = sqlalchemy.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()
