"""Sanic's multi-worker runner with dead workers replaced, for the Rasa server and the action server.

Sanic 21.12 (the version Rasa 3.6 pins) starts `SANIC_WORKERS` forked processes on one listening socket and then
only waits for them (`sanic.server.runners.serve_multiple`): a killed worker halves the capacity without a word,
and the server stops once the last one is gone. `install()` swaps in `serve_multiple` below, which forks a new
worker in place of a dead one (after a back-off, with a log line). A replacement is forked from the same main
process at the same point as the first workers, so it loads the model and serves exactly as they do; the other
workers keep serving meanwhile.

When replacements keep dying before they ever run for `STABLE_AFTER_S` (a model that no longer loads, a database
that refuses every connection), the main process gives up after `MAX_FAILED_REPLACEMENTS` and exits with code 1,
so the outer supervisor (talentbot.wiring.supervisor, or systemd's `Restart=on-failure`) restarts the whole server.

Each worker dies with the main process (talentbot.core.parent_death): a main process killed outright would
otherwise leave its workers serving on the port, where the restarted server cannot bind. The main process forks
them from its main thread, which lives as long as it does.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from signal import SIGINT, SIGTERM, Signals
from signal import signal as signal_func
from typing import Any, Callable, Dict, List, Optional

from talentbot.core import parent_death
from talentbot.core.backoff import Backoff, describe_exit

logger = logging.getLogger(__name__)

MAX_FAILED_REPLACEMENTS = 5
"""Replacements in a row that die before running STABLE_AFTER_S, after which the whole server exits (code 1)."""

new_backoff: Callable[[], Backoff] = Backoff
"""The back-off of each worker slot (1, 2, 4 ... 30 s; tests shorten it)."""

_installed = False


@dataclass
class Worker:
    """One worker slot: its current process and the back-off of its replacements."""

    number: int  # 1..SANIC_WORKERS, for the log
    process: Any  # multiprocessing.Process
    started_at: float  # monotonic
    backoff: Backoff = field(default_factory=lambda: new_backoff())
    replace_at: Optional[float] = None  # set while it is dead and waiting for its replacement


def serve_multiple(server_settings: Dict[str, Any], workers: int) -> None:
    """`sanic.server.runners.serve_multiple` of Sanic 21.12, keeping `workers` processes alive until SIGINT/SIGTERM."""
    from sanic.server.events import trigger_events
    from sanic.server.runners import serve
    from sanic.server.socket import bind_socket, bind_unix_socket, remove_unix_socket

    # As upstream: one listening socket, inherited by every worker.
    server_settings["reuse_port"] = True
    server_settings["run_multiple"] = True
    main_start = server_settings.pop("main_start", None)
    main_stop = server_settings.pop("main_stop", None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    trigger_events(main_start, loop)
    sock = server_settings.get("sock")
    unix = server_settings["unix"]
    backlog = server_settings["backlog"]
    if unix:
        sock = bind_unix_socket(unix, backlog=backlog)
        server_settings["unix"] = unix
    if sock is None:
        sock = bind_socket(server_settings["host"], server_settings["port"], backlog=backlog)
        sock.set_inheritable(True)
        server_settings["sock"] = sock
        server_settings["host"] = None
        server_settings["port"] = None

    context = multiprocessing.get_context("fork")
    stopping = False
    main_pid = os.getpid()
    parent_death.prepare()

    def work() -> None:
        parent_death.die_with_parent(main_pid)
        serve(**server_settings)

    def fork() -> Any:
        process = context.Process(target=work)
        process.daemon = True
        process.start()
        return process

    slots: List[Worker] = []

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        logger.info("Received signal %s. Shutting down.", Signals(signum).name)
        for slot in slots:
            if slot.process.is_alive():
                os.kill(slot.process.pid, SIGTERM)

    signal_func(SIGINT, on_signal)
    signal_func(SIGTERM, on_signal)
    slots.extend(Worker(number, fork(), time.monotonic()) for number in range(1, workers + 1))
    failed = 0
    try:
        while not stopping:
            now = time.monotonic()
            for slot in slots:
                if slot.replace_at is None and slot.process.exitcode is not None:
                    ran_for = now - slot.started_at
                    delay = slot.backoff.next_delay(ran_for)
                    failed = 0 if ran_for >= slot.backoff.stable_after_s else failed + 1
                    slot.replace_at = now + delay
                    logger.error(
                        "Sanic worker %d of %d (pid %d) died with %s after %.0f s; a new worker starts in %g s",
                        slot.number, workers, slot.process.pid, describe_exit(slot.process.exitcode), ran_for, delay,
                    )
                elif slot.replace_at is not None and now >= slot.replace_at and not stopping:
                    if failed > MAX_FAILED_REPLACEMENTS:
                        logger.error("Sanic workers keep dying at start-up (%d in a row); stopping the server so "
                                     "its supervisor restarts it", failed)
                        raise SystemExit(1)
                    slot.process, slot.started_at, slot.replace_at = fork(), now, None
                    logger.warning("Sanic worker %d of %d replaced (pid %d)", slot.number, workers, slot.process.pid)
            # at least once a second, so a stop signal is noticed even while every worker waits to be replaced
            due = min([slot.replace_at for slot in slots if slot.replace_at is not None], default=now + 1.0)
            timeout = min(1.0, max(0.05, due - time.monotonic()))
            wait([slot.process.sentinel for slot in slots if slot.replace_at is None], timeout)
    finally:
        stopping = True
        for slot in slots:
            if slot.process.is_alive():
                os.kill(slot.process.pid, SIGTERM)
        for slot in slots:
            slot.process.join()
        trigger_events(main_stop, loop)
        sock.close()
        loop.close()
        remove_unix_socket(unix)


def install() -> None:
    """Makes `Sanic.run(workers=N > 1)` use `serve_multiple` above (once per process)."""
    global _installed
    if _installed:
        return
    import sanic
    import sanic.app

    if not sanic.__version__.startswith("21.12."):
        logger.warning("talentbot.rasa_plugins.sanic_workers was written for Sanic 21.12, found %s", sanic.__version__)
    sanic.app.serve_multiple = serve_multiple
    _installed = True
