"""Several hosts on one machine, for real: network namespaces on a bridge, HAProxy in front.

Layout (every name starts with PREFIX, so a run can find and remove what a killed earlier run left behind):

    root namespace                                        namespace tbmh<N> ("host N"), N = 1, 2, 3
    ─────────────────────────────────────────────         ─────────────────────────────────────────────
    bridge tbmh0, 10.77.0.1/24  ◄── veth tbmh<N>r ───────► eth0, 10.77.0.1<N>/24 (no default route)
    HAProxy  127.0.0.1:P and 10.77.0.1:P                   Rasa server   10.77.0.1<N>:5005 (production set-up)
      round robin over the hosts' Rasa servers,            action server 127.0.0.1:5055 (its host's own)
      health checks, no stickiness                         staff console 10.77.0.11:8080 (host 1 only)
    forwarder 10.77.0.1:5432 → 127.0.0.1:5432 (PostgreSQL)
              10.77.0.1:6379 → 127.0.0.1:6379 (Redis)

The shared PostgreSQL and Redis listen on 127.0.0.1 only and PostgreSQL lets in 127.0.0.1 only, so they are not
touched: the forwarder (tools/multihost/forward.py) makes them reachable at the bridge address. The hosts run
exactly what `talentbot run --production` runs (talentbot.wiring.devserver: `production_env`,
bot/endpoints.production.yml), with their database and Redis at 10.77.0.1, a database of the run's own and Redis
databases LOCK_REDIS_DB / STATE_REDIS_DB. Users, channels and the staff console reach Rasa through HAProxy.

Every process is started with talentbot.core.parent_death, so a killed runner takes them with it; the namespaces,
the bridge and the database are removed on leaving, and again at the start of the next run if a run could not.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, TextIO, Tuple

import httpx
import yaml

from talentbot.core import paths
from talentbot.core.analytics.spool import FORWARD_VARIABLE as EVENTS_FORWARD_VARIABLE
from talentbot.core.analytics.spool import SPOOL_VARIABLE as EVENTS_SPOOL_VARIABLE
from talentbot.wiring.devserver import (
    ServerSet,
    action_server_command,
    credentials_for,
    free_port,
    prepare_handoff_database,
    production_env,
    rasa_command,
)

PREFIX = "tbmh"
BRIDGE = f"{PREFIX}0"
SUBNET = "10.77.0"
GATEWAY = f"{SUBNET}.1"
"""The root namespace's address on the bridge: HAProxy, and the forwarder to PostgreSQL and Redis."""

RASA_PORT = 5005
ACTION_PORT = 5055
CONSOLE_PORT = 8080
POSTGRES_PORT = 5432
REDIS_PORT = 6379
LOCK_REDIS_DB = 12
"""The Redis database of the hosts' lock store (the shared Redis; other runs use 0 and 1)."""
STATE_REDIS_DB = 13
"""The Redis database of the channels' state store (CONNECTORS_STATE_URL: dedup keys, socket.io pub/sub)."""
DATABASE_PREFIX = "talentbot_multihost_"
"""The run's own PostgreSQL database is DATABASE_PREFIX + a random suffix; stale ones are dropped at start."""
ROOT_POSTGRES = f"postgresql://postgres@127.0.0.1:{POSTGRES_PORT}"

READY_TIMEOUT_S = 300
"""Three Rasa servers loading TensorFlow and the model at once on two cores take a minute or two."""
LOCK_WAIT_S = 900
"""How long a run waits for another run on this machine to finish (the names and addresses are fixed)."""

Log = Callable[[str], None]


def host_ip(number: int) -> str:
    return f"{SUBNET}.{10 + number}"


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), check=check, capture_output=True, text=True, timeout=60)


