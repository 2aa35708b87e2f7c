"""A capacity model from measurements (issue 14): `python -m tools.bench.capacity`, and a step of `make bench`.

Why: a throughput figure says how fast one machine went, not how many hosts some traffic needs or which part gives
out first. This starts the production set-up as `make bench` does (tools/bench/main.py `measure_ours(production=True)`:
PostgreSQL tracker store and handoff queue in a database of its own, Redis lock store, 2 Sanic workers, the action
server, the staff console), sends a fixed mix of messages and counts, per message:

- the CPU time (user + system, /proc) of every process: Rasa (all workers), the action server, the console, the
  PostgreSQL backends of the run's database (and all PostgreSQL processes), Redis, and this load generator;
- PostgreSQL's operations (pg_stat_database, pg_stat_user_tables; pg_stat_statements only if the server already loads
  it), on the run's own database, so nobody else's work is in them;
- Redis's commands: MONITOR, filtered to this run's keys (exact), and INFO commandstats (the whole shared server:
  the background rate of an idle window is taken off, and the report says so).

Then what PostgreSQL and Redis manage on this machine: `pgbench` running a script made of one message's statements
(as counted) in a scratch database, and `redis-benchmark` with the commands counted, in an empty Redis database under a
key prefix of its own. `predict` (pure, tests/tools/bench/test_capacity.py) turns the figures into messages per second
for N hosts of C cores and names the part that saturates first. Writes bench/reports/capacity.json;
docs/capacity.md explains it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from talentbot.core import paths
from talentbot.wiring.devserver import RunningAssistant, assistant, production_env
from tools.bench import load

REPORT = paths.ROOT / "bench" / "reports" / "capacity.json"
MULTIHOST_REPORT = paths.ROOT / "bench" / "reports" / "multihost.json"

DB_NAME = "talentbot_capacity"
"""The run's own PostgreSQL database (dropped before and after): its statistics are the run's alone."""
SCRATCH_DB = "talentbot_capacity_pgbench"
"""pgbench's database, created and dropped by the run."""

CREDENTIALS: Dict[str, Any] = {
    "connectors.rest.RestInput": None,
    "connectors.webchat.SocketIOChannel": {
        "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True},
}
"""The channels `make bench` starts the production set-up with (tools/bench/main.py; a test keeps them equal)."""

HOST_COUNTS = (1, 2, 3, 5, 10)
HOST_SIZES = (2, 8)
USERS = 4
"""Concurrent simulated users: enough to keep both Sanic workers busy, few enough that nobody waits long."""
PASSES = 3
"""Each user goes through every conversation of a kind this many times (1 with --quick)."""
IDLE_WINDOW_S = 5.0
STATS_SETTLE_S = 11.0
"""PostgreSQL 15+ backends flush their statistics at most once a second, an idle one within PGSTAT_IDLE_INTERVAL
(10 s): counters are read this long after the load stops."""
OLD_STATS_SETTLE_S = 2.0
"""Before 15 the statistics collector gets them within PGSTAT_STAT_INTERVAL (0.5 s) of a backend going idle."""

PGBENCH_SECONDS, PGBENCH_CLIENTS = 20, (2, 8)
"""pgbench's run length, and its client counts: 2 as the issue asks, 8 as several hosts' workers would be."""
PGBENCH_SENDERS = 4000
"""pgbench's events table: this many conversations, each a copy of one of the run's (its events, in order)."""
REDIS_BENCH_REQUESTS, REDIS_BENCH_KEYSPACE = 100_000, 100_000
REDIS_BENCH_CLIENTS = 50  # redis-benchmark's default
AVOID_REDIS_DBS = {0, 1, 12, 13}
"""The lock store's and channel state's databases, and `make multihost`'s."""

PG_DATABASE_COLUMNS = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
                       "tup_deleted", "blks_read", "blks_hit")
TABLE_COLUMNS = ("seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd", "n_tup_del")
CPU_GROUPS = ("rasa", "actions", "console", "postgres_ours", "postgres_all", "redis", "load_generator")
"""Whose CPU time is counted: postgres_ours is the run database's backends, postgres_all every PostgreSQL process
(walwriter and checkpointer included, and other users' backends)."""
TIME_PROPORTIONAL = ("cpu.", "redis.", "redis_server.")
"""Counters whose background (idle servers, other users of the shared Redis and machine) grows with time."""
PROBE_COMMANDS = {"info", "monitor", "echo", "ping", "select", "client|setname", "client", "scan", "config|get",
                  "config"}
"""Commands the probe itself sends to Redis, left out of the per-message counts."""

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the message mix --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    text: str
    expect: Optional[str] = None  # a piece of the reply showing the turn went the intended way


Conversation = Tuple[Turn, ...]

MIX: Dict[str, Tuple[Conversation, ...]] = {
    "questions": (  # the question bank's answers, through the action server (as `make bench` sends)
        (Turn("what is the top talent pass scheme?", "TTPS"), Turn("how long does QMAS take to process"),
         Turn("can my wife come with me under TTPS")),
        (Turn("高才通係咩嚟㗎？"), Turn("優才要等幾耐先批？"), Turn("我老婆可唔可以一齊嚟？")),
        (Turn("高才通是什么计划？"), Turn("专才签证审批要多久"), Turn("我可以带孩子去香港吗")),
    ),
    "form": (  # the eligibility form (tests/scale, tests/stories/test_eligibility.yml)
        (Turn("check my eligibility please", "highest degree"),
         Turn("I earn 2.6M, master's from HKU, graduated 2019", "job offer"), Turn("no", "non-local student"),
         Turn("no", "How old are you"), Turn("I'm 34", "Schemes that fit you")),
        (Turn("幫我睇下我申唔申到高才通"), Turn("我年薪八十萬，港大碩士"), Turn("我2019年畢業"), Turn("做咗五年嘢")),
        (Turn("我适合哪个计划"), Turn("年收入250万港币，清华本科，工作五年了")),
    ),
    "smalltalk": (  # answered by Rasa's own responses, no action server
        (Turn("hello"), Turn("thank you"), Turn("bye")),
        (Turn("你好"), Turn("多謝"), Turn("拜拜")),
        (Turn("您好"), Turn("谢谢"), Turn("再见")),
    ),
}
"""Each conversation is one user's, from a new sender id; each kind is measured on its own, the mix is their sum
(per pass: 9 questions, 11 form turns, 9 small talk)."""


async def converse(url: str, kind: str, conversations: Sequence[Conversation], users: int, passes: int,
                   tag: str) -> Dict[str, Any]:
    """`users` users at once, each through every conversation of `kind` `passes` times (starting at a different
    one), each turn sent when the previous reply arrived. Latencies, errors (no 200 or an empty reply) and
    replies without their expected piece."""
    latencies: List[float] = []
    errors = unexpected = 0
    async with httpx.AsyncClient(timeout=load.TIMEOUT_S, limits=httpx.Limits(max_connections=users + 4)) as client:

        async def user(index: int) -> None:
            nonlocal errors, unexpected
            for round_ in range(passes):
                for k in range(len(conversations)):
                    sender = f"{tag}-{kind}-{index}-{round_}-{k}"
                    for turn in conversations[(index + k) % len(conversations)]:
                        start = time.perf_counter()
                        try:
                            reply = await client.post(url, json={"sender": sender, "message": turn.text})
                            reply.raise_for_status()
                            body = reply.json()
                            if not body:
                                raise ValueError("empty reply")
                        except (httpx.HTTPError, ValueError):
                            errors += 1
                            continue
                        latencies.append(time.perf_counter() - start)
                        said = " ".join(str(message.get("text") or "") for message in body)
                        if turn.expect and turn.expect not in said:
                            unexpected += 1

        start = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        wall = time.perf_counter() - start
    result: Dict[str, Any] = load.summarise(f"{kind}, {users} users", latencies, errors, wall).as_dict()
    result["unexpected_replies"] = unexpected
    return result


# --- counting ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    ppid: int
    comm: str
    cpu_s: float  # user + system so far, all threads


