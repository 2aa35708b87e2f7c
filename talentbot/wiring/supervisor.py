"""Keeping the assistant's servers running: a crashed server is started again, with back-off and a log line.

`talentbot.wiring.devserver` starts the action server, the Rasa server and the staff console under one `Supervisor`
(`talentbot run`, `--production`, the end-to-end tests, the benchmark). A deployment under systemd gets the same
from `Restart=on-failure` (deploy/systemd/). Dead Sanic workers inside one server are replaced by the server itself
(talentbot.rasa_plugins.sanic_workers), so the supervisor only sees a server whose main process died.

Servers die with the supervisor: should it be killed outright (SIGKILL, the OOM killer), with no chance to stop
them, the kernel kills them too (talentbot.core.parent_death), so none lives on holding its port.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Union

from talentbot.core import parent_death
from talentbot.core.backoff import Backoff, describe_exit

logger = logging.getLogger(__name__)

POLL_S = 0.5
"""How often the supervisor looks at its processes: a crash is noticed within half a second."""


ReadyCheck = Union[str, urllib.request.Request]
"""A URL (or a request with headers) that answers 200 once a server serves."""


def _answers(url: ReadyCheck) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@dataclass
class Service:
    """One supervised server: how it is started, and its current process."""

    name: str  # "action server", "Rasa server", "staff console": what the log lines call it
    command: List[str]
    env: Dict[str, str]
    log: Optional[Path]  # its output, appended across restarts; None: this terminal
    ready_url: Optional[ReadyCheck]  # checked after a restart, to log when it answers again
    process: subprocess.Popen
    started_at: float  # monotonic time the current process started
    backoff: Backoff = field(default_factory=Backoff)
    restarts: int = 0  # how many times it was started again
    restart_at: Optional[float] = None  # set while it is dead and waiting for its restart (monotonic)
    answering: bool = True  # False from a restart until `ready_url` answers


class Supervisor:
    """Starts servers as child processes (each in its own process group) and, once `supervise()` is called,
    restarts any that dies until `stop()`.

    A dead server's whole process group is killed before its restart, so Sanic workers orphaned by a killed main
    process never hold on to the port the new process needs.

    Every server is forked from one thread of the supervisor's own, which ends only once `stop()` has stopped
    them all: the kernel's parent-death signal fires when the *thread* that forked a child ends, so forking from
    the caller's thread (which may be short-lived) or from the watching thread (which `stop()` ends first) would
    kill servers while the supervisor lives.
    """

    def __init__(self, cwd: Path, stop_timeout_s: float = 15.0, poll_s: float = POLL_S,
                 clock: Callable[[], float] = time.monotonic, backoff: Callable[[], Backoff] = Backoff) -> None:
        self.cwd = cwd
        self.backoff = backoff
        self.stop_timeout_s = stop_timeout_s
        self.poll_s = poll_s
        self.clock = clock
        self.services: Dict[str, Service] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._forker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="talentbot-forker")

    def _spawn(self, command: List[str], env: Mapping[str, str], log: Optional[Path]) -> subprocess.Popen:
        """Starts a process from the forker thread (see the class), in its own process group."""
        return self._forker.submit(self._popen, command, env, log).result()

    def _popen(self, command: List[str], env: Mapping[str, str], log: Optional[Path]) -> subprocess.Popen:
        out = open(log, "ab") if log else None
        try:
            return subprocess.Popen(
                command, cwd=self.cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT if out else None,
                start_new_session=True, preexec_fn=parent_death.preexec_fn(),
            )
        finally:
            if out:
                out.close()

    def start(self, name: str, command: List[str], env: Mapping[str, str], log: Optional[Path] = None,
              ready_url: Optional[ReadyCheck] = None) -> subprocess.Popen:
        """Starts a server now; it is restarted if it dies once `supervise()` runs."""
        process = self._spawn(command, env, log)
        with self._lock:
            self.services[name] = Service(name, list(command), dict(env), log, ready_url, process, self.clock(),
                                          self.backoff())
        return process

    def process(self, name: str) -> subprocess.Popen:
        """The current (latest) process of a server."""
        return self.services[name].process

    def supervise(self) -> None:
        """Watches the servers from a background thread from now on."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="talentbot-supervisor", daemon=True)
            self._thread.start()

    @property
    def supervising(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping.is_set()

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_s):
            try:
                self.check()
            except Exception:  # the supervisor itself must never die of one bad pass
                logger.exception("talentbot supervisor: unexpected error; carrying on")

    def check(self) -> None:
        """One pass: notices dead servers, restarts those whose back-off has passed, notes restarted ones ready."""
        with self._lock:
            for service in self.services.values():
                if self._stopping.is_set():
                    return
                now = self.clock()
                if service.restart_at is None and _exited(service.process):
                    self._schedule_restart(service, now)
                if service.restart_at is not None and now >= service.restart_at:
                    self._restart(service, now)
                elif not service.answering and service.process.poll() is None and service.ready_url:
                    if _answers(service.ready_url):
                        service.answering = True
                        logger.warning("talentbot supervisor: %s is answering again (%.0f s after its restart)",
                                       service.name, now - service.started_at)

    def _schedule_restart(self, service: Service, now: float) -> None:
        dead = service.process
        ran_for = now - service.started_at
        _signal_group(dead.pid, signal.SIGKILL)  # Sanic workers of a killed main process would keep the port
        dead.wait()  # reaped only now: until then its pid, the group's id, cannot be reused
        delay = service.backoff.next_delay(ran_for)
        service.restart_at = now + delay
        at = (datetime.now() + timedelta(seconds=delay)).strftime("%H:%M:%S")
        logger.error(
            "talentbot supervisor: %s (pid %d) died with %s after %.0f s; restarting it in %g s, at %s",
            service.name, dead.pid, describe_exit(dead.returncode), ran_for, delay, at,
        )

    def _restart(self, service: Service, now: float) -> None:
        service.process = self._spawn(service.command, service.env, service.log)
        service.started_at = now
        service.restart_at = None
        service.restarts += 1
        service.answering = service.ready_url is None
        logger.warning("talentbot supervisor: %s restarted (pid %d, restart %d)",
                       service.name, service.process.pid, service.restarts)

    def stop(self) -> None:
        """Stops watching, then every server: SIGTERM to its process group, SIGKILL after `stop_timeout_s`."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            processes = [service.process for service in self.services.values() if service.process.returncode is None]
        for process in processes:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for process in processes:
            while not _exited(process) and time.monotonic() < deadline:
                time.sleep(0.1)
            # the group's leftovers (or the whole group, past the deadline); the leader is not reaped yet, so its
            # pid, the group's id, still names this group
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        self._forker.shutdown()  # only now: its thread's end would kill any server still running


def _exited(process: subprocess.Popen) -> bool:
    """Whether the process has exited, without reaping it (so its process group id stays ours to signal)."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped elsewhere
        return process.poll() is not None


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
