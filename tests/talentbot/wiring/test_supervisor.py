"""talentbot.wiring.supervisor with real (tiny) child processes: crashes are restarted with back-off and logged."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, List

import pytest

from talentbot.core import paths
from talentbot.core.backoff import Backoff, describe_exit
from talentbot.wiring.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
FAST = lambda: Backoff(first_s=0.2, max_s=0.8, stable_after_s=60)  # noqa: E731


def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as dead
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def supervisor(tmp_path):
    supervisor = Supervisor(tmp_path, stop_timeout_s=5, poll_s=0.05, backoff=FAST)
    yield supervisor
    supervisor.stop()


@pytest.mark.parametrize("code, text", [(1, "exit code 1"), (0, "exit code 0"), (-9, "exit code -9 (SIGKILL)"),
                                        (-15, "exit code -15 (SIGTERM)")])
def test_describe_exit(code: int, text: str) -> None:
    assert describe_exit(code) == text


def test_a_killed_server_is_restarted_and_the_log_says_so(supervisor, caplog) -> None:
    caplog.set_level(logging.INFO, logger="talentbot.wiring.supervisor")
    first = supervisor.start("action server", SLEEPER, os.environ)
    supervisor.supervise()
    os.kill(first.pid, signal.SIGKILL)
    eventually(lambda: supervisor.services["action server"].restarts == 1)
    second = supervisor.process("action server")
    assert second.pid != first.pid and second.poll() is None
    assert f"action server (pid {first.pid}) died with exit code -9 (SIGKILL)" in caplog.text
    assert "restarting it in 0.2 s, at " in caplog.text
    assert f"action server restarted (pid {second.pid}, restart 1)" in caplog.text
    assert supervisor.supervising


def test_a_server_that_keeps_crashing_is_retried_ever_more_slowly(supervisor, caplog) -> None:
    caplog.set_level(logging.INFO, logger="talentbot.wiring.supervisor")
    supervisor.start("Rasa server", [sys.executable, "-c", "raise SystemExit(3)"], os.environ)
    supervisor.supervise()
    eventually(lambda: supervisor.services["Rasa server"].restarts >= 4)
    delays = [line.split("restarting it in ")[1].split(" s")[0]
              for line in caplog.messages if "restarting it in" in line]
    assert delays[:4] == ["0.2", "0.4", "0.8", "0.8"]  # doubling, capped
    assert "died with exit code 3" in caplog.text


def test_the_dead_servers_leftover_children_are_killed_before_the_restart(supervisor, tmp_path) -> None:
    """Sanic workers outlive a SIGKILLed main process and would keep its port: the whole group goes."""
    child_pid = tmp_path / "child.pid"
    parent = [sys.executable, "-c",
              "import subprocess, sys, time; "
              f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
              f"open({str(child_pid)!r}, 'w').write(str(child.pid)); time.sleep(120)"]
    first = supervisor.start("Rasa server", parent, os.environ)
    supervisor.supervise()
    eventually(lambda: child_pid.exists() and child_pid.read_text().strip() != "")
    orphan = int(child_pid.read_text())
    child_pid.unlink()
    os.kill(first.pid, signal.SIGKILL)
    eventually(lambda: supervisor.services["Rasa server"].restarts == 1)
    eventually(lambda: not alive(orphan))


def test_stop_stops_every_server_and_restarts_none(supervisor) -> None:
    processes = [supervisor.start(name, SLEEPER, os.environ) for name in ("a", "b")]
    supervisor.supervise()
    supervisor.stop()
    assert all(process.poll() is not None for process in processes)
    assert not supervisor.supervising
    time.sleep(0.5)
    assert all(service.restarts == 0 for service in supervisor.services.values())


SUPERVISOR_PROCESS = """
import json, os, signal, sys, time
from pathlib import Path
from talentbot.core.backoff import Backoff
from talentbot.wiring.supervisor import Supervisor

sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
supervisor = Supervisor(Path.cwd(), poll_s=0.05, backoff=lambda: Backoff(first_s=0.1))
first = supervisor.start("action server", sleeper, os.environ)
supervisor.start("Rasa server", sleeper, os.environ)
supervisor.supervise()
os.kill(first.pid, signal.SIGKILL)  # so one server is a restarted one, forked after supervising began
while supervisor.services["action server"].restarts == 0:
    time.sleep(0.05)
print(json.dumps([service.process.pid for service in supervisor.services.values()]), flush=True)
time.sleep(120)
"""


def test_every_server_dies_with_a_killed_supervisor() -> None:
    """A supervisor killed outright (SIGKILL, the OOM killer) cannot stop its servers: the kernel must, or they
    live on holding their ports."""
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR_PROCESS], cwd=paths.ROOT, stdout=subprocess.PIPE,
                                  start_new_session=True)
    servers: List[int] = []
    try:
        assert supervisor.stdout is not None
        servers = json.loads(supervisor.stdout.readline())
        assert len(servers) == 2 and all(alive(pid) for pid in servers)
        supervisor.kill()
        supervisor.wait()
        eventually(lambda: not any(alive(pid) for pid in servers), timeout_s=5)
    finally:
        for pid in servers:
            _kill(pid)
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def test_a_server_started_from_a_thread_that_ends_keeps_running(supervisor) -> None:
    """The parent-death signal fires when the *thread* that forked a child ends: the supervisor forks from a
    thread of its own, so callers' threads may come and go."""
    started: List[subprocess.Popen] = []
    caller = threading.Thread(target=lambda: started.append(supervisor.start("a", SLEEPER, os.environ)))
    caller.start()
    caller.join()
    time.sleep(0.5)
    assert started[0].poll() is None


def test_stop_lets_a_restarted_server_shut_down_cleanly(supervisor, tmp_path) -> None:
    """A restarted server gets stop()'s SIGTERM, and is not killed when the watching thread ends first."""
    ready = tmp_path / "ready"
    graceful = [sys.executable, "-c",
                "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
                f"open({str(ready)!r}, 'w').close(); time.sleep(120)"]
    first = supervisor.start("a", graceful, os.environ)
    supervisor.supervise()
    eventually(ready.exists)
    ready.unlink()
    os.kill(first.pid, signal.SIGKILL)
    eventually(lambda: supervisor.services["a"].restarts == 1 and ready.exists())
    supervisor.stop()
    assert supervisor.process("a").returncode == 0  # its SIGTERM handler ran: no SIGKILL (-9) from anywhere


def _kill(pid: int) -> None:
    """Clean-up after a failed assertion: no test leaves a sleeper behind."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
