"""What conversation events cost the assistant: latency and throughput through the REST channel with and without the
event broker, in the embedded set-up (the spool read by the consumer) and the production set-up (RabbitMQ).

    .venv/bin/python -m tools.bench.events_cost [--quick] [--blocks N] [--setups embedded,production]
        [--set event_types=all] [--set batch=false] [--model FILE] [--out FILE]

For each set-up, two assistants run side by side (talentbot.wiring.devserver.assistant): one without the broker, one
with it and its consumer, as `talentbot run` starts them; production uses the machine's PostgreSQL, Redis and
RabbitMQ (127.0.0.1), databases and a queue of the run's own, removed afterwards. They are loaded in turn, never
together, in blocks: one sender (latency without queueing), then 16 senders at once (throughput), the broker's
assistant then waits until its consumer has stored every message, so none of its work spills into the other's block.

Why blocks and not one long run each: on a small machine the difference sought (a few ms, a few %) is smaller than the
drift over minutes (other work, the CPU's clock, the databases' caches). Blocks alternate in mirrored pairs (off on,
on off, ...), so a drift weighs on both alike; the report gives the difference over all blocks (p95 of every
one-sender latency pooled, throughput of all 16-sender blocks) and the spread of the block pairs' differences. Each
block also reports the CPU time per message of each process (/proc: the Rasa server and its workers, the action
server, the consumer, RabbitMQ's beam.smp, PostgreSQL's processes; the last two are shared with whatever else runs
on the machine), which says where the cost goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import httpx
import sqlalchemy
import yaml

from talentbot.core import paths
from talentbot.core.analytics.models import messages
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import EVENTS, RunningAssistant, assistant, production_env
from talentbot.wiring.training import model_path
from tools.bench import load

TEXTS = ["hello", "What is TTPS?", "How much do I need to earn for TTPS?", "thank you", "你们好", "高才通係咩？",
         "優才計劃要幾多分？", "可以带家人来香港吗？"]
BROKER = {"type": "talentbot.rasa_plugins.event_broker.SpooledEventBroker"}
CREDENTIALS = {"connectors.rest.RestInput": None}
SETUPS = ("embedded", "production")
BLOCKS = 10
SEQUENTIAL, SENDERS, CONCURRENT = 60, 16, 12
"""Per block: messages of the one sender, then the 16 senders' messages each (half with --quick)."""
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STORED_WAIT_S = 120.0


