"""Starting the assistant: the action server and the Rasa server as child processes, stopped together.

Used by `talentbot run` (foreground until Ctrl-C), by the end-to-end tests and by the benchmark, so all three
run the servers exactly the same way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Union

import yaml

from talentbot import paths
from talentbot.training import ensure_model

READY_TIMEOUT_S = 240
"""Rasa needs ~30 s to load TensorFlow and the model on 2 cores; allow for a busy machine."""

STOP_TIMEOUT_S = 15
"""How long servers get to shut down cleanly after SIGTERM before they are killed."""

PRODUCTION_DEFAULTS = {
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "5432",
    "DB_NAME": "talentbot",
    "DB_USER": "postgres",
    "DB_PASSWORD": "",
    "DB_LOGIN_DB": "postgres",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "6379",
    "REDIS_DB": "0",
    "SANIC_WORKERS": "2",
    "CONNECTORS_STATE_URL": "redis://127.0.0.1:6379/1",  # channel dedup keys, tokens, windows (connectors/state.py)
}
"""Local PostgreSQL (trust auth) and Redis, as on the project's machines; any can be overridden in the environment."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerSet:
    """Child processes started in their own process groups, stopped together."""

    processes: List[subprocess.Popen] = field(default_factory=list)

    def start(self, command: List[str], env: Mapping[str, str], log: Optional[Path]) -> subprocess.Popen:
        out = open(log, "ab") if log else None
        process = subprocess.Popen(
            command, cwd=paths.ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        if out:
            out.close()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before it was ready ({url})")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


def credentials_for(env: Mapping[str, str]) -> Dict[str, object]:
    """credentials.yml content: the base channels plus every platform channel whose secrets are set."""
    credentials = yaml.safe_load(paths.CREDENTIALS.read_text(encoding="utf-8")) or {}
    try:
        from connectors.registry import enabled_channels
    except ImportError:  # the platform channels are optional
        return credentials
    credentials.update(enabled_channels(env))
    return credentials


@dataclass
class RunningAssistant:
    """A started Rasa server and action server."""

    url: str
    action_url: str
    token: str
    rasa: subprocess.Popen
    actions: subprocess.Popen
    workdir: Path


@contextlib.contextmanager
def assistant(
    model: Path,
    workdir: Path,
    endpoints: Union[Path, Dict],
    credentials: Union[Path, Dict, None] = None,
    env: Optional[Mapping[str, str]] = None,
    rasa_port: Optional[int] = None,
    action_port: Optional[int] = None,
    token: Optional[str] = None,
    logs: bool = True,
) -> Iterator[RunningAssistant]:
    """Starts both servers and waits until they answer; stops them on leaving, whatever happened.

    `endpoints` is a file, or a dict written to `workdir` with `action_endpoint` pointed at our action server.
    With `logs`, server output goes to `workdir/rasa.log` and `workdir/actions.log`; else to this terminal.
    """
    rasa_port = rasa_port or free_port()
    action_port = action_port or free_port()
    token = token or secrets.token_urlsafe(16)
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {"SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or os.environ)}
    full_env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    if isinstance(endpoints, dict):
        action_endpoint = {"url": full_env["ACTION_SERVER_URL"], "enable_selective_domain": True}
        content = {"action_endpoint": action_endpoint, **endpoints}
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(yaml.safe_dump(content), encoding="utf-8")
    if not isinstance(credentials, Path):
        content = credentials if credentials is not None else credentials_for(full_env)
        credentials = workdir / "credentials.yml"
        credentials.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")

    servers = ServerSet()
    try:
        actions = servers.start(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            full_env, workdir / "actions.log" if logs else None,
        )
        rasa = servers.start(
            [
                sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(rasa_port),
                "--enable-api", "--auth-token", token, "--cors", "*",
                "--endpoints", str(endpoints), "--credentials", str(credentials),
            ],
            full_env, workdir / "rasa.log" if logs else None,
        )
        wait_until_ready(f"http://127.0.0.1:{action_port}/health", actions)
        wait_until_ready(f"http://127.0.0.1:{rasa_port}/status?token={token}", rasa)
        yield RunningAssistant(
            f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", token, rasa, actions, workdir
        )
    finally:
        servers.stop()


def production_env(base: Mapping[str, str]) -> Dict[str, str]:
    """The environment for bot/endpoints.production.yml: the defaults above, unless set already."""
    return {**PRODUCTION_DEFAULTS, **base}


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the servers the same way Ctrl-C does."""
    raise KeyboardInterrupt


def run(rasa_port: int = 5005, action_port: int = 5055, production: bool = False) -> int:
    """Runs the assistant in the foreground until Ctrl-C; returns the exit code."""
    model = ensure_model()
    env = dict(os.environ)
    token = env.setdefault("RASA_AUTH_TOKEN", secrets.token_urlsafe(16))
    endpoints = paths.ENDPOINTS
    if production:
        env = production_env(env)
        endpoints = paths.ENDPOINTS_PRODUCTION
    signal.signal(signal.SIGTERM, _interrupt)
    print("Starting the action server and the Rasa server (about 30 s)...", flush=True)
    try:
        with assistant(
            model, paths.VAR, endpoints, env=env, rasa_port=rasa_port, action_port=action_port, token=token,
            logs=False,
        ) as running:
            base = f"http://localhost:{rasa_port}"
            store = f"PostgreSQL {env['DB_HOST']} + Redis lock store" if production else "SQLite trackers.db"
            print(
                "\ntalentbot is running (Ctrl-C stops everything):\n"
                f"  chat page        {base}/webhooks/web/\n"
                f"  REST channel     POST {base}/webhooks/rest/webhook  {{\"sender\": \"...\", \"message\": \"...\"}}\n"
                f"  socket.io        {base}/socket.io\n"
                f"  HTTP API         {base}/status?token={token}  (token in RASA_AUTH_TOKEN)\n"
                f"  action server    http://localhost:{action_port}/health\n"
                f"  tracker store    {store}\n",
                flush=True,
            )
            while running.rasa.poll() is None and running.actions.poll() is None:
                time.sleep(0.5)
            print("A server stopped unexpectedly; stopping the rest.", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
        return 0
