"""talentbot.rasa_plugins.sanic_workers: a real Sanic server with two workers replaces a killed worker and keeps
serving."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx
import pytest

from talentbot.core import paths
from talentbot.wiring.devserver import free_port
from tools.bench.procs import children

pytestmark = pytest.mark.server

APP = """
import os, sys
from sanic import Sanic, response
from talentbot.rasa_plugins import sanic_workers
from talentbot.core.backoff import Backoff

sanic_workers.install()
sanic_workers.new_backoff = lambda: Backoff(first_s=0.2, max_s=0.4, stable_after_s=60)
sanic_workers.MAX_FAILED_REPLACEMENTS = 2
app = Sanic("workers_test")

@app.get("/pid")
async def pid(request):
    return response.text(str(os.getpid()))

if sys.argv[2] == "broken":
    @app.listener("before_server_start")
    async def fail(app, loop):
        raise SystemExit(7)  # a worker that cannot start, e.g. a model that does not load

app.run("127.0.0.1", int(sys.argv[1]), workers=2, access_log=False)
"""


def eventually(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def answering_pid(url: str) -> int:
    return int(httpx.get(f"{url}/pid", timeout=5).text)


def start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, str]:
    script = tmp_path / "app.py"
    script.write_text(APP, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port), mode], cwd=paths.ROOT,
                               stdout=open(tmp_path / "log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def server(tmp_path):
    process, url = start(tmp_path, "ok")
    yield process, url, tmp_path / "log"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_killed_workers_are_replaced_and_the_server_keeps_serving(server) -> None:
    process, url, log = server
    eventually(lambda: len(children(process.pid, live=True)) == 2)
    eventually(lambda: _answers(url))
    first, second = children(process.pid, live=True)

    os.kill(first, signal.SIGKILL)
    eventually(lambda: len(children(process.pid, live=True)) == 2 and first not in children(process.pid, live=True))
    os.kill(second, signal.SIGKILL)  # upstream Sanic stopped the whole server here
    eventually(lambda: len(children(process.pid, live=True)) == 2 and second not in children(process.pid, live=True))
    eventually(lambda: _answers(url))
    assert answering_pid(url) in children(process.pid, live=True)
    assert process.poll() is None  # the same main process throughout
    # the main process logs a replacement after forking it, so the new worker may answer before the line is written
    eventually(lambda: "Sanic worker 2 of 2 replaced" in log.read_text(errors="replace"))
    text = log.read_text(errors="replace")
    assert f"Sanic worker 1 of 2 (pid {first}) died with exit code -9 (SIGKILL)" in text
    assert "a new worker starts in 0.2 s" in text and "Sanic worker 2 of 2 replaced" in text

    process.send_signal(signal.SIGTERM)  # a stop is a stop: nothing is replaced
    assert process.wait(timeout=20) == 0
    assert children(process.pid, live=True) == []


def test_workers_that_never_start_stop_the_server_for_its_supervisor(tmp_path) -> None:
    process, _ = start(tmp_path, "broken")
    try:
        assert process.wait(timeout=60) == 1
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "keep dying at start-up" in (tmp_path / "log").read_text(errors="replace")


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/pid", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
