"""talentbot.rasa_plugins.sanic_workers: the Sanic workers of a server killed outright (SIGKILL, the OOM killer) die
with it, so the restarted server finds its port free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

import pytest

from talentbot.core import paths
from talentbot.wiring.devserver import Listener, free_port, port_problems, wait_until_ready
from tools.bench.procs import children

pytestmark = pytest.mark.server

APP = """
import sys
from sanic import Sanic, response
from talentbot.rasa_plugins import sanic_workers

sanic_workers.install()
app = Sanic("die_with_main")

@app.get("/")
async def index(request):
    return response.text("ok")

app.run("127.0.0.1", int(sys.argv[1]), workers=2, access_log=False)
"""


def eventually(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not reaped by whoever adopted it, counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_main_process(tmp_path) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP, encoding="utf-8")
    port = free_port()
    main = subprocess.Popen([sys.executable, str(script), str(port)], cwd=paths.ROOT,
                            stdout=open(tmp_path / "log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    workers: List[int] = []
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/", main, timeout=60)
        eventually(lambda: len(children(main.pid, live=True)) == 2, 30)
        workers = children(main.pid, live=True)
        main.kill()
        main.wait()
        eventually(lambda: not any(alive(pid) for pid in workers), 5)
        assert port_problems([Listener("test server", "127.0.0.1", port, "--port")]) == []
    finally:  # after a failure: leave nothing running
        if main.poll() is None:
            main.kill()
            main.wait()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