def process_table() -> Dict[int, Proc]:
    """Every process's parent, name and CPU time, read once from /proc (one consistent-enough instant)."""
    table: Dict[int, Proc] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = tail.split()
        table[int(stat.parent.name)] = Proc(int(fields[1]), head.split("(", 1)[1],
                                            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def descendants(table: Mapping[int, Proc], pid: int) -> List[int]:
    """`pid` and every process below it (Sanic's workers are the Rasa server's children)."""
    children: Dict[int, List[int]] = {}
    for child, proc in table.items():
        children.setdefault(proc.ppid, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current in table:
            found.append(current)
            todo.extend(children.get(current, []))
    return found


def machine_cpu() -> Tuple[float, float]:
    """(busy, total) CPU seconds of all CPUs so far (/proc/stat): busy is everything but idle and iowait."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])
    return (total - fields[3] - fields[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def loadavg() -> List[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


@dataclass
class Snapshot:
    at: float
    counters: Dict[str, float]  # cumulative: "pg.<column>", "table.<name>.<column>", "redis.<command>", ...
    groups: Dict[str, List[int]]  # CPU group -> its pids at this instant
    processes: Dict[int, Proc]


def delta(before: Snapshot, after: Snapshot) -> Dict[str, float]:
    """What happened between two snapshots: counter differences, and each CPU group's CPU seconds (a process that
    appeared in between counts from zero; one that ended takes its time with it)."""
    result = {"span_s": after.at - before.at}
    for key, value in after.counters.items():
        result[key] = value - before.counters.get(key, 0.0)
    for group, pids in after.groups.items():
        seconds = 0.0
        for pid in pids:
            now, then = after.processes[pid], before.processes.get(pid)
            seconds += now.cpu_s - (then.cpu_s if then is not None and then.comm == now.comm else 0.0)
        result[f"cpu.{group}"] = seconds
    return result


def net(raw: Mapping[str, float], idle: Mapping[str, float]) -> Dict[str, float]:
    """`raw` less the background measured over an idle window `idle` (servers up, no messages). CPU and Redis
    counters grow with time (idle servers, other users of the shared Redis), so their background is scaled to
    `raw`'s span; PostgreSQL's come from the run's own database, where the only background is the probe's own
    queries, once per pair of snapshots, so it is taken off once. Machine-wide figures stay raw. Never below 0."""
    scale = raw["span_s"] / idle["span_s"] if idle.get("span_s") else 0.0
    result: Dict[str, float] = {}
    for key, value in raw.items():
        if key == "span_s" or key.startswith("machine."):
            result[key] = value
            continue
        background = idle.get(key, 0.0) * (scale if key.startswith(TIME_PROPORTIONAL) else 1.0)
        result[key] = max(0.0, value - background)
    return result


def pg_url(env: Mapping[str, str], database: str) -> URL:
    return URL.create("postgresql", username=env["DB_USER"], password=env.get("DB_PASSWORD") or None,
                      host=env["DB_HOST"], port=int(env["DB_PORT"]), database=database)


def pg_engine(env: Mapping[str, str], database: str) -> Engine:
    return sa.create_engine(pg_url(env, database), isolation_level="AUTOCOMMIT", future=True, poolclass=NullPool)


def redis_client(env: Mapping[str, str], db: int = 0, timeout: Optional[float] = 10.0) -> Any:
    import redis

    return redis.Redis(host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]), db=db, socket_timeout=timeout)


def redis_cpu_s(client: Any) -> float:
    """The Redis server's own CPU time so far (INFO cpu: main thread and background threads)."""
    cpu = client.info("cpu")
    return float(cpu.get("used_cpu_sys", 0)) + float(cpu.get("used_cpu_user", 0))


class Probe:
    """Reads every counter at one instant: CPU per process group, PostgreSQL's statistics for the run's database,
    the shared Redis's command counts. Holds one connection to the `postgres` database and one to the run's."""

    def __init__(self, env: Mapping[str, str], running: RunningAssistant, db_name: str) -> None:
        self.running = running
        self.db_name = db_name
        self.admin = pg_engine(env, env.get("DB_LOGIN_DB") or "postgres").connect()
        self.ours = pg_engine(env, db_name).connect()
        self.ours_pid = int(self.ours.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        self.version = int(self.admin.execute(sa.text("SHOW server_version_num")).scalar_one())
        self.redis = redis_client(env)
        self.redis_pid = int(self.redis.info("server").get("process_id") or 0)
        self.statements = pg_stat_statements(self.admin, self.ours)
        self.queries: Dict[str, str] = {}

    @property
    def settle_s(self) -> float:
        return STATS_SETTLE_S if self.version >= 150000 else OLD_STATS_SETTLE_S

    def close(self) -> None:
        self.admin.close()
        self.ours.close()

    def snapshot(self) -> Snapshot:
        if self.version >= 150000:  # this probe's own pending statistics go out at once
            for connection in (self.admin, self.ours):
                connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        counters: Dict[str, float] = {}
        row = self.admin.execute(
            sa.text(f"SELECT {', '.join(PG_DATABASE_COLUMNS)} FROM pg_stat_database WHERE datname = :db"),
            {"db": self.db_name}).mappings().first() or {}
        counters.update({f"pg.{column}": float(value or 0) for column, value in row.items()})
        tables = self.ours.execute(sa.text(
            "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan, "
            "coalesce(idx_tup_fetch, 0) AS idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"))
        for table in tables.mappings():
            for column in TABLE_COLUMNS:
                counters[f"table.{table['relname']}.{column}"] = float(table[column] or 0)
        if self.statements.get("available"):
            rows = self.ours.execute(sa.text(
                "SELECT queryid::text AS id, query, calls, rows FROM pg_stat_statements s "
                "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = :db"), {"db": self.db_name})
            for statement in rows.mappings():
                self.queries.setdefault(statement["id"], " ".join(statement["query"].split())[:300])
                counters[f"stmt.{statement['id']}.calls"] = float(statement["calls"])
                counters[f"stmt.{statement['id']}.rows"] = float(statement["rows"])
        backends = [int(pid) for pid in self.admin.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> :probe"),
            {"db": self.db_name, "probe": self.ours_pid}).scalars()]
        for name, values in self.redis.info("commandstats").items():
            counters[f"redis.{name.removeprefix('cmdstat_')}"] = float(values.get("calls", 0))
        counters["redis_server.cpu_s"] = redis_cpu_s(self.redis)
        counters["machine.busy_s"], counters["machine.total_s"] = machine_cpu()
        table = process_table()
        console = self.running.console
        groups = {
            "rasa": descendants(table, self.running.rasa.pid),
            "actions": descendants(table, self.running.actions.pid),
            "console": descendants(table, console.pid) if console is not None else [],
            "postgres_ours": [pid for pid in backends if pid in table],
            "postgres_all": [pid for pid, proc in table.items() if proc.comm == "postgres"],
            "redis": [self.redis_pid] if self.redis_pid in table else [],
            "load_generator": [os.getpid()],
        }
        return Snapshot(time.monotonic(), counters, groups, table)


def pg_stat_statements(admin: Connection, ours: Connection) -> Dict[str, Any]:
    """Whether pg_stat_statements can be read: only if the server already preloads it (it is never restarted)."""
    preload = str(admin.execute(sa.text("SHOW shared_preload_libraries")).scalar_one() or "")
    if "pg_stat_statements" not in preload:
        return {"available": False, "why": f"not preloaded (shared_preload_libraries = {preload!r})"}
    try:
        ours.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))  # in the run's database only
        ours.execute(sa.text("SELECT 1 FROM pg_stat_statements LIMIT 1"))
    except sa.exc.DBAPIError as error:
        return {"available": False, "why": f"preloaded but not readable: {error.orig}"}
    return {"available": True}


class RedisMonitor:
    """Counts, by command, what Redis receives naming this run's tag (the lock keys carry the sender id), while
    active: exact, whoever else uses the shared server. MONITOR costs Redis time, so it runs in a pass of its own."""

    def __init__(self, env: Mapping[str, str], tag: str, markers: Sequence[str]) -> None:
        self.env, self.tag, self.markers = env, tag, tuple(markers)
        self.stop_word = f"{tag}-stop"
        self.commands: Counter[Tuple[str, str, int]] = Counter()  # (marker, command, db)
        self.set_bytes: List[int] = []
        self.error: Optional[str] = None
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> "RedisMonitor":
        ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def _listen(self, ready: threading.Event) -> None:
        try:
            with redis_client(self.env, timeout=None).monitor() as monitor:
                ready.set()
                while True:
                    seen = monitor.next_command()
                    command = str(seen["command"])
                    if self.stop_word in command:
                        return
                    if self.tag not in command:
                        continue
                    name, _, rest = command.partition(" ")
                    marker = next((m for m in self.markers if m in command), "")
                    self.commands[(marker, name.lower(), int(seen["db"]))] += 1
                    if name.upper() == "SET":
                        self.set_bytes.append(len(rest.partition(" ")[2]))
        except Exception as error:  # MONITOR refused (ACL, renamed command) or the connection failed
            self.error = f"{type(error).__name__}: {error}"
            ready.set()

    def __exit__(self, *exc: object) -> None:
        try:
            redis_client(self.env).echo(self.stop_word)
        finally:
            if self._thread is not None:
                self._thread.join(15)

    def per_message(self, marker: str, messages: int) -> Dict[str, float]:
        counts: Counter[str] = Counter()
        for (seen_marker, command, _db), calls in self.commands.items():
            if seen_marker == marker:
                counts[command] += calls
        return {command: round(calls / max(1, messages), 3) for command, calls in sorted(counts.items())}

    def databases(self) -> List[int]:
        return sorted({db for (_marker, _command, db) in self.commands})


# --- figures per message ----------------------------------------------------------------------------------------------