def production_endpoints(broker: bool, settings: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """bot/endpoints.production.yml as shipped (`settings` changed in its event_broker), or without the broker."""
    content = yaml.safe_load(paths.ENDPOINTS_PRODUCTION.read_text(encoding="utf-8"))
    content.pop("action_endpoint", None)  # assistant() points it at its own action server
    if not broker:
        content.pop("event_broker", None)
    else:
        content["event_broker"].update(settings or {})
    return content


def embedded_endpoints(work: Path, broker: bool, settings: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """bot/endpoints.yml's broker (`settings` changed) on a tracker store of the run's own."""
    endpoints: Dict[str, Any] = {"tracker_store": sqlite_endpoint(work / "t.db")}
    if broker:
        shipped = yaml.safe_load(paths.ENDPOINTS.read_text(encoding="utf-8")).get("event_broker") or BROKER
        endpoints["event_broker"] = {**shipped, **(settings or {})}
    return endpoints


def schedule(blocks: int) -> List[Tuple[bool, bool]]:
    """Which assistant goes first in each block pair: off on, on off, off on, ... (True: the broker's)."""
    return [(False, True) if index % 2 == 0 else (True, False) for index in range(blocks)]


# --- CPU time per process, from /proc ----------------------------------------------------------------------------


def _cpu_and_parents() -> Dict[int, Tuple[int, str, float, float]]:
    """pid → (parent pid, name, CPU seconds so far, CPU seconds of its children that ended) of every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        table[int(stat.parent.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                                        (int(fields[13]) + int(fields[14])) / CLOCK_TICKS)
    return table


def _tree(table: Mapping[int, Tuple[int, str, float, float]], root: Optional[int]) -> List[int]:
    if root is None or root not in table:
        return []
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child, (parent, *_) in table.items() if parent == pid)
    return found


def cpu_snapshot(running: RunningAssistant) -> Dict[str, float]:
    """CPU seconds so far of each process group of interest (the whole machine's busy time too)."""
    table = _cpu_and_parents()
    services = running.supervisor.services
    consumer = services[EVENTS].process.pid if EVENTS in services else None
    postgres = [pid for pid, (_, name, *_) in table.items() if name in ("postgres", "postmaster")]
    groups = {"rasa": _tree(table, running.rasa.pid), "actions": _tree(table, running.actions.pid),
              "consumer": _tree(table, consumer),
              "rabbitmq": [pid for pid, (_, name, *_) in table.items() if name == "beam.smp"],
              "postgresql": postgres}
    snapshot = {group: sum(table[pid][2] for pid in pids if pid in table) for group, pids in groups.items()}
    # a backend that ended (a closed connection) counts in its postmaster's children's time
    snapshot["postgresql"] += sum(table[pid][3] for pid in postgres if table[pid][0] not in postgres)
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    snapshot["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / CLOCK_TICKS  # all but idle and iowait
    return snapshot


def cpu_ms_per_message(before: Mapping[str, float], after: Mapping[str, float], count: int) -> Dict[str, float]:
    return {group: round((after[group] - before[group]) * 1000 / max(count, 1), 2) for group in before}


def loadavg() -> List[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- load ----------------------------------------------------------------------------------------------------------


async def closed_loop(base_url: str, senders: int, per_sender: int) -> Tuple[List[float], int, float]:
    """tools.bench.load's closed loop (each sender's next message when its reply arrives, a new conversation every
    CONVERSATION_TURNS), keeping every latency: (latencies in ms, errors, wall seconds).

    Several senders each open a connection per message: the production set-up's two Sanic workers share one
    listening socket, and a connection kept for a whole block stays with the worker that accepted it, so a block's
    throughput depended on how its 16 connections happened to split (measured: 40-45 or 55-75 messages/s, with or
    without the broker alike), more than on anything the broker does."""
    url = f"{base_url}/webhooks/rest/webhook"
    latencies: List[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=senders + 4, max_keepalive_connections=0 if senders > 1 else None)
    async with httpx.AsyncClient(timeout=load.TIMEOUT_S, limits=limits) as client:

        async def conversation(index: int) -> None:
            nonlocal errors
            user = uuid.uuid4().hex[:8]
            for turn, text in enumerate(itertools.islice(itertools.cycle(TEXTS), index, index + per_sender)):
                try:
                    latencies.append(1000 * await load._send(client, url, f"cost-{user}-{turn // 10}", text))
                except (httpx.HTTPError, RuntimeError):
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(senders)))
        wall = time.perf_counter() - start
    return latencies, errors, wall


def stored_rows(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(messages)).scalar())
    except sqlalchemy.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


class Side:
    """One of the two assistants of a set-up, and what its blocks measured."""

    def __init__(self, running: RunningAssistant, broker: bool) -> None:
        self.running = running
        self.broker = broker
        self.sent = 0
        self.blocks: List[Dict[str, Any]] = []
        self.sequential_ms: List[float] = []

    def block(self, quick: bool) -> Dict[str, Any]:
        """One sender, then 16; with the broker, then until every message is stored."""
        scale = 2 if quick else 1
        load_now = loadavg()[0]
        before = cpu_snapshot(self.running)
        one, one_errors, _ = asyncio.run(closed_loop(self.running.url, 1, SEQUENTIAL // scale))
        many, many_errors, wall = asyncio.run(closed_loop(self.running.url, SENDERS, CONCURRENT // scale))
        self.sent += len(one) + one_errors + len(many) + many_errors
        lag_s = self.wait_until_stored() if self.broker else None
        after = cpu_snapshot(self.running)
        self.sequential_ms += one
        figures = {"p95_1_sender_ms": round(load.percentile(one, 95), 1),
                   "p50_1_sender_ms": round(load.percentile(one, 50), 1),
                   "throughput_16": round(len(many) / wall, 2), "p95_16_ms": round(load.percentile(many, 95), 1),
                   "messages_16": len(many), "wall_16_s": round(wall, 2), "errors": one_errors + many_errors,
                   "stored_after_s": lag_s, "loadavg": load_now,
                   "cpu_ms_per_message": cpu_ms_per_message(before, after, len(one) + len(many))}
        self.blocks.append(figures)
        return figures

    def wait_until_stored(self) -> Optional[float]:
        url = self.running.handoff_db_url or ""
        started = time.monotonic()
        while stored_rows(url) < self.sent:
            if time.monotonic() - started > STORED_WAIT_S:
                return None
            time.sleep(0.1)
        return round(time.monotonic() - started, 1)


@contextlib.contextmanager
def two_sides(model: Path, setup: str, work: Path, settings: Optional[Mapping[str, Any]], salt: str,
              databases: List[str], queue: str) -> Iterator[Dict[bool, Side]]:
    """The set-up without and with the broker (and its consumer), started side by side."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("HANDOFF_DB_URL", "ANALYTICS_DB_URL", "TALENTBOT_EVENTS_SPOOL")}
    with contextlib.ExitStack() as stack:
        sides = {}
        for broker in (False, True):
            folder = work / f"{setup}-{'on' if broker else 'off'}"
            if setup == "embedded":
                endpoints = embedded_endpoints(folder, broker, settings)
                env = {**base, "TALENTBOT_ANALYTICS_SALT": salt}
            else:
                databases.append(f"{queue}_{'on' if broker else 'off'}")
                endpoints = production_endpoints(broker, settings)
                env = production_env({**base, "DB_NAME": databases[-1], "RABBITMQ_QUEUE": queue,
                                      "RABBITMQ_EXCHANGE": queue, "TALENTBOT_ANALYTICS_SALT": salt})
            running = stack.enter_context(assistant(model, folder, endpoints, CREDENTIALS, env=env, console=False,
                                                    events_consumer=broker))
            sides[broker] = Side(running, broker)
        for side in sides.values():  # warm-up, and the consumer is up and storing
            asyncio.run(load.closed_loop(side.running.url, TEXTS, 2, 5))
            side.sent += 10
            if side.broker:
                side.wait_until_stored()
        yield sides


def measure(quick: bool, work: Path, blocks: int = BLOCKS, setups: Sequence[str] = SETUPS,
            broker_settings: Optional[Mapping[str, Any]] = None, model: Optional[Path] = None) -> Dict[str, Any]:
    """Every block of every set-up, and the comparison of each set-up (see `compare`)."""
    model = model or model_path()
    if not model.exists():
        raise SystemExit(f"no trained model {model.name}: run `make train`")
    queue = f"talentbot_events_cost_{uuid.uuid4().hex[:8]}"
    salt = secrets.token_urlsafe(32)
    databases: List[str] = []
    report: Dict[str, Any] = {}
    try:
        for setup in setups:
            with two_sides(model, setup, work, broker_settings, salt, databases, queue) as sides:
                for index, order in enumerate(schedule(blocks)):
                    for broker in order:
                        figures = sides[broker].block(quick)
                        print(json.dumps({"setup": setup, "block": index, "broker": broker, **figures}), flush=True)
                report[setup] = compare(sides[False].blocks, sides[True].blocks,
                                        sides[False].sequential_ms, sides[True].sequential_ms)
    finally:
        _drop(databases, queue if "production" in setups else None)
    return report


def _drop(databases: Sequence[str], queue: Optional[str]) -> None:
    if databases:
        engine = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for database in databases:
                connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()
    if queue is None:
        return

    async def delete() -> None:
        import aio_pika

        connection = await aio_pika.connect_robust(host="127.0.0.1", port=5672)
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(queue)
        await connection.close()

    asyncio.run(delete())


# --- the comparison ----------------------------------------------------------------------------------------------


def compare(off: Sequence[Mapping[str, Any]], on: Sequence[Mapping[str, Any]], off_sequential_ms: Sequence[float],
            on_sequential_ms: Sequence[float]) -> Dict[str, Any]:
    """With minus without: the p95 of every one-sender latency pooled (ms) and the throughput of all 16-sender
    blocks (messages over their summed wall time, %), with the spread of the block pairs' differences."""

    def throughput(blocks: Sequence[Mapping[str, Any]]) -> float:
        return sum(b["messages_16"] for b in blocks) / sum(b["wall_16_s"] for b in blocks)

    pairs = list(zip(off, on, strict=False))
    cpu = {name: {group: round(statistics.mean(b["cpu_ms_per_message"][group] for b in blocks), 2)
                  for group in blocks[0]["cpu_ms_per_message"]}
           for name, blocks in (("off", off), ("on", on))}
    lags = [b["stored_after_s"] for b in on if b["stored_after_s"] is not None]
    ours = {name: sum(ms for group, ms in groups.items() if group != "machine") for name, groups in cpu.items()}
    return {
        "blocks": len(pairs),
        "p95_1_sender_ms": {"off": round(load.percentile(off_sequential_ms, 95), 1),
                            "on": round(load.percentile(on_sequential_ms, 95), 1)},
        "p95_1_sender_delta_ms": round(load.percentile(on_sequential_ms, 95)
                                       - load.percentile(off_sequential_ms, 95), 1),
        "p95_1_sender_pairs_ms": [round(b["p95_1_sender_ms"] - a["p95_1_sender_ms"], 1) for a, b in pairs],
        "throughput_16_msg_s": {"off": round(throughput(off), 2), "on": round(throughput(on), 2)},
        "throughput_16_delta_pct": round(100 * (throughput(on) / throughput(off) - 1), 1),
        "throughput_16_pairs_pct": [round(100 * (b["throughput_16"] / a["throughput_16"] - 1), 1) for a, b in pairs],
        "cpu_ms_per_message": cpu,
        # what the difference in CPU per message would do to the throughput of a machine that ran nothing else
        "cpu_per_message_delta_ms": round(ours["on"] - ours["off"], 2),
        "cpu_capacity_delta_pct": round(100 * (ours["off"] / ours["on"] - 1), 1) if ours["on"] else None,
        "loadavg": [b["loadavg"] for b in [*off, *on]],
        "stored_after_s_max": max(lags) if lags else None,
        "errors": sum(b["errors"] for b in [*off, *on]),
    }


def summary_line(comparison: Mapping[str, Any]) -> str:
    """"+1.2 ms (blocks median +0.9, -3.4..+5.0), -2.1 % (blocks median -1.5, -7.0..+2.3), 8 block pairs, loadavg
    1.9-2.6": over all blocks, then the block pairs' differences."""
    p95, tput, load1 = comparison["p95_1_sender_pairs_ms"], comparison["throughput_16_pairs_pct"], comparison["loadavg"]
    return (f"{comparison['p95_1_sender_delta_ms']:+.1f} ms (blocks median {statistics.median(p95):+.1f}, "
            f"{min(p95):+.1f}..{max(p95):+.1f}), {comparison['throughput_16_delta_pct']:+.1f} % (blocks median "
            f"{statistics.median(tput):+.1f}, {min(tput):+.1f}..{max(tput):+.1f}), {comparison['blocks']} block "
            f"pairs, loadavg {min(load1):.1f}-{max(load1):.1f}")


def summary(report: Mapping[str, Any]) -> Dict[str, str]:
    lines = {}
    for setup, comparison in report.items():
        lines[f"events on vs off, {setup}: p95 1 sender Δ ms, throughput 16 senders Δ %"] = summary_line(comparison)
        cpu = comparison["cpu_ms_per_message"]["on"]
        lines[f"events on vs off, {setup}: CPU per message Δ ms (capacity Δ %)"] = (
            f"{comparison['cpu_per_message_delta_ms']:+.2f} ms ({comparison['cpu_capacity_delta_pct']:+.1f} %); "
            f"consumer {cpu['consumer']:.2f} ms, RabbitMQ {cpu['rabbitmq']:.2f} ms")
    return lines


def step(quick: bool, work: Path, model: Optional[Path] = None, blocks: int = BLOCKS) -> Dict[str, Any]:
    """The `make bench` step (tools/bench/main.py): both set-ups, and the comparison of each."""
    report = measure(quick, work / "events-cost", blocks, model=model)
    return {"comparison": report, "summary": summary(report)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the messages per block")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="blocks of each assistant per set-up")
    parser.add_argument("--setups", default=",".join(SETUPS), help="embedded, production or both")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change a setting of the shipped event_broker (event_types=all, batch=false...)")
    parser.add_argument("--model", type=Path, default=None,
                        help="the model to serve (default: the one of the current inputs, as `make train` made it)")
    parser.add_argument("--out", type=Path, default=None, help="write the report as JSON here")
    args = parser.parse_args()
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    changed = {key: yaml.safe_load(value) for key, _, value in (item.partition("=") for item in args.set)}
    with tempfile.TemporaryDirectory(prefix="events-cost-") as folder:
        report = measure(args.quick, Path(folder), args.blocks, setups, changed, args.model)
    for key, line in summary(report).items():
        print(f"{key}: {line}")
    for setup, comparison in report.items():
        print(setup)
        print(f"  p95 1 sender ms {comparison['p95_1_sender_ms']}, throughput 16 msg/s "
              f"{comparison['throughput_16_msg_s']}, stored at most {comparison['stored_after_s_max']} s after a block")
        print(f"  CPU ms per message off: {comparison['cpu_ms_per_message']['off']}")
        print(f"  CPU ms per message on:  {comparison['cpu_ms_per_message']['on']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
