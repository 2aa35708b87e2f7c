"""Starting the assistant: the action server, the Rasa server and the staff console as supervised child processes.

Used by `talentbot run` (foreground until Ctrl-C), by the end-to-end tests and by the benchmark, so all three
run the servers exactly the same way. Once all answer, a crashed one is restarted with back-off
(talentbot.wiring.supervisor); all are stopped together.
"""

from __future__ import annotations

import contextlib
import errno
import logging
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

from talentbot.core import parent_death, paths
from talentbot.core.analytics.identity import SALT_VARIABLE as ANALYTICS_SALT_VARIABLE
from talentbot.core.analytics.spool import FORWARD_VARIABLE as EVENTS_FORWARD_VARIABLE
from talentbot.core.analytics.spool import SPOOL_VARIABLE as EVENTS_SPOOL_VARIABLE
from talentbot.core.observability.logs import FORMAT_VARIABLE as LOG_FORMAT_VARIABLE
from talentbot.core.observability.logs import SALT_VARIABLE as LOG_SALT_VARIABLE
from talentbot.core.observability.logs import json_handler, wants_json
from talentbot.core.observability.metrics import MULTIPROCESS_VARIABLE
from talentbot.rasa_plugins import action_server, rasa_api_auth
from talentbot.rasa_plugins.action_server import TOKEN_VARIABLE as ACTION_TOKEN_VARIABLE
from talentbot.wiring.supervisor import Supervisor
from talentbot.wiring.training import ensure_model

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
    LOG_FORMAT_VARIABLE: "json",  # one JSON object per log line (talentbot/core/observability/logs.py)
    # conversation events (bot/endpoints.production.yml: event_broker, talentbot/rasa_plugins/event_broker.py)
    "RABBITMQ_HOST": "127.0.0.1",
    "RABBITMQ_PORT": "5672",
    "RABBITMQ_USERNAME": "guest",
    "RABBITMQ_PASSWORD": "guest",
    "RABBITMQ_EXCHANGE": "talentbot_events",
    "RABBITMQ_QUEUE": "talentbot_events",
}
"""Local PostgreSQL (trust auth) and Redis, as on the project's machines; any can be overridden in the environment."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerSet:
    """Child processes started in their own process groups, stopped together, and killed with this process
    (start them from a thread that lives as long as they should: talentbot.core.parent_death)."""

    processes: List[subprocess.Popen] = field(default_factory=list)

    def start(self, command: List[str], env: Mapping[str, str], log: Optional[Path]) -> subprocess.Popen:
        out = open(log, "ab") if log else None
        process = subprocess.Popen(
            command, cwd=paths.ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True, preexec_fn=parent_death.preexec_fn(),
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


def wait_until_ready(url: Union[str, urllib.request.Request], process: subprocess.Popen,
                     timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            where = url.full_url if isinstance(url, urllib.request.Request) else url
            raise RuntimeError(f"server exited with code {process.returncode} before it was ready ({where})")
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


RASA, ACTIONS, CONSOLE = "Rasa server", "action server", "staff console"
EVENTS = "events consumer"
"""The supervised servers' names (as the supervisor's log lines call them)."""


def api_request(url: str, token: str) -> urllib.request.Request:
    """A request to the Rasa HTTP API with the token in the Authorization header (never in the URL)."""
    return urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})


def action_server_command(port: int, token_required: bool) -> List[str]:
    """rasa_sdk's server behind the shared secret, on loopback (talentbot/rasa_plugins/action_server.py)."""
    return [sys.executable, "-m", "talentbot.rasa_plugins.action_server", "--actions", "actions", "--port", str(port),
            *([] if token_required else ["--no-token"])]


def rasa_command(model: Path, port: int, endpoints: Path, credentials: Path) -> List[str]:
    """`rasa run` with our adjustments (talentbot/wiring/rasa_server.py); the API token, the interface and the CORS
    origins come from the environment (RASA_AUTH_TOKEN, RASA_HOST, RASA_CORS_ORIGINS), never the command line."""
    return [sys.executable, "-m", "talentbot.wiring.rasa_server", "run", "--model", str(model), "--port", str(port),
            "--enable-api", "--endpoints", str(endpoints), "--credentials", str(credentials)]