def per_message(counts: Mapping[str, float], messages: int) -> Dict[str, Any]:
    """Counters divided by the messages answered: CPU ms per process group, PostgreSQL operations, per-table
    operations, Redis commands (commandstats, the shared server's) and what else kept the machine busy."""
    n = max(1, messages)
    cpu_ms = {group: round(1000 * counts.get(f"cpu.{group}", 0.0) / n, 2) for group in CPU_GROUPS}
    attributed = sum(counts.get(f"cpu.{group}", 0.0) for group in CPU_GROUPS if group != "postgres_ours")
    machine_busy = counts.get("machine.busy_s", 0.0)
    pg = {column: round(counts.get(f"pg.{column}", 0.0) / n, 3) for column in PG_DATABASE_COLUMNS}
    pg["transactions"] = round(pg["xact_commit"] + pg["xact_rollback"], 3)
    tables: Dict[str, Dict[str, float]] = {}
    for key, value in counts.items():
        if key.startswith("table.") and value:
            _, table, column = key.split(".", 2)
            tables.setdefault(table, {})[column] = round(value / n, 3)
    redis = {key.split(".", 1)[1]: round(value / n, 3) for key, value in sorted(counts.items())
             if key.startswith("redis.") and value and key.split(".", 1)[1] not in PROBE_COMMANDS}
    statements = {key.split(".")[1]: round(value / n, 3) for key, value in counts.items()
                  if key.startswith("stmt.") and key.endswith(".calls") and value}
    return {
        "messages": messages,
        "cpu_ms": cpu_ms,
        "host_cpu_ms": round(cpu_ms["rasa"] + cpu_ms["actions"], 2),
        "machine_busy_ms": round(1000 * machine_busy / n, 2),
        "other_work_ms": round(1000 * max(0.0, machine_busy - attributed) / n, 2),
        "redis_server_cpu_ms": round(1000 * counts.get("redis_server.cpu_s", 0.0) / n, 3),
        "postgres": pg,
        "tables": tables,
        "redis_commandstats": redis,
        **({"statements": statements} if statements else {}),
    }


def add(counts: Sequence[Mapping[str, float]]) -> Dict[str, float]:
    total: Dict[str, float] = {}
    for one in counts:
        for key, value in one.items():
            total[key] = total.get(key, 0.0) + value
    return total


# --- pgbench ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageStatements:
    """One message's database work, as counted (averages: a conversation's first message does more). The pgbench
    script repeats it, one script run per message.

    Both engines test a pooled connection before lending it (pool_pre_ping): psycopg2's ping is `SELECT 1` in
    autocommit, a committed transaction of its own. So each use of a pooled connection is two transactions: the
    ping, then a lookup or a read (rolled back when the connection goes back to the pool) or a save (committed).
    Traced in the servers (SQLAlchemy's events and the wire) on 2026-12-01: a message is one ticket lookup
    (connectors/handoff_gate.py), one tracker read and one save (count, INSERT); a conversation's first message
    also saves its new, empty tracker (count only)."""

    handoff_lookups: float
    tracker_reads: float
    saves: float  # count of the stored events, INSERT of the new ones, COMMIT
    empty_saves: float  # count only: a new conversation's tracker, saved before the turn
    rows_per_insert: float

    @property
    def checkouts(self) -> float:
        return self.handoff_lookups + self.tracker_reads + self.saves + self.empty_saves

    @property
    def transactions(self) -> float:
        return 2 * self.checkouts


def message_statements(pg: Mapping[str, float], tables: Mapping[str, Mapping[str, float]]) -> MessageStatements:
    """From the counted figures per message: commits c and rollbacks r (each checkout is a ping commit plus a
    rollback or a commit: (c + r) / 2 checkouts, (c - r) / 2 of them saves), scans of the ticket table (one per
    lookup), rows inserted into `events` (by one save per message; the other saves are empty); the remaining
    checkouts are tracker reads."""
    commits, rollbacks = pg.get("xact_commit", 0.0), pg.get("xact_rollback", 0.0)
    checkouts = (commits + rollbacks) / 2
    all_saves = max(0.0, (commits - rollbacks) / 2)
    tickets = tables.get("handoff_tickets", {})
    lookups = tickets.get("seq_scan", 0.0) + tickets.get("idx_scan", 0.0)
    inserted = tables.get("events", {}).get("n_tup_ins", 0.0)
    saves = min(all_saves, 1.0) if inserted else 0.0
    reads = max(0.0, checkouts - all_saves - lookups)
    return MessageStatements(round(lookups, 3), round(reads, 3), round(saves, 3), round(all_saves - saves, 3),
                             round(inserted / saves, 2) if saves else 0.0)


SENDER_MARK = "capacity-sender-id"
SENDER_SQL = "CAST(:sender_n AS VARCHAR)"
"""pgbench's variable for the conversation (`\\set sender_n random(1, N)`; the scratch table's sender ids are
numbers)."""


def _sql(statement: Any) -> str:
    """A statement as PostgreSQL text with literal values, the sender id replaced by pgbench's variable."""
    dialect = postgresql.dialect(paramstyle="named")  # no %-doubling in literals
    dialect._backslash_escapes = False  # standard_conforming_strings, PostgreSQL's default since 9.1
    text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    # one line per statement (a line starting with a backslash would be a pgbench meta-command); the values keep
    # their spaces, and JSON has no raw newlines
    return text.replace(f"'{SENDER_MARK}'", SENDER_SQL).replace("\n", " ").strip() + ";"


def _on_average(name: str, count: float, block: List[str], otherwise: Sequence[str] = ()) -> List[str]:
    """`block` `count` times on average: its whole times, then once more with the fraction as probability
    (pgbench's \\if; `otherwise` in the other case)."""
    whole, part = int(count), round(count - int(count), 3)
    lines = block * whole
    if part >= 0.001:
        lines += [f"\\set {name} random(1, 1000)", f"\\if :{name} <= {round(part * 1000)}", *block]
        lines += ["\\else", *otherwise, "\\endif"] if otherwise else ["\\endif"]
    elif otherwise and whole == 0:
        lines += list(otherwise)
    return lines