def reachable(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def problems() -> List[str]:
    """Why the cluster cannot run on this machine (empty: it can)."""
    found = []
    if os.geteuid() != 0:
        found.append("network namespaces and veth pairs need root")
    if shutil.which("ip") is None:
        found.append("`ip` (iproute2) is not installed")
    elif run("ip", "netns", "list", check=False).returncode != 0:
        found.append("`ip netns` does not work here")
    if shutil.which("haproxy") is None:
        found.append("HAProxy is not installed (Debian package `haproxy`: scripts/install-system-deps.sh)")
    if not reachable("127.0.0.1", POSTGRES_PORT):
        found.append(f"no PostgreSQL at 127.0.0.1:{POSTGRES_PORT}")
    if not reachable("127.0.0.1", REDIS_PORT):
        found.append(f"no Redis at 127.0.0.1:{REDIS_PORT}")
    return found


# --- the network -------------------------------------------------------------------------------------------------


def our_namespaces() -> List[str]:
    names = [line.split()[0] for line in run("ip", "netns", "list").stdout.splitlines() if line.strip()]
    return [name for name in names if re.fullmatch(rf"{PREFIX}[1-9]\d*", name)]


def namespace_pids(namespace: str) -> List[int]:
    listed = run("ip", "netns", "pids", namespace, check=False)
    return [int(pid) for pid in listed.stdout.split()] if listed.returncode == 0 else []


def kill_all(pids: List[int], timeout_s: float = 10) -> None:
    """SIGKILL each of `pids` (processes of our own namespaces) and wait until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
        time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def remove_network() -> None:
    """Removes every namespace, veth and bridge of ours, killing what still runs inside (a killed run's)."""
    for namespace in our_namespaces():
        kill_all(namespace_pids(namespace))
        run("ip", "netns", "del", namespace, check=False)
    links = [line.split(":")[1].strip().split("@")[0] for line in run("ip", "-o", "link").stdout.splitlines()]
    for link in links:
        if link.startswith(PREFIX):
            run("ip", "link", "del", link, check=False)


def create_network(hosts: int) -> None:
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    for number in range(1, hosts + 1):
        namespace, veth = f"{PREFIX}{number}", f"{PREFIX}{number}r"
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        run("ip", "link", "set", veth, "master", BRIDGE, "up")
        run("ip", "-n", namespace, "link", "set", "lo", "up")
        run("ip", "-n", namespace, "addr", "add", f"{host_ip(number)}/24", "dev", "eth0")
        run("ip", "-n", namespace, "link", "set", "eth0", "up")


# --- the database ------------------------------------------------------------------------------------------------


def drop_databases(only: Optional[str] = None) -> None:
    """Drops the run's database (`only`), or every stale one of earlier runs."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"{ROOT_POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            names = [only] if only else connection.execute(
                sqlalchemy.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": DATABASE_PREFIX + "%"}).scalars().all()
            for name in names:
                connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


# --- one host ----------------------------------------------------------------------------------------------------


@dataclass
class Host:
    """A Rasa server, its action server and (host 1) the staff console, in network namespace tbmh<number>."""

    number: int
    env: Dict[str, str]
    model: Path
    credentials: Path
    workdir: Path
    console: bool = False
    servers: ServerSet = field(default_factory=ServerSet)
    started_at: float = 0.0  # monotonic, of the latest start

    @property
    def name(self) -> str:
        """As HAProxy calls it (its backend server name, and the X-Served-By header)."""
        return f"h{self.number}"

    @property
    def namespace(self) -> str:
        return f"{PREFIX}{self.number}"

    @property
    def ip(self) -> str:
        return host_ip(self.number)

    @property
    def url(self) -> str:
        """Its Rasa server, directly (reachable from the root namespace through the bridge)."""
        return f"http://{self.ip}:{RASA_PORT}"

    @property
    def console_url(self) -> str:
        return f"http://{self.ip}:{CONSOLE_PORT}"

    def start(self) -> None:
        """Starts its servers (call from a thread that lives as long as they should: parent_death)."""
        inside = ["ip", "netns", "exec", self.namespace]
        self.servers = ServerSet()
        self.started_at = time.monotonic()
        self.servers.start(inside + action_server_command(ACTION_PORT, token_required=True), self.env,
                           self.workdir / "actions.log")
        self.servers.start(inside + rasa_command(self.model, RASA_PORT, paths.ENDPOINTS_PRODUCTION, self.credentials),
                           self.env, self.workdir / "rasa.log")
        if self.console:
            self.servers.start(inside + [sys.executable, "-m", "talentbot.wiring.cli", "console", "--port",
                                         str(CONSOLE_PORT)], self.env, self.workdir / "console.log")

    def pids(self) -> List[int]:
        """Every process in the host's namespace (Rasa's main process and Sanic workers, the action server...)."""
        return namespace_pids(self.namespace)

    def kill(self) -> List[int]:
        """The host dies: SIGKILL to every process in it at once; returns their pids."""
        pids = self.pids()
        kill_all(pids)
        for process in self.servers.processes:
            process.wait(timeout=10)
        return pids

    def stop(self) -> None:
        self.servers.stop()
        kill_all(self.pids())

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def wait_ready(self, token: str, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Waits until its Rasa server answers and a question answered through its action server gets a real
        answer (the first message also loads what loads lazily); returns the seconds since start."""
        deadline = time.monotonic() + timeout_s
        status = urllib.request.Request(f"{self.url}/status", headers={"Authorization": f"Bearer {token}"})
        urls: List[urllib.request.Request] = [status]
        if self.console:
            urls.append(urllib.request.Request(f"{self.console_url}/login"))
        for url in urls:
            while not _answers(url):
                self._check_alive(deadline, url.full_url)
                time.sleep(0.5)
        while True:
            try:
                reply = httpx.post(f"{self.url}/webhooks/rest/webhook", timeout=60, json={
                    "sender": f"warmup-{self.name}-{uuid.uuid4().hex[:6]}", "message": WARMUP_QUESTION})
                if reply.status_code == 200 and any("TTPS" in (r.get("text") or "") for r in reply.json()):
                    return time.monotonic() - self.started_at
            except httpx.HTTPError:
                pass
            self._check_alive(deadline, "a first answer")
            time.sleep(1)

    def _check_alive(self, deadline: float, what: str) -> None:
        servers = ("action server", "Rasa server", "staff console")  # in the order `start` starts them
        for server, process in zip(servers, self.servers.processes, strict=False):
            if process.poll() is not None:
                raise RuntimeError(f"{self.name}: the {server} exited with {process.returncode} before {what}; "
                                   f"see {self.workdir}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{self.name}: no {what} within {READY_TIMEOUT_S} s; see {self.workdir}")


WARMUP_QUESTION = "What is the Top Talent Pass Scheme?"
"""Answered by action_answer, so an answer shows the host's action server works too."""


def _answers(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --- HAProxy -----------------------------------------------------------------------------------------------------


HAPROXY_CONFIG = """\
global
    maxconn 2048
    stats socket {socket} mode 600 level admin
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 150s
    timeout server 150s
    timeout tunnel 1h
    timeout http-request 10s
    # A busy host (two cores, three hosts) may take more than a second to answer a check: not a dead one.
    timeout check 4s
    # A request that found no server to connect to (a host that is down, not yet marked so) goes to another one.
    # A request a server may have started on is never replayed: its turn may be stored (connectors/redelivery.py).
    retries 3
    option redispatch 1

frontend talentbot
    bind 127.0.0.1:{port}
    bind {gateway}:{port}
    default_backend rasa
    http-response set-header X-Served-By %s

backend rasa
    # No stickiness: the Redis lock store orders each conversation's messages whichever host takes them.
    balance roundrobin
    option httpchk GET /
    http-check expect status 200
    # Out after two failed checks a second apart (a dead host refuses at once), back after two good ones. Requests
    # a host marked down is still answering are left to finish: cutting them would lose answers it has stored.
    default-server inter 1s fall 2 rise 2
{servers}
"""


@dataclass
class Haproxy:
    workdir: Path
    port: int
    hosts: List[str]  # "name ip"
    servers: ServerSet = field(default_factory=ServerSet)

    @property
    def socket_path(self) -> Path:
        return self.workdir / "haproxy.sock"

    def config(self) -> str:
        servers = "\n".join(f"    server {name} {ip}:{RASA_PORT} check" for name, ip in
                            (entry.split() for entry in self.hosts))
        return HAPROXY_CONFIG.format(socket=self.socket_path, port=self.port, gateway=GATEWAY, servers=servers)

    def start(self) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(self.config(), encoding="utf-8")
        checked = run("haproxy", "-c", "-q", "-f", str(config), check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"HAProxy refuses {config}: {checked.stdout}{checked.stderr}")
        self.servers.start(["haproxy", "-db", "-f", str(config)], os.environ, self.workdir / "haproxy.log")
        deadline = time.monotonic() + 10
        while not (self.socket_path.exists() and reachable("127.0.0.1", self.port)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"HAProxy did not start; see {self.workdir / 'haproxy.log'}")
            time.sleep(0.1)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime API (its stats socket)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> Dict[str, Dict[str, str]]:
        """`show stat` of the backend's servers, by name: status (UP/DOWN/MAINT), lbtot (requests sent to it),
        hrsp_2xx, hrsp_5xx, eresp (responses that failed), wredis (requests redispatched away from it)..."""
        text = self.command("show stat").lstrip("# ")
        return {row["svname"]: row for row in csv.DictReader(io.StringIO(text))
                if row["pxname"] == "rasa" and row["svname"] not in ("BACKEND", "FRONTEND")}

    @property
    def log_path(self) -> Path:
        return self.workdir / "haproxy.log"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def unusual_log_lines(self, since: int = 0) -> List[str]:
        """HAProxy's log from byte `since`, without the requests answered 200 or 101 (websocket): the requests that
        failed (with their termination state, e.g. `SH--`: the server closed before answering) and the health
        checks' verdicts (`Server rasa/h3 is DOWN`)."""
        with open(self.log_path, "rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return [line for line in lines if not re.search(r" rasa/\S+ \S+ (200|101) ", line)]

    def served(self) -> Dict[str, int]:
        return {name: int(row["lbtot"] or 0) for name, row in self.stats().items()}

    def status(self) -> Dict[str, str]:
        return {name: row["status"] for name, row in self.stats().items()}

    def in_service(self, names: List[str]) -> None:
        """Only `names` take traffic (the others in maintenance: idle, still running)."""
        for name in self.status():
            self.command(f"set server rasa/{name} state {'ready' if name in names else 'maint'}")

    def wait_status(self, name: str, status: str, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Waits until HAProxy's health checks put `name` in `status` (UP, DOWN); returns when (monotonic)."""
        deadline = time.monotonic() + timeout_s
        while not self.status().get(name, "").startswith(status):
            if time.monotonic() > deadline:
                raise TimeoutError(f"HAProxy: {name} not {status} within {timeout_s:.0f} s: {self.status()}")
            time.sleep(0.2)
        return time.monotonic()


# --- the whole cluster -------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    hosts: List[Host]
    haproxy: Haproxy
    helpers: ServerSet  # HAProxy's and the forwarder's processes (root namespace)
    token: str
    database: str
    workdir: Path
    ready_s: Dict[str, float] = field(default_factory=dict)  # seconds from start until each host answered

    @property
    def url(self) -> str:
        """HAProxy, as users and channels reach the assistant (from the root namespace)."""
        return f"http://127.0.0.1:{self.haproxy.port}"

    @property
    def console_url(self) -> str:
        return next(host.console_url for host in self.hosts if host.console)

    @property
    def handoff_db_url(self) -> str:
        """The queue's database as seen from the root namespace."""
        return f"{ROOT_POSTGRES}/{self.database}"

    def host(self, name: str) -> Host:
        return next(host for host in self.hosts if host.name == name)

    def helper_cpu_seconds(self) -> Dict[str, float]:
        return {"haproxy": cpu_seconds(self.helpers.processes[1].pid),
                "forwarder": cpu_seconds(self.helpers.processes[0].pid)}

    def stored_events(self, prefix: str) -> List[Tuple[str, str, Dict[str, Any]]]:
        """(sender, event type, event) of every event of senders starting with `prefix`, in the order stored, from
        the tracker store (PostgreSQL's `events` table, shared by every host)."""
        import json

        import sqlalchemy

        engine = sqlalchemy.create_engine(self.handoff_db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sqlalchemy.text(
                    "SELECT sender_id, type_name, data FROM events WHERE sender_id LIKE :prefix ORDER BY id"),
                    {"prefix": prefix + "%"})
                return [(sender, kind, json.loads(data)) for sender, kind, data in rows]
        finally:
            engine.dispose()


@contextlib.contextmanager
def machine_lock(log: Log) -> Iterator[None]:
    """One run at a time on this machine (fixed names and addresses)."""
    folder = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    with open(folder / "talentbot-multihost.lock", "w") as handle:
        deadline = time.monotonic() + LOCK_WAIT_S
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another multi-host run still holds the lock") from None
                if not told:
                    log("waiting for another multi-host run on this machine to finish...")
                    told = True
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def host_env(base: Dict[str, str], number: int, database: str, token: str, haproxy_port: int,
             workers: int, workdir: Path) -> Dict[str, str]:
    """`talentbot run --production`'s environment for host `number`: its stores at the bridge address, and its own
    events spool in `workdir` (a spool is one host's: the hosts never share one SQLite file), kept there, since no
    events consumer runs here (as `talentbot.wiring.devserver.assistant` does for servers started without one)."""
    ip = host_ip(number)
    return production_env({
        **base,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
        "DB_HOST": GATEWAY, "DB_PORT": str(POSTGRES_PORT), "DB_NAME": database, "DB_USER": "postgres",
        "DB_PASSWORD": "", "DB_LOGIN_DB": "postgres",
        "HANDOFF_DB_URL": f"postgresql://postgres@{GATEWAY}:{POSTGRES_PORT}/{database}",
        "REDIS_HOST": GATEWAY, "REDIS_PORT": str(REDIS_PORT), "REDIS_DB": str(LOCK_REDIS_DB),
        "CONNECTORS_STATE_URL": f"redis://{GATEWAY}:{REDIS_PORT}/{STATE_REDIS_DB}",
        "SANIC_WORKERS": str(workers),
        "RASA_HOST": ip, "RASA_AUTH_TOKEN": token,
        "ACTION_SERVER_URL": f"http://127.0.0.1:{ACTION_PORT}/webhook",
        "RASA_URL": f"http://{GATEWAY}:{haproxy_port}",  # the console and pushes reach Rasa through HAProxy
        "STAFF_CONSOLE_HOST": ip, "STAFF_CONSOLE_PORT": str(CONSOLE_PORT),
        EVENTS_SPOOL_VARIABLE: str(workdir.resolve() / "events-spool.sqlite3"), EVENTS_FORWARD_VARIABLE: "0",
    })


@contextlib.contextmanager
def running_cluster(model: Path, workdir: Path, hosts: int = 3, workers: int = 1,
                    log: Log = print) -> Iterator[Cluster]:
    """Starts `hosts` hosts, the forwarder and HAProxy; waits until every host answers through HAProxy; tears
    everything down on leaving, whatever happened."""
    found = problems()
    if found:
        raise RuntimeError("; ".join(found))
    workdir.mkdir(parents=True, exist_ok=True)
    with machine_lock(log):
        remove_network()  # what a killed earlier run left
        drop_databases()
        database = DATABASE_PREFIX + uuid.uuid4().hex[:8]
        helpers = ServerSet()
        members: List[Host] = []
        try:
            create_network(hosts)
            helpers.start([sys.executable, "-m", "tools.multihost.forward",
                           f"{GATEWAY}:{POSTGRES_PORT}=127.0.0.1:{POSTGRES_PORT}",
                           f"{GATEWAY}:{REDIS_PORT}=127.0.0.1:{REDIS_PORT}"], os.environ, workdir / "forward.log")
            deadline = time.monotonic() + 30
            while not (reachable(GATEWAY, POSTGRES_PORT) and reachable(GATEWAY, REDIS_PORT)):
                if time.monotonic() > deadline or helpers.processes[0].poll() is not None:
                    raise RuntimeError(f"the forwarder did not start; see {workdir / 'forward.log'}")
                time.sleep(0.1)
            prepare_handoff_database(f"{ROOT_POSTGRES}/{database}")  # creates the database, migrates the queue
            token = secrets.token_urlsafe(16)
            haproxy = Haproxy(workdir, free_port(), [f"h{n} {host_ip(n)}" for n in range(1, hosts + 1)], helpers)
            haproxy.start()
            base = {**os.environ, "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24)}
            credentials = workdir / "credentials.yml"
            credentials.write_text(yaml.safe_dump(credentials_for(base), allow_unicode=True), encoding="utf-8")
            for number in range(1, hosts + 1):
                folder = workdir / f"h{number}"
                folder.mkdir(exist_ok=True)
                env = host_env(base, number, database, token, haproxy.port, workers, folder)
                members.append(Host(number, env, model, credentials, folder, console=number == 1))
            started = time.monotonic()
            for host in members:
                host.start()
            with ThreadPoolExecutor(len(members)) as pool:  # waiting only: the processes were started above
                took = list(pool.map(lambda h: h.wait_ready(token), members))
            for host in members:
                haproxy.wait_status(host.name, "UP", timeout_s=30)
            ready = {host.name: round(seconds, 1) for host, seconds in zip(members, took, strict=True)}
            ready["all"] = round(time.monotonic() - started, 1)
            each = ", ".join(f"{host.name} {seconds:.0f} s" for host, seconds in zip(members, took, strict=True))
            log(f"{hosts} hosts ready in {ready['all']:.0f} s ({each})")
            yield Cluster(members, haproxy, helpers, token, database, workdir, ready)
        except BaseException:
            show_logs(workdir, sys.stdout)
            raise
        finally:
            for host in members:
                host.stop()
            helpers.stop()
            remove_network()
            with contextlib.suppress(Exception):
                drop_databases(database)


def show_logs(workdir: Path, out: TextIO, chars: int = 3000) -> None:
    """The end of every log of a failed run."""
    for log in sorted(workdir.rglob("*.log")):
        text = log.read_text(errors="replace")
        if text.strip():
            out.write(f"--- {log.relative_to(workdir)}\n{text[-chars:]}\n")