def sends_action_token(endpoints: Path) -> bool:
    """Whether an endpoints file makes Rasa send the action server a header (the production file does)."""
    content = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    return bool((content.get("action_endpoint") or {}).get("headers"))


@dataclass
class RunningAssistant:
    """A started Rasa server, action server and (optionally) staff console, under one supervisor."""

    url: str
    action_url: str
    token: str
    workdir: Path
    supervisor: Supervisor
    console_url: Optional[str] = None
    handoff_db_url: Optional[str] = None
    action_token: Optional[str] = None  # what the action server requires (None: nothing)

    @property
    def rasa(self) -> subprocess.Popen:
        """The Rasa server's current main process (a new one after a restart)."""
        return self.supervisor.process(RASA)

    @property
    def actions(self) -> subprocess.Popen:
        return self.supervisor.process(ACTIONS)

    @property
    def console(self) -> Optional[subprocess.Popen]:
        return self.supervisor.process(CONSOLE) if CONSOLE in self.supervisor.services else None

    def processes(self) -> List[subprocess.Popen]:
        return [p for p in (self.rasa, self.actions, self.console) if p is not None]


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
    console_port: Optional[int] = None,
    console: bool = True,
    events_consumer: bool = False,
) -> Iterator[RunningAssistant]:
    """Starts the servers and waits until they answer; stops them on leaving, whatever happened.

    `endpoints` is a file, or a dict written to `workdir` with `action_endpoint` pointed at our action server and
    sending it ACTION_SERVER_TOKEN (generated if unset); the action server requires that token whenever Rasa
    sends one (the production endpoints file does). With `logs`, server output goes to `workdir/rasa.log`,
    `actions.log` and `console.log`; else to this terminal.
    The handoff queue is HANDOFF_DB_URL's database, else `workdir/handoff.sqlite3`; with `console`, the staff
    console runs on `console_port` (a free one if not given).
    """
    rasa_port = rasa_port or free_port()
    action_port = action_port or free_port()
    token = token or secrets.token_urlsafe(16)
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {"SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or os.environ)}
    full_env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    # the Rasa server, the channels' push route and the staff console share the API token and the queue
    full_env["RASA_AUTH_TOKEN"] = token
    full_env["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    full_env.setdefault("HANDOFF_DB_URL", f"sqlite:///{workdir.resolve() / 'handoff.sqlite3'}")
    full_env.setdefault(EVENTS_SPOOL_VARIABLE, str(workdir.resolve() / "events-spool.sqlite3"))
    # without a consumer (tests, the benchmark) events stay in that spool: a durable RabbitMQ queue no one reads
    # would only grow
    full_env.setdefault(EVENTS_FORWARD_VARIABLE, "1" if events_consumer else "0")
    # the servers' log lines name a conversation by the same keyed hash
    full_env[LOG_SALT_VARIABLE] = full_env.get(LOG_SALT_VARIABLE) or secrets.token_urlsafe(24)
    prepare_handoff_database(full_env["HANDOFF_DB_URL"])
    if isinstance(endpoints, dict):
        full_env[ACTION_TOKEN_VARIABLE] = full_env.get(ACTION_TOKEN_VARIABLE) or secrets.token_urlsafe(24)
        action_endpoint = {"url": full_env["ACTION_SERVER_URL"], "enable_selective_domain": True,
                           "headers": {"Authorization": f"Bearer {full_env[ACTION_TOKEN_VARIABLE]}"}}
        content = {"action_endpoint": action_endpoint, **endpoints}
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(yaml.safe_dump(content), encoding="utf-8")
    elif not sends_action_token(endpoints):
        full_env.pop(ACTION_TOKEN_VARIABLE, None)  # Rasa sends none: an action server requiring one would refuse it
    action_token = full_env.get(ACTION_TOKEN_VARIABLE) or None
    if not isinstance(credentials, Path):
        content = credentials if credentials is not None else credentials_for(full_env)
        credentials = workdir / "credentials.yml"
        credentials.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")

    servers = Supervisor(paths.ROOT, stop_timeout_s=STOP_TIMEOUT_S)
    action_health = f"http://127.0.0.1:{action_port}/health"
    rasa_status = api_request(f"http://127.0.0.1:{rasa_port}/status", token)
    try:
        actions = servers.start(
            ACTIONS, action_server_command(action_port, action_token is not None),
            metrics_env(full_env, workdir, "actions"), workdir / "actions.log" if logs else None,
            ready_url=action_health,
        )
        rasa = servers.start(
            RASA, rasa_command(model, rasa_port, endpoints, credentials),
            metrics_env(full_env, workdir, "rasa"), workdir / "rasa.log" if logs else None, ready_url=rasa_status,
        )
        console_process, console_url = None, None
        if console:
            console_port = console_port or free_port()
            console_url = f"http://127.0.0.1:{console_port}"
            console_process = servers.start(
                CONSOLE,
                [sys.executable, "-m", "talentbot.wiring.cli", "console", "--port", str(console_port)],
                metrics_env(full_env, workdir, "console"), workdir / "console.log" if logs else None,
                ready_url=f"{console_url}/login",
            )
        if events_consumer:  # no port: supervised only (talentbot/wiring/events_cli.py)
            servers.start(EVENTS, [sys.executable, "-m", "talentbot.wiring.cli", "events", "consume", "--endpoints",
                                   str(endpoints)], full_env, workdir / "events.log" if logs else None)
        wait_until_ready(action_health, actions)
        wait_until_ready(rasa_status, rasa)
        if console_process is not None:
            wait_until_ready(f"{console_url}/login", console_process)
        servers.supervise()  # from now on a server that dies is started again
        yield RunningAssistant(
            f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", token, workdir, servers,
            console_url, full_env["HANDOFF_DB_URL"], action_token,
        )
    finally:
        servers.stop()


def metrics_env(env: Mapping[str, str], workdir: Path, server: str) -> Dict[str, str]:
    """`env` with a folder of `server`'s own for prometheus-client's multi-process files (under
    PROMETHEUS_MULTIPROC_DIR if set, else `workdir/metrics`), so that /metrics of any of its Sanic workers reports
    the whole server; the server empties it when it starts (talentbot/core/observability/metrics.py)."""
    folder = Path(env.get(MULTIPROCESS_VARIABLE) or workdir / "metrics").resolve() / server
    folder.mkdir(parents=True, exist_ok=True)
    return {**env, MULTIPROCESS_VARIABLE: str(folder)}


def prepare_handoff_database(url: str) -> None:
    """Creates the queue's PostgreSQL database if needed and brings its schema up to date, once, before the
    processes that share it start (two of them migrating a fresh database at once could collide)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from talentbot.core.handoff.store import SqlTicketStore

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.database:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
        try:
            with admin.connect() as connection:
                exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                            {"name": parsed.database}).first()
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        finally:
            admin.dispose()
    SqlTicketStore.from_url(url).close()


def production_env(base: Mapping[str, str]) -> Dict[str, str]:
    """The environment for bot/endpoints.production.yml: the defaults above, unless set already; the handoff queue
    shares the tracker store's PostgreSQL database unless HANDOFF_DB_URL says otherwise; the action server's
    shared secret is generated for this run unless ACTION_SERVER_TOKEN is set."""
    env = {**PRODUCTION_DEFAULTS, **base}
    if not env.get(ACTION_TOKEN_VARIABLE):
        env[ACTION_TOKEN_VARIABLE] = secrets.token_urlsafe(24)
    if not env.get("HANDOFF_DB_URL"):
        from sqlalchemy.engine import URL

        env["HANDOFF_DB_URL"] = URL.create(
            "postgresql", username=env["DB_USER"], password=env["DB_PASSWORD"] or None, host=env["DB_HOST"],
            port=int(env["DB_PORT"]), database=env["DB_NAME"],
        ).render_as_string(hide_password=False)
    return env


@dataclass(frozen=True)
class Listener:
    """A port one server of `talentbot run` will listen on, and the setting that chooses another."""

    server: str  # RASA, ACTIONS or CONSOLE
    host: str
    port: int
    setting: str  # e.g. "--port or RASA_PORT"


def run_listeners(rasa_port: int, action_port: int, console_port: int, env: Mapping[str, str]) -> List[Listener]:
    """Where `talentbot run`'s servers will listen, with the interfaces each takes from the environment."""
    from talentbot.console.web import listen_address

    def host(variable: str, default: str) -> str:
        return env.get(variable, "").strip() or default

    return [
        Listener(RASA, host(rasa_api_auth.HOST_VARIABLE, rasa_api_auth.DEFAULT_HOST), rasa_port,
                 "--port or RASA_PORT"),
        Listener(ACTIONS, host(action_server.HOST_VARIABLE, action_server.DEFAULT_HOST), action_port,
                 "--actions-port or ACTIONS_PORT"),
        Listener(CONSOLE, listen_address(console_port, env)[0], console_port,
                 "--console-port or STAFF_CONSOLE_PORT"),
    ]


def port_problems(listeners: List[Listener]) -> List[str]:
    """One line per port that a server could not listen on, checked before anything starts: otherwise the
    server would fail only after the model has loaded, and the supervisor would restart it in a loop of
    tracebacks. Empty when every port is free."""
    problems = []
    for index, listener in enumerate(listeners):
        clash = next((other for other in listeners[:index] if other.port == listener.port), None)
        if clash is not None:
            problems.append(f"talentbot run: the {clash.server} and the {listener.server} would both listen on port "
                            f"{listener.port}; give each its own ({clash.setting}; {listener.setting})")
            continue
        error = _bind_error(listener.host, listener.port)
        if error is not None and error.errno == errno.EADDRINUSE:
            problems.append(
                f"talentbot run: port {listener.port}, which the {listener.server} needs, is already in use; "
                f"find what holds it with `ss -ltnp 'sport = :{listener.port}'` and stop it, or choose another "
                f"port ({listener.setting})")
        elif error is not None:
            problems.append(f"talentbot run: the {listener.server} cannot listen on {listener.host}:{listener.port} "
                            f"({error.strerror or error}); choose another port ({listener.setting})")
    return problems


def _bind_error(host: str, port: int) -> Optional[OSError]:
    """What binding `host:port` fails with, as the server's own bind would (None: free). SO_REUSEADDR as the
    servers set it, so a closed connection's TIME_WAIT does not count as in use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error
    return None


def _show_supervisor_log() -> None:
    """The supervisor's restarts on this terminal, with the time of day."""
    if wants_json():
        handler = json_handler()
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    supervisor_log = logging.getLogger("talentbot.wiring.supervisor")
    supervisor_log.addHandler(handler)
    supervisor_log.setLevel(logging.INFO)
    supervisor_log.propagate = False


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the servers the same way Ctrl-C does."""
    raise KeyboardInterrupt


def run(rasa_port: int = 5005, action_port: int = 5055, production: bool = False,
        console_port: Optional[int] = None) -> int:
    """Runs the assistant in the foreground until Ctrl-C; returns the exit code (1 at once if a port is taken)."""
    env = dict(os.environ)
    console_port = console_port or int(env.get("STAFF_CONSOLE_PORT") or 8080)
    problems = port_problems(run_listeners(rasa_port, action_port, console_port, env))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    model = ensure_model()
    generated = not env.get("RASA_AUTH_TOKEN")
    token = env["RASA_AUTH_TOKEN"] = env.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(16)
    _show_supervisor_log()
    endpoints = paths.ENDPOINTS
    if production:
        env = production_env(env)
        endpoints = paths.ENDPOINTS_PRODUCTION
    # production hashes sender ids with the deployment's secret salt only; without it the events wait in RabbitMQ
    consume_events = not production or bool(env.get(ANALYTICS_SALT_VARIABLE))
    if not consume_events:
        env.setdefault(EVENTS_FORWARD_VARIABLE, "1")  # to RabbitMQ all the same, for a consumer run apart
        print(f"{ANALYTICS_SALT_VARIABLE} is not set: the events consumer is not started (conversation events wait "
              "in RabbitMQ until `talentbot events consume --production` runs with it).", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    print("Starting the action server and the Rasa server (about 30 s)...", flush=True)
    try:
        with assistant(
            model, paths.VAR, endpoints, env=env, rasa_port=rasa_port, action_port=action_port, token=token,
            logs=False, console_port=console_port, events_consumer=consume_events,
        ) as running:
            base = f"http://localhost:{rasa_port}"
            store = f"PostgreSQL {env['DB_HOST']} + Redis lock store" if production else "SQLite trackers.db"
            print(
                "\ntalentbot is running (Ctrl-C stops everything):\n"
                f"  chat page        {base}/webhooks/web/\n"
                f"  REST channel     POST {base}/webhooks/rest/webhook  {{\"sender\": \"...\", \"message\": \"...\"}}\n"
                f"  socket.io        {base}/socket.io\n"
                f"  HTTP API         curl -H 'Authorization: Bearer {token if generated else '$RASA_AUTH_TOKEN'}' "
                f"{base}/status\n"
                f"  action server    http://localhost:{action_port}/health\n"
                f"  staff console    {running.console_url}/  (accounts: talentbot staff add --username U "
                "--role agent|supervisor)\n"
                f"  tracker store    {store}\n"
                "A server that stops is started again (back-off 1 s, 2 s, 4 s ... 30 s); "
                "each restart is logged here.\n",
                flush=True,
            )
            while running.supervisor.supervising:
                time.sleep(0.5)
            return 1
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
        return 0


SERVABLE = ("prepare", "rasa", "actions", "console")
"""What `talentbot serve` starts: the queue database and credentials (once, before the others), or one server."""

SECRETS = ("RASA_AUTH_TOKEN", ACTION_TOKEN_VARIABLE)
"""Set in the environment (deploy/systemd/talentbot.env) for `talentbot serve`: servers started apart from each other
must share them, so they are never generated there."""


def serve(name: str, rasa_port: int = 5005, action_port: int = 5055, console_port: Optional[int] = None) -> int:
    """One server of the production set-up in the foreground, for a process supervisor (deploy/systemd/): the
    command and environment of `talentbot run --production`, the process replaced by the server itself (exec), so
    the supervisor sees it die and its signals reach it. `prepare` creates the queue database and writes the
    channels' credentials file, and returns."""
    missing = [variable for variable in SECRETS if not os.environ.get(variable)]
    if missing:
        print(f"talentbot serve: set {', '.join(missing)} (deploy/systemd/talentbot.env)", file=sys.stderr)
        return 2
    env = production_env(os.environ)
    env.setdefault("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook")
    env.setdefault("RASA_URL", f"http://127.0.0.1:{rasa_port}")
    credentials = paths.VAR / "credentials.yml"
    if name == "prepare":
        prepare_handoff_database(env["HANDOFF_DB_URL"])
        paths.VAR.mkdir(parents=True, exist_ok=True)
        credentials.write_text(yaml.safe_dump(credentials_for(env), allow_unicode=True), encoding="utf-8")
        return 0
    if name == "rasa":
        from talentbot.wiring.training import model_path

        model = model_path()
        if not model.exists():
            print(f"talentbot serve: no trained model {model.name}; run `talentbot train` first", file=sys.stderr)
            return 2
        command = rasa_command(model, rasa_port, paths.ENDPOINTS_PRODUCTION, credentials)
    elif name == "actions":
        command = action_server_command(action_port, token_required=True)
    elif name == "console":
        port = console_port or int(env.get("STAFF_CONSOLE_PORT", 8080))
        command = [sys.executable, "-m", "talentbot.wiring.cli", "console", "--port", str(port)]
    else:
        raise ValueError(f"talentbot serve: one of {SERVABLE}, not {name!r}")
    env = metrics_env(env, paths.VAR, name)
    os.chdir(paths.ROOT)
    os.execve(sys.executable, command, env)
    return 0  # not reached