def pgbench_script(shape: MessageStatements, rows: Sequence[Mapping[str, Any]], senders: int) -> str:
    """A pgbench script doing one message's statements, each use of a connection as the servers do it (the
    pool's ping `SELECT 1` in autocommit, then BEGIN ... ROLLBACK or COMMIT), built from the same SQLAlchemy
    statements the servers run. The INSERT writes real event rows of the run, `rows_per_insert` of them on average.
    Fractions are drawn at random per run, so the averages per run are the counted ones."""
    from talentbot.core.handoff.models import tickets
    from talentbot.rasa_plugins.tracker_store import SQLTrackerStore, _Statements

    events = SQLTrackerStore.SQLEvent.__table__
    statements = _Statements(events)
    lookup = sa.select(tickets).where(sa.and_(tickets.c.conversation_id == sa.bindparam("sender_id"),
                                              tickets.c.status != "resolved"))
    params = {"sender_id": SENDER_MARK}
    count = _sql(statements.count_latest_session.params(params))
    now = sa.extract("epoch", sa.func.clock_timestamp())

    turn = [row for row in rows if row["type_name"] != "session_started"] or list(rows)  # a turn starts none

    def insert(n: int) -> List[str]:
        if n <= 0 or not turn:
            return []
        values = [{"sender_id": SENDER_MARK, "type_name": row["type_name"], "timestamp": now,
                   "intent_name": row.get("intent_name"), "action_name": row.get("action_name"),
                   "data": row["data"]} for row in (turn[i * len(turn) // n] for i in range(n))]  # spread over all
        return [_sql(events.insert().values(values))]

    few = int(shape.rows_per_insert)
    rows_lines = _on_average("more_rows", shape.rows_per_insert - few, insert(few + 1), insert(few))
    message = [
        *_on_average("lookup", shape.handoff_lookups,
                     ["SELECT 1;", "BEGIN;", _sql(lookup.params(params)), "ROLLBACK;"]),
        *_on_average("read", shape.tracker_reads,
                     ["SELECT 1;", "BEGIN;", _sql(statements.latest_session.params(params)), "ROLLBACK;"])]
    save = _on_average("save", shape.saves, ["SELECT 1;", "BEGIN;", count, *rows_lines, "COMMIT;"])
    # An empty save is a new conversation's first message (the tracker created, then the turn saved): its reads
    # find no rows, which costs the index less than an ongoing conversation's. So with that probability the run is
    # a new conversation's first message (a sender id no run has used: no rows yet), otherwise the next message of
    # one of the table's conversations.
    first = min(1.0, shape.empty_saves)
    lines = [f"\\set sender_n random(1, {senders})"]
    if first >= 0.001:
        lines += ["\\set first random(1, 1000)", f"\\if :first <= {round(first * 1000)}",
                  f"\\set sender_n random({senders + 1}, 2000000000)", *message,
                  "SELECT 1;", "BEGIN;", count, "COMMIT;", *save, "\\else", *message, *save, "\\endif"]
    else:
        lines += [*message, *save]
    return "\n".join(lines) + "\n"


def parse_pgbench(output: str) -> Dict[str, float]:
    """tps (script runs per second, without connection time), average latency, runs done."""
    found: Dict[str, float] = {}
    for key, pattern in (("tps", r"tps = ([\d.]+) \(without initial connection time\)"),
                         ("latency_ms", r"latency average = ([\d.]+) ms"),
                         ("runs", r"number of transactions actually processed: (\d+)"),
                         ("failed", r"number of failed transactions: (\d+)")):
        match = re.search(pattern, output)
        if match:
            found[key] = float(match.group(1))
    return found


def run_pgbench(env: Mapping[str, str], shape: MessageStatements, rows: Sequence[Mapping[str, Any]],
                seconds: int, work: Path) -> Dict[str, Any]:
    """pgbench -n -f (one message per script run) with 2 clients, then 8 (-j 2, -T `seconds` each), in a scratch
    database filled with PGBENCH_SENDERS conversations of the run's own event rows, created here and dropped
    afterwards. Each run also counts what the script did per run (transactions, scans, rows), to set beside what a
    message did."""
    tool = shutil.which("pgbench")
    if tool is None:
        return {"skipped": "pgbench not found (Debian: apt-get install postgresql-client); PostgreSQL not modelled"}
    if not rows:
        return {"skipped": "no event rows of the run to build the script from"}
    from talentbot.core.handoff.models import metadata
    from talentbot.rasa_plugins.tracker_store import SQLTrackerStore

    script = pgbench_script(shape, rows, PGBENCH_SENDERS)
    script_file = work / "message.sql"
    script_file.write_text(script, encoding="utf-8")
    drop_database(env, SCRATCH_DB)
    admin = pg_engine(env, env.get("DB_LOGIN_DB") or "postgres")
    scratch = pg_engine(env, SCRATCH_DB)
    runs: List[Dict[str, Any]] = []
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{SCRATCH_DB}"'))
        fill_started = time.monotonic()
        with scratch.connect() as connection:
            SQLTrackerStore.SQLEvent.__table__.create(connection)
            metadata.create_all(connection)
            connection.execute(sa.text(
                "CREATE TEMPORARY TABLE templates (conversation int, position int, since_start float, "
                "type_name varchar, intent_name varchar, action_name varchar, data text)"))
            connection.execute(sa.text("INSERT INTO templates VALUES (:conversation, :position, :since_start, "
                                       ":type_name, :intent_name, :action_name, :data)"),
                               [{"position": i, **row} for i, row in enumerate(rows)])
            # conversation g is a copy of the run's conversation g % (their number): its events in their order, at
            # their times from its start (which decide what the latest-session queries scan)
            connection.execute(sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "SELECT (g + 1)::text, t.type_name, 1.7e9 + g * 1000 + t.since_start, t.intent_name, t.action_name, "
                "t.data FROM generate_series(0, :senders - 1) g JOIN templates t "
                "ON t.conversation = g % (SELECT count(DISTINCT conversation) FROM templates) ORDER BY g, t.position"),
                {"senders": PGBENCH_SENDERS})
            events_total = int(connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
            connection.execute(sa.text("VACUUM ANALYZE events"))
            size = connection.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size('events'))")).scalar()
        fill_s = time.monotonic() - fill_started
        pg_env = {**os.environ, **({"PGPASSWORD": env["DB_PASSWORD"]} if env.get("DB_PASSWORD") else {})}
        for clients in PGBENCH_CLIENTS:
            command = [tool, "-h", env["DB_HOST"], "-p", env["DB_PORT"], "-U", env["DB_USER"], "-n", "-f",
                       str(script_file), "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
                       "-T", str(seconds), SCRATCH_DB]
            time.sleep(1.0)  # backends that ended (the filling one, the last run's) have flushed their statistics
            with admin.connect() as connection:
                before = scratch_counts(connection)
            table_before = process_table()
            children_before, machine_before = children_cpu(), machine_cpu()
            with CpuSampler("postgres") as postgres:
                done = subprocess.run(command, env=pg_env, capture_output=True, text=True, timeout=seconds + 120)
            machine_after = machine_cpu()
            cpu_pg, cpu_client = postgres.seconds, children_cpu() - children_before
            table_after = process_table()
            time.sleep(1.0)
            with admin.connect() as connection:
                after = scratch_counts(connection)
            figures = parse_pgbench(done.stdout)
            if done.returncode != 0 or "tps" not in figures:
                runs.append({"clients": clients, "error": f"pgbench exited with {done.returncode}: "
                                                          f"{done.stderr.strip()[-500:]}"})
                continue
            n = max(1.0, figures.get("runs", 1.0))
            per_run = {key: round((after[key] - before.get(key, 0.0)) / n, 2) for key in after
                       if after[key] - before.get(key, 0.0)}
            transactions = per_run.get("pg.xact_commit", 0.0) + per_run.get("pg.xact_rollback", 0.0)
            runs.append({
                "clients": clients, "command": " ".join(command[:-1] + ["<scratch database>"]),
                "script_runs_per_s": round(figures["tps"], 1),
                "transactions_per_run": round(transactions, 2),
                "sql_transactions_per_s": round(figures["tps"] * transactions, 1),
                "latency_ms": figures.get("latency_ms"), "failed": figures.get("failed", 0.0),
                "postgres_cpu_ms_per_run": round(1000 * cpu_pg / n, 3),
                "pgbench_cpu_ms_per_run": round(1000 * cpu_client / n, 3),
                "postgres_cores_busy": round(cpu_pg / seconds, 2),
                "machine_cpu_busy": round((machine_after[0] - machine_before[0]) /
                                          max(1e-9, machine_after[1] - machine_before[1]), 2),
                "other_processes": busiest_processes(table_before, table_after, exclude=("postgres", "pgbench")),
                "per_run": per_run,
            })
    finally:
        scratch.dispose()
        admin.dispose()
        drop_database(env, SCRATCH_DB)
    measured = [run for run in runs if "script_runs_per_s" in run]
    best = max(measured, key=lambda run: run["script_runs_per_s"]) if measured else None
    return {
        "script": script if len(script) < 6000 else script[:6000] + "\n... (cut here)",
        "shape": {**asdict(shape), "transactions": round(shape.transactions, 3)},
        "events_table": {"conversations": PGBENCH_SENDERS, "events": events_total, "size": size,
                         "fill_s": round(fill_s, 1)},
        "seconds": seconds, "runs": runs,
        **({"best": {key: best[key] for key in ("clients", "script_runs_per_s", "sql_transactions_per_s")}}
           if best else {"error": "; ".join(run.get("error", "") for run in runs)}),
    }


def scratch_counts(connection: Connection) -> Dict[str, float]:
    """pg_stat_database's transactions and the scratch tables' counters (read from the `postgres` database)."""
    counts = {f"pg.{key}": float(value or 0) for key, value in connection.execute(sa.text(
        "SELECT xact_commit, xact_rollback, tup_inserted, tup_fetched FROM pg_stat_database WHERE datname = :db"),
        {"db": SCRATCH_DB}).mappings().one().items()}
    with pg_engine_like(connection, SCRATCH_DB).connect() as scratch:
        for row in scratch.execute(sa.text(
                "SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins FROM pg_stat_user_tables"
        )).mappings():
            for column in ("seq_scan", "idx_scan", "n_tup_ins"):
                counts[f"table.{row['relname']}.{column}"] = float(row[column] or 0)
    return counts


def pg_engine_like(connection: Connection, database: str) -> Engine:
    return sa.create_engine(connection.engine.url.set(database=database), isolation_level="AUTOCOMMIT",
                            future=True, poolclass=NullPool)


class CpuSampler:
    """CPU seconds of the processes named `comm` between start and stop, sampled while running, so that processes
    ending in between (pgbench's backends end with it) count up to their last sample."""

    def __init__(self, comm: str, interval_s: float = 0.25) -> None:
        self.comm, self.interval_s = comm, interval_s
        self.first: Dict[int, float] = {}
        self.last: Dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid, proc in process_table().items():
            if proc.comm == self.comm:
                self.last[pid] = proc.cpu_s

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> "CpuSampler":
        self._sample()
        self.first = dict(self.last)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drop_database(env: Mapping[str, str], name: str) -> None:
    """Drops one of this tool's own databases (never another: the name is checked)."""
    if not name.startswith(DB_NAME):
        raise ValueError(f"not a capacity database: {name}")
    engine = pg_engine(env, env.get("DB_LOGIN_DB") or "postgres")
    try:
        with engine.connect() as connection:
            force = " WITH (FORCE)" if int(connection.execute(
                sa.text("SHOW server_version_num")).scalar_one()) >= 130000 else ""
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"{force}'))
    finally:
        engine.dispose()


# --- redis-benchmark --------------------------------------------------------------------------------------------------


def benchmark_command(command: str, prefix: str, value: str) -> Optional[List[str]]:
    """redis-benchmark's arguments for one counted command, on random keys under `prefix` (None: not reproducible
    here, e.g. a Lua script)."""
    key = f"{prefix}__rand_int__"
    known = {
        "set": ["SET", key, value], "get": ["GET", key], "del": ["DEL", key], "exists": ["EXISTS", key],
        "expire": ["EXPIRE", key, "60"], "pexpire": ["PEXPIRE", key, "60000"], "incr": ["INCR", key],
        "publish": ["PUBLISH", f"{prefix}channel", value], "setex": ["SETEX", key, "60", value],
    }
    return known.get(command)


def parse_redis_csv(output: str) -> Optional[float]:
    """Requests per second from `redis-benchmark --csv`'s last line ("test","rps",...)."""
    for line in reversed(output.strip().splitlines()):
        fields = [field.strip('"') for field in line.split('","')]
        if len(fields) >= 2:
            try:
                return float(fields[1].strip('"'))
            except ValueError:
                continue
    return None


def scratch_redis_db(client: Any) -> int:
    """An empty Redis database that nothing of ours uses (15 downwards): redis-benchmark's keys go there."""
    try:
        count = int(client.config_get("databases").get("databases", 16))
    except Exception:  # CONFIG may be disabled
        count = 16
    used = {int(name[2:]) for name in client.info("keyspace")}
    for db in range(count - 1, 1, -1):
        if db not in used and db not in AVOID_REDIS_DBS:
            return db
    return count - 1  # all in use: the key prefix alone keeps the keys apart


def run_redis_benchmark(env: Mapping[str, str], calls: Mapping[str, float], value_bytes: int, requests: int,
                        tag: str) -> Dict[str, Any]:
    """redis-benchmark of each counted command (SET first, DEL last) in an empty database under a key prefix of
    this run's, which is then deleted; the shared server is never flushed, stopped or reconfigured."""
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return {"skipped": "redis-benchmark not found (Debian: apt-get install redis-tools); Redis not modelled"}
    client = redis_client(env)
    db = scratch_redis_db(client)
    prefix = f"talentbot-capbench-{tag}:"
    value = "x" * max(1, value_bytes)
    order = sorted((command for command, count in calls.items() if count > 0),
                   key=lambda command: (command != "set", command == "del", command))
    results: Dict[str, Any] = {}
    try:
        for command in order:
            argv = benchmark_command(command, prefix, value)
            if argv is None:
                results[command] = {"skipped": "not reproducible with redis-benchmark"}
                continue
            cpu_before = redis_cpu_s(client)
            done = subprocess.run(
                [tool, "-h", env["REDIS_HOST"], "-p", env["REDIS_PORT"], "--dbnum", str(db), "-c",
                 str(REDIS_BENCH_CLIENTS), "-n", str(requests), "-r", str(REDIS_BENCH_KEYSPACE), "--csv", *argv],
                capture_output=True, text=True, timeout=300)
            cpu_after = redis_cpu_s(client)
            rps = parse_redis_csv(done.stdout)
            results[command] = ({"ops_per_s": round(rps), "redis_cpu_us_per_op": round(
                1e6 * (cpu_after - cpu_before) / requests, 2)} if rps else
                {"error": (done.stderr or done.stdout).strip()[-300:]})
    finally:
        removed = delete_prefix(redis_client(env, db), prefix)
    return {"command": f"redis-benchmark -h {env['REDIS_HOST']} -p {env['REDIS_PORT']} --dbnum {db} -c "
                       f"{REDIS_BENCH_CLIENTS} -n {requests} -r {REDIS_BENCH_KEYSPACE} --csv <COMMAND> "
                       f"{prefix}__rand_int__ [value of {value_bytes} bytes]",
            "db": db, "key_prefix": prefix, "keys_removed_after": removed, "commands": results}


def delete_prefix(client: Any, prefix: str) -> int:
    removed = 0
    batch: List[Any] = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) == 1000:
            removed += int(client.delete(*batch))
            batch = []
    if batch:
        removed += int(client.delete(*batch))
    return removed


# --- the model (pure) -------------------------------------------------------------------------------------------------

HOSTS, POSTGRES, REDIS = "hosts' CPU", "PostgreSQL", "Redis"


@dataclass(frozen=True)
class Figures:
    """What the model takes, all counted: per message of the mix, and what the engines managed here."""

    rasa_cpu_s: float  # the Rasa server, all workers
    actions_cpu_s: float  # the action server
    pg_transactions: float  # PostgreSQL transactions (commits + rollbacks)
    pg_tps: Optional[float]  # SQL transactions/s pgbench reached with the per-message script (None: not measured)
    pg_cores: int  # cores of the machine pgbench ran on
    redis_calls: Mapping[str, float] = field(default_factory=dict)  # command -> calls
    redis_ops_per_s: Mapping[str, float] = field(default_factory=dict)  # command -> redis-benchmark ops/s

    @property
    def host_cpu_s(self) -> float:
        return self.rasa_cpu_s + self.actions_cpu_s


@dataclass(frozen=True)
class Prediction:
    hosts: int
    cores: int
    hosts_msg_s: float  # what the hosts' CPUs carry
    postgres_msg_s: Optional[float]
    redis_msg_s: Optional[float]
    msg_s: float  # the least of the three
    bottleneck: str


def postgres_capacity(figures: Figures, cores: int) -> Optional[float]:
    """Messages/s PostgreSQL carries on one host of `cores` cores: pgbench's transactions/s here, scaled by cores
    (an assumption: linear), divided by the transactions a message causes."""
    if figures.pg_tps is None or figures.pg_transactions <= 0:
        return None
    return figures.pg_tps * cores / figures.pg_cores / figures.pg_transactions


def redis_capacity(figures: Figures) -> Optional[float]:
    """Messages/s one Redis carries: a message costs Σ calls / ops-per-second of each command (a command with no
    benchmark figure is taken at the slowest measured). Redis runs commands on one thread: no scaling with cores."""
    calls = {command: count for command, count in figures.redis_calls.items() if count > 0}
    rates = {command: rate for command, rate in figures.redis_ops_per_s.items() if rate > 0}
    if not calls or not rates:
        return None
    slowest = min(rates.values())
    seconds = sum(count / rates.get(command, slowest) for command, count in calls.items())
    return 1.0 / seconds


def predict(figures: Figures, hosts: int, cores: int, workers: Optional[int] = None) -> Prediction:
    """Messages/s for `hosts` hosts of `cores` cores running Rasa and the action server, PostgreSQL on one host of
    the same size, one Redis: the least of N·C / CPU-seconds per message, PostgreSQL's and Redis's capacity. With
    `workers` (Sanic workers per host), a worker uses at most one core for Rasa (Python)."""
    on_hosts = hosts * cores / figures.host_cpu_s
    if workers is not None and figures.rasa_cpu_s > 0:
        on_hosts = min(on_hosts, hosts * workers / figures.rasa_cpu_s)
    limits = {HOSTS: on_hosts}
    pg = postgres_capacity(figures, cores)
    if pg is not None:
        limits[POSTGRES] = pg
    rd = redis_capacity(figures)
    if rd is not None:
        limits[REDIS] = rd
    bottleneck = min(limits, key=lambda name: limits[name])
    return Prediction(hosts, cores, round(on_hosts, 1), None if pg is None else round(pg, 1),
                      None if rd is None else round(rd, 1), round(limits[bottleneck], 1), bottleneck)


def predictions(figures: Figures, host_counts: Sequence[int] = HOST_COUNTS,
                sizes: Sequence[int] = HOST_SIZES) -> List[Dict[str, Any]]:
    return [asdict(predict(figures, n, cores)) for cores in sizes for n in host_counts]


def crossover(figures: Figures, cores: int) -> Optional[Dict[str, Any]]:
    """From how many hosts of `cores` cores on the hosts stop being what saturates first, and what does then
    (None: neither engine was measured)."""
    engines = {name: capacity for name, capacity in ((POSTGRES, postgres_capacity(figures, cores)),
                                                     (REDIS, redis_capacity(figures))) if capacity is not None}
    if not engines:
        return None
    name = min(engines, key=lambda key: engines[key])
    per_host = cores / figures.host_cpu_s
    return {"cores": cores, "hosts": math.floor(engines[name] / per_host) + 1, "then": name,
            "at_msg_s": round(engines[name], 1)}


def compare_multihost(figures: Figures, machine_cpu_s: float, report: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The model against `make multihost`'s closed-loop runs (saturated: 16 senders). Its hosts are network
    namespaces sharing this machine's cores, so besides N separate 2-core hosts the model is also asked for one
    machine: its cores over everything a message costs on it (`machine_cpu_s`: hosts, PostgreSQL, Redis, load
    generator), and each host's single Sanic worker using at most one core for Rasa."""
    cores = int((report.get("machine") or {}).get("cpus") or figures.pg_cores)
    workers = int(report.get("workers_per_host") or 1)
    rows = []
    for run in report.get("throughput") or []:
        if "senders" not in run and "closed loop" not in str(run.get("mode", "")):
            continue
        n = int(run["hosts"])
        shared = cores / machine_cpu_s if machine_cpu_s > 0 else math.inf
        if figures.rasa_cpu_s > 0:
            shared = min(shared, n * workers / figures.rasa_cpu_s)
        rows.append({
            "hosts": n, "measured_msg_s": run.get("throughput"),
            "measured_host_cpu_ms": run.get("cpu_ms_per_message"),
            "predicted_msg_s_separate_2_core_hosts": predict(figures, n, 2).msg_s,
            "predicted_msg_s_on_this_machine": round(shared, 1),
        })
    return rows


# --- the run ----------------------------------------------------------------------------------------------------------


def code_state() -> Dict[str, Any]:
    """Which code was measured: the commit, and how many files differed from it (read-only git commands)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=paths.ROOT, capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    import yaml

    endpoints = yaml.safe_load(paths.ENDPOINTS_PRODUCTION.read_text(encoding="utf-8")) or {}
    return {"commit": git("rev-parse", "HEAD") or None, "files_changed_since": len(changed),
            "production_endpoints": {name: (value or {}).get("type") if isinstance(value, dict) else value
                                     for name, value in endpoints.items()}}


def machine_info() -> Dict[str, Any]:
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gib": round(int(memory) / 2**20, 1),
            "platform": platform.platform(), "python": platform.python_version(), "loadavg_start": loadavg()}


def busiest_processes(before: Mapping[int, Proc], after: Mapping[int, Proc], skip: Collection[int] = (),
                      exclude: Collection[str] = ("postgres",), top: int = 6) -> List[Dict[str, Any]]:
    """The processes (by name) that used the most CPU between two process tables, but for `skip` (pids) and
    `exclude` (names): other work on the machine, e.g. other test runs."""
    used: Dict[str, float] = {}
    for pid, proc in after.items():
        if pid in skip or proc.comm in exclude:
            continue
        then = before.get(pid)
        spent = proc.cpu_s - (then.cpu_s if then is not None and then.comm == proc.comm else 0.0)
        used[proc.comm] = used.get(proc.comm, 0.0) + spent
    busiest = sorted(used.items(), key=lambda item: -item[1])[:top]
    return [{"process": name, "cpu_s": round(seconds, 1)} for name, seconds in busiest if seconds > 0]


def busiest_others(before: Snapshot, after: Snapshot) -> List[Dict[str, Any]]:
    """`busiest_processes` outside the measured set, while the messages were measured."""
    ours = {pid for snapshot in (before, after) for pids in snapshot.groups.values() for pid in pids}
    return busiest_processes(before.processes, after.processes, skip=ours)


def measure_assistant(model: Path, env: Mapping[str, str], quick: bool, work: Path, tag: str) -> Dict[str, Any]:
    """The production set-up under the mix: an idle window, a MONITOR pass, then each kind of message measured."""
    passes = 1 if quick else PASSES
    report: Dict[str, Any] = {}
    with assistant(model, work / "capacity", paths.ENDPOINTS_PRODUCTION, CREDENTIALS, env=env) as running:
        url = f"{running.url}/webhooks/rest/webhook"
        print("   warming up...", flush=True)
        for kind, conversations in MIX.items():
            asyncio.run(converse(url, kind, conversations, 2, 1, f"{tag}-warm"))
        probe = Probe(env, running, DB_NAME)
        try:
            report["setup"] = {
                "database": DB_NAME, "sanic_workers": int(env.get("SANIC_WORKERS", "1")),
                "redis_lock_store_db": int(env["REDIS_DB"]), "connectors_state_url": env["CONNECTORS_STATE_URL"],
                "postgres_version": probe.version, "pg_stat_statements": probe.statements,
                "users": USERS, "passes": passes, "stats_settle_s": probe.settle_s,
                "redis_ops_per_s_at_start": probe.redis.info("stats").get("instantaneous_ops_per_sec"),
            }
            time.sleep(probe.settle_s)  # the warm-up's statistics are flushed
            print(f"   idle window ({IDLE_WINDOW_S + probe.settle_s:.0f} s, background rates)...", flush=True)
            first = probe.snapshot()
            time.sleep(IDLE_WINDOW_S + probe.settle_s)
            idle_end = probe.snapshot()
            idle = delta(first, idle_end)
            report["background"] = {"span_s": round(idle["span_s"], 1), "loadavg": loadavg(),
                                    "per_s": {key: round(value / idle["span_s"], 4) for key, value in idle.items()
                                              if value and key.startswith(TIME_PROPORTIONAL + ("machine.",))},
                                    "postgres_probe_delta": {key: value for key, value in idle.items()
                                                             if value and key.startswith(("pg.", "table."))}}
            print("   Redis commands per message (MONITOR, this run's keys only)...", flush=True)
            report["redis_monitor"] = monitor_pass(env, url, tag, passes=1)
            time.sleep(probe.settle_s)
            phases: Dict[str, Any] = {}
            before = start = probe.snapshot()
            for kind, conversations in MIX.items():
                print(f"   {kind}: {USERS} users x {passes} pass(es)...", flush=True)
                machine_before = machine_cpu()
                result = asyncio.run(converse(url, kind, conversations, USERS, passes, f"{tag}-run"))
                machine_after = machine_cpu()
                loadavg_after_load = loadavg()
                time.sleep(probe.settle_s)
                after = probe.snapshot()
                raw = delta(before, after)
                # the machine while the messages were sent, not in the settling time after (others work on)
                raw["machine.busy_s"], raw["machine.total_s"] = (machine_after[0] - machine_before[0],
                                                                 machine_after[1] - machine_before[1])
                answered = result["requests"] - result["errors"]
                phases[kind] = {"load": result, "loadavg": loadavg_after_load,
                                "machine_cpu_busy": round(raw["machine.busy_s"] / max(1e-9, raw["machine.total_s"]), 2),
                                "raw": raw, "net": net(raw, idle),
                                "per_message": per_message(net(raw, idle), answered)}
                before = after
            report["other_processes"] = busiest_others(start, before)
            report["phases"] = phases
            report["statement_texts"] = probe.queries
            report["event_rows"] = event_rows(probe.ours, f"{tag}-run-%")
        finally:
            probe.close()
    return report


def monitor_pass(env: Mapping[str, str], url: str, tag: str, passes: int) -> Dict[str, Any]:
    """One pass of each kind with MONITOR on: Redis commands per message, exact (this run's keys only)."""
    monitor = RedisMonitor(env, tag, [f"{tag}-monitor-{kind}-" for kind in MIX])
    messages: Dict[str, int] = {}
    with monitor:
        if monitor.error:
            return {"error": monitor.error}
        for kind, conversations in MIX.items():
            result = asyncio.run(converse(url, kind, conversations, USERS, passes, f"{tag}-monitor"))
            messages[kind] = result["requests"] - result["errors"]
    if monitor.error:
        return {"error": monitor.error}
    by_kind = {kind: monitor.per_message(f"{tag}-monitor-{kind}-", messages[kind]) for kind in MIX}
    total = sum(messages.values())
    mix: Dict[str, float] = {}
    for kind, calls in by_kind.items():
        for command, per in calls.items():
            mix[command] = mix.get(command, 0.0) + per * messages[kind] / max(1, total)
    return {"messages": messages, "by_kind": by_kind, "mix": {k: round(v, 3) for k, v in sorted(mix.items())},
            "databases": monitor.databases(),
            "set_value_bytes": round(sum(monitor.set_bytes) / len(monitor.set_bytes)) if monitor.set_bytes else 0}


def event_rows(connection: Connection, pattern: str, conversations: int = 500) -> Dict[str, Any]:
    """Whole conversations of the run, their events in order (pgbench's table is made of them, so that its
    conversations have the real structure: one session, its events after `session_started`), and the events' size."""
    rows = [dict(row) for row in connection.execute(sa.text(
        "SELECT dense_rank() OVER (ORDER BY sender_id) - 1 AS conversation, "
        "timestamp - min(timestamp) OVER (PARTITION BY sender_id) AS since_start, type_name, intent_name, "
        "action_name, data FROM events WHERE sender_id IN (SELECT DISTINCT sender_id FROM events WHERE sender_id "
        "LIKE :p ORDER BY sender_id LIMIT :n) ORDER BY sender_id, id"),
        {"p": pattern, "n": conversations}).mappings()]
    stats = connection.execute(sa.text(
        "SELECT count(*) AS events, count(DISTINCT sender_id) AS conversations, avg(length(data)) AS data_bytes "
        "FROM events WHERE sender_id LIKE :p"), {"p": pattern}).mappings().one()
    return {"events": int(stats["events"]), "conversations": int(stats["conversations"]),
            "average_data_bytes": round(float(stats["data_bytes"] or 0)), "sample": rows}


def mix_figures(report: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, float]]:
    """The whole mix per message (every kind's net counters added up) and the counters themselves."""
    phases = report["phases"]
    counts = add([phase["net"] for phase in phases.values()])
    messages = sum(phase["per_message"]["messages"] for phase in phases.values())
    return per_message(counts, messages), counts


def model_section(figures: Figures, mix: Mapping[str, Any], redis_bench: Mapping[str, Any],
                  multihost: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    cpu = mix["cpu_ms"]
    # Redis's CPU per message from the commands counted and what each cost Redis under redis-benchmark: on the shared
    # server, its own CPU counter carries everyone's commands
    per_op = {command: result.get("redis_cpu_us_per_op") for command, result in
              (redis_bench.get("commands") or {}).items() if isinstance(result, dict)}
    known = [cost for cost in per_op.values() if cost]
    redis_ms = (sum(count * (per_op.get(command) or max(known)) for command, count in figures.redis_calls.items())
                / 1000 if known else None)
    machine_ms = (cpu["rasa"] + cpu["actions"] + cpu["console"] + cpu["postgres_ours"] + (redis_ms or 0.0)
                  + cpu["load_generator"])
    section: Dict[str, Any] = {
        "figures": {**asdict(figures), "host_cpu_s": round(figures.host_cpu_s, 5)},
        "assumptions": [
            "each host runs the Rasa server (as many Sanic workers as cores) and the action server, and nothing else",
            "hosts can use all their cores: messages/s = N x C / (Rasa + action server CPU-seconds per message)",
            f"PostgreSQL on one host of the same size as a Rasa host; pgbench's best figure here ({figures.pg_cores} "
            "cores, shared with pgbench itself) scaled linearly with cores",
            "one Redis (commands run on one thread: no scaling with cores); redis-benchmark's rates per command",
            "the console, the load balancer and the network are not in the model; no headroom is kept (plan for "
            "~70 % of the figures)",
        ],
        "predictions": predictions(figures),
        "crossover": [found for found in (crossover(figures, cores) for cores in HOST_SIZES) if found],
        "cross_checks": {
            "postgres_cpu_ms_per_message": cpu["postgres_ours"],
            "postgres_msg_s_per_core_if_cpu_bound": round(1000 / cpu["postgres_ours"], 1) if cpu["postgres_ours"]
            else None,
            "redis_cpu_ms_per_message_from_ops": None if redis_ms is None else round(redis_ms, 4),
            "redis_msg_s_if_cpu_bound": round(1000 / redis_ms, 1) if redis_ms else None,
        },
        "machine_cpu_ms_per_message": round(machine_ms, 2),
    }
    if multihost is not None:
        section["multihost"] = compare_multihost(figures, machine_ms / 1000, multihost)
    return section


def build_figures(mix: Mapping[str, Any], pgbench: Mapping[str, Any], redis_calls: Mapping[str, float],
                  redis_bench: Mapping[str, Any]) -> Figures:
    rates = {command: float(result["ops_per_s"]) for command, result in (redis_bench.get("commands") or {}).items()
             if isinstance(result, dict) and result.get("ops_per_s")}
    return Figures(
        rasa_cpu_s=mix["cpu_ms"]["rasa"] / 1000, actions_cpu_s=mix["cpu_ms"]["actions"] / 1000,
        pg_transactions=mix["postgres"]["transactions"],
        pg_tps=(pgbench.get("best") or {}).get("sql_transactions_per_s"),
        pg_cores=os.cpu_count() or 1, redis_calls=dict(redis_calls), redis_ops_per_s=rates)


def summarise(report: Mapping[str, Any]) -> Dict[str, Any]:
    """The lines `make bench` and this tool print."""
    lines: Dict[str, Any] = {}
    mix = report.get("per_message")
    if mix:
        cpu = mix["cpu_ms"]
        redis_ms = ((report.get("model") or {}).get("cross_checks") or {}).get("redis_cpu_ms_per_message_from_ops")
        lines["CPU ms/msg: Rasa / actions / console / PG (ours) / Redis (ops) / load gen."] = (
            f"{cpu['rasa']} / {cpu['actions']} / {cpu['console']} / {cpu['postgres_ours']} / {_cell(redis_ms)} / "
            f"{cpu['load_generator']}")
        pg = mix["postgres"]
        lines["PostgreSQL per msg: transactions / rows inserted / rows read"] = (
            f"{pg['transactions']} / {pg['tup_inserted']} / {round(pg['tup_returned'] + pg['tup_fetched'], 1)}")
    calls = report.get("redis_calls_per_message")
    if calls:
        lines["Redis commands per msg"] = ", ".join(f"{command} {count}" for command, count in calls.items())
    pgbench = report.get("pgbench") or {}
    lines["pgbench: message scripts/s (SQL transactions/s), by clients"] = "; ".join(
        f"{run['clients']}: {run['script_runs_per_s']} ({run['sql_transactions_per_s']})"
        for run in pgbench.get("runs", []) if "script_runs_per_s" in run) or pgbench.get("skipped") or pgbench.get(
        "error")
    bench = report.get("redis_benchmark") or {}
    lines["redis-benchmark ops/s"] = (", ".join(
        f"{command} {result.get('ops_per_s', '-')}" for command, result in bench["commands"].items())
        if "commands" in bench else bench.get("skipped") or bench.get("error"))
    for found in (report.get("model") or {}).get("crossover", []):
        lines[f"model: {found['cores']}-core hosts, the bottleneck moves"] = (
            f"to {found['then']} from {found['hosts']} hosts ({found['at_msg_s']:g} msg/s)")
    for row in (report.get("model") or {}).get("predictions", []):
        key = f"model: {row['cores']}-core hosts, msg/s (bottleneck)"
        lines[key] = (lines.get(key, "") + ("; " if key in lines else "") +
                      f"{row['hosts']}: {row['msg_s']:g} ({row['bottleneck']})")
    if report.get("load"):
        lines["machine load during the run (loadavg, busy)"] = report["load"]
    return lines


def run(model: Path, quick: bool, work: Path, out: Path = REPORT) -> Dict[str, Any]:
    """Measures, models, writes `out`; returns the report."""
    env = production_env({**os.environ, "DB_NAME": DB_NAME})
    tag = f"cap{secrets.token_hex(3)}"
    texts = {kind: [[turn.text for turn in conversation] for conversation in conversations]
             for kind, conversations in MIX.items()}
    report: Dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(),
                              "quick": quick, "tag": tag, "code": code_state(), "mix": texts}
    try:
        drop_database(env, DB_NAME)
        report.update(measure_assistant(model, env, quick, work, tag))
        mix, _ = mix_figures(report)
        report["per_message"] = mix
        monitor = report.get("redis_monitor") or {}
        if monitor.get("mix"):
            report["redis_calls_per_message"] = monitor["mix"]
            report["redis_calls_source"] = "MONITOR, commands naming this run's conversations"
        else:
            report["redis_calls_per_message"] = mix["redis_commandstats"]
            report["redis_calls_source"] = "INFO commandstats less the idle window's rate (MONITOR: unavailable)"
        rows = report["event_rows"].pop("sample")
        shape = message_statements(mix["postgres"], mix["tables"])
        print(f"   pgbench: one message's statements ({shape.transactions:.2f} transactions) per script run, "
              f"{' then '.join(map(str, PGBENCH_CLIENTS))} clients...", flush=True)
        report["pgbench"] = run_pgbench(env, shape, rows, 8 if quick else PGBENCH_SECONDS, work)
        print("   redis-benchmark of the counted commands...", flush=True)
        value_bytes = int(monitor.get("set_value_bytes") or 100)
        report["redis_benchmark"] = run_redis_benchmark(env, report["redis_calls_per_message"], value_bytes,
                                                        20_000 if quick else REDIS_BENCH_REQUESTS, tag)
        figures = build_figures(mix, report["pgbench"], report["redis_calls_per_message"], report["redis_benchmark"])
        multihost = json.loads(MULTIHOST_REPORT.read_text(encoding="utf-8")) if MULTIHOST_REPORT.exists() else None
        report["model"] = model_section(figures, mix, report["redis_benchmark"], multihost)
    finally:
        try:
            drop_database(env, DB_NAME)
        except Exception as error:  # the report is still written
            report["cleanup_error"] = f"{type(error).__name__}: {error}"
        report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        report["machine"]["loadavg_end"] = loadavg()
        busy = [phase["machine_cpu_busy"] for phase in (report.get("phases") or {}).values()]
        report["load"] = (f"loadavg {report['machine']['loadavg_start'][0]} at start, "
                          f"{report['machine']['loadavg_end'][0]} at end; CPUs "
                          f"{round(100 * max(busy)) if busy else '?'} % busy at most while measuring")
        report["summary"] = summarise(report)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def step(model: Path, quick: bool, work: Path) -> Dict[str, Any]:
    """`make bench`'s step: `run`, never raising (the bench's other figures must still be written)."""
    try:
        return run(model, quick, work)
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        return {"error": message, "summary": {"failed": message}}


def print_summary(report: Mapping[str, Any]) -> None:
    for key, value in (report.get("summary") or {}).items():
        print(f"{key:<66} {value}")
    model = report.get("model") or {}
    if model.get("predictions"):
        print(f"\n{'hosts':>5} {'cores':>5} {'hosts msg/s':>12} {'PG msg/s':>9} {'Redis msg/s':>12} {'msg/s':>8}  "
              "saturates first")
        for row in model["predictions"]:
            print(f"{row['hosts']:>5} {row['cores']:>5} {row['hosts_msg_s']:>12} {row['postgres_msg_s'] or '-':>9} "
                  f"{row['redis_msg_s'] or '-':>12} {row['msg_s']:>8}  {row['bottleneck']}")
    for row in model.get("multihost") or []:
        print(f"multihost, {row['hosts']} host(s): measured {row['measured_msg_s']} msg/s; predicted "
              f"{row['predicted_msg_s_on_this_machine']} on this machine, "
              f"{row['predicted_msg_s_separate_2_core_hosts']} on separate 2-core hosts")


def _cell(value: Any) -> str:
    return "–" if value is None or value == "" else f"{value:g}" if isinstance(value, float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)]


def markdown(report: Mapping[str, Any]) -> str:
    """docs/capacity.md's tables from a report (`--markdown`), so the document's figures are printed, not copied."""
    kinds = list(report.get("phases") or {})
    columns = [*kinds, "mix"]
    figures = {**{kind: report["phases"][kind]["per_message"] for kind in kinds}, "mix": report.get("per_message")}
    out: List[str] = []
    machine = report.get("machine", {})
    code = report.get("code") or {}
    out += [f"Run {report.get('started')} – {report.get('finished')}: {machine.get('cpus')} × "
            f"{machine.get('cpu_model')}, {machine.get('memory_gib')} GiB; {report.get('load')}. Code: commit "
            f"{code.get('commit')} with {code.get('files_changed_since')} files changed since.", ""]
    out += ["Load of each kind (closed loop):", ""]
    out += _table(["kind", "messages", "errors", "unexpected replies", "msg/s", "p50 ms", "p95 ms", "loadavg after",
                   "CPUs busy"],
                  [[kind, phase["load"]["requests"], phase["load"]["errors"], phase["load"]["unexpected_replies"],
                    phase["load"]["throughput"], phase["load"]["p50_ms"], phase["load"]["p95_ms"], phase["loadavg"][0],
                    f"{round(100 * phase['machine_cpu_busy'])} %"] for kind, phase in report["phases"].items()])
    names = {"rasa": "Rasa server (2 Sanic workers)", "actions": "action server", "console": "staff console",
             "postgres_ours": "PostgreSQL: the run database's backends",
             "postgres_all": "PostgreSQL: all processes (shared: less others' idle-window rate)",
             "redis": "Redis server, /proc (shared: less others' idle-window rate)",
             "load_generator": "load generator (this tool)"}
    out += ["", "CPU time per message (ms, user + system):", ""]
    out += _table(["process", *columns],
                  [[names[group], *(figures[c]["cpu_ms"][group] for c in columns)] for group in CPU_GROUPS]
                  + [["Redis server, from the commands counted × redis-benchmark's CPU per command",
                      *([None] * len(kinds)),
                      ((report.get("model") or {}).get("cross_checks") or {}).get(
                          "redis_cpu_ms_per_message_from_ops")],
                     ["**Rasa + action server (a host's share)**", *(figures[c]["host_cpu_ms"] for c in columns)],
                     ["whole machine, busy", *(figures[c]["machine_busy_ms"] for c in columns)],
                     ["of which other work (not ours)", *(figures[c]["other_work_ms"] for c in columns)]])
    rows: List[List[Any]] = []
    for label, key in (("transactions (commits + rollbacks)", "transactions"), ("commits", "xact_commit"),
                       ("rollbacks", "xact_rollback"), ("rows inserted", "tup_inserted"),
                       ("rows returned (scans)", "tup_returned"), ("rows fetched (by index)", "tup_fetched"),
                       ("buffer hits", "blks_hit"), ("blocks read", "blks_read")):
        rows.append([label, *(figures[c]["postgres"][key] for c in columns)])
    for table, column in (("events", "idx_scan"), ("events", "n_tup_ins"), ("handoff_tickets", "idx_scan"),
                          ("handoff_tickets", "seq_scan")):
        rows.append([f"`{table}`: {column}", *(figures[c]["tables"].get(table, {}).get(column, 0) for c in columns)])
    out += ["", "PostgreSQL operations per message (pg_stat_database, pg_stat_user_tables):", ""]
    out += _table(["operation", *columns], rows)
    monitor = report.get("redis_monitor") or {}
    if monitor.get("by_kind"):
        commands = sorted({command for calls in monitor["by_kind"].values() for command in calls})
        out += ["", f"Redis commands per message (MONITOR, this run's keys; databases {monitor.get('databases')}; "
                    f"SET values {monitor.get('set_value_bytes')} bytes):", ""]
        out += _table(["command", *columns, "commandstats (mix)"],
                      [[command, *(monitor["by_kind"][kind].get(command, 0) for kind in kinds),
                        monitor["mix"].get(command, 0), figures["mix"]["redis_commandstats"].get(command, 0)]
                       for command in commands])
    pgbench = report.get("pgbench") or {}
    if pgbench.get("runs"):
        shape = pgbench["shape"]
        out += ["", f"pgbench, one message per script run ({shape['handoff_lookups']} lookup, {shape['tracker_reads']} "
                    f"read, {shape['saves']} save of {shape['rows_per_insert']} rows, {shape['empty_saves']} empty "
                    f"save; {shape['transactions']} transactions), events table of "
                    f"{pgbench['events_table']['events']} rows ({pgbench['events_table']['size']}), "
                    f"{pgbench['seconds']} s each:", ""]
        out += _table(["clients", "scripts/s", "transactions/run", "SQL transactions/s", "latency ms",
                       "PostgreSQL CPU ms/run", "PostgreSQL cores busy", "CPUs busy", "`events` index scans/run",
                       "rows inserted/run", "rows fetched/run"],
                      [[run["clients"], run.get("script_runs_per_s"), run.get("transactions_per_run"),
                        run.get("sql_transactions_per_s"), run.get("latency_ms"), run.get("postgres_cpu_ms_per_run"),
                        run.get("postgres_cores_busy"),
                        f"{round(100 * run['machine_cpu_busy'])} %" if "machine_cpu_busy" in run else None,
                        (run.get("per_run") or {}).get("table.events.idx_scan"),
                        (run.get("per_run") or {}).get("table.events.n_tup_ins"),
                        (run.get("per_run") or {}).get("pg.tup_fetched")] for run in pgbench["runs"]])
    bench = report.get("redis_benchmark") or {}
    if bench.get("commands"):
        out += ["", f"redis-benchmark (`{bench['command']}`):", ""]
        out += _table(["command", "ops/s", "Redis CPU µs/op"],
                      [[command, result.get("ops_per_s"), result.get("redis_cpu_us_per_op")]
                       for command, result in bench["commands"].items()])
    model = report.get("model") or {}
    if model.get("predictions"):
        out += ["", "Predicted messages per second (the least of the three; the part that saturates first):", ""]
        out += _table(["hosts × cores", "hosts' CPU", "PostgreSQL", "Redis", "**msg/s**", "saturates first"],
                      [[f"{row['hosts']} × {row['cores']}", row["hosts_msg_s"], row["postgres_msg_s"],
                        row["redis_msg_s"], f"**{_cell(row['msg_s'])}**", row["bottleneck"]]
                       for row in model["predictions"]])
    for found in model.get("crossover") or []:
        out += ["", f"With {found['cores']}-core hosts, {found['then']} saturates first from {found['hosts']} hosts on "
                    f"(at {_cell(found['at_msg_s'])} msg/s)."]
    if model.get("multihost"):
        out += ["", "Against `make multihost` (closed loop, 16 senders):", ""]
        out += _table(["hosts", "measured msg/s", "measured host CPU ms/msg", "predicted on this machine",
                       "predicted, separate 2-core hosts"],
                      [[row["hosts"], row["measured_msg_s"], row["measured_host_cpu_ms"],
                        row["predicted_msg_s_on_this_machine"], row["predicted_msg_s_separate_2_core_hosts"]]
                       for row in model["multihost"]])
    return "\n".join(out) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.capacity",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one pass per kind, shorter engine runs (a smoke run)")
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--markdown", type=Path, metavar="REPORT",
                        help="measure nothing: print docs/capacity.md's tables from a report")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))), end="")
        return 0
    from talentbot.wiring.training import ensure_model

    model = ensure_model()
    work = Path(tempfile.mkdtemp(prefix="talentbot-capacity-"))
    try:
        report = run(model, args.quick, work, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print_summary(report)
    print(f"\nreport: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
