"""What conversation events cost the assistant: latency and throughput through the REST channel with and without the
event broker, in the embedded set-up (the spool read by the consumer) and the production set-up (RabbitMQ).

    .venv/bin/python -m tools.bench.events_cost [--quick] [--rounds N] [--setups embedded,production]
        [--set event_types=all] [--set batch=false] [--model FILE] [--out FILE]

Each set-up is started with talentbot.wiring.devserver.assistant and loaded with tools.bench.load's closed loop: one
sender (latency without queueing), then 16 senders at once (throughput). With the broker, the consumer runs too, on
the same machine, as `talentbot run` starts it. Production uses the machine's PostgreSQL, Redis and RabbitMQ
(127.0.0.1), databases and a queue of the run's own, removed afterwards.

On a small machine the difference sought (a few ms, a few %) is smaller than the drift of a run (other work, the
CPU's clock, the databases' caches), so each set-up runs off, on, on, off, ... (`rounds` pairs, each pair mirrored:
a steady drift then weighs on both sides alike) and the report gives the difference of the means and the spread of
the pairwise differences. Each run also reports the CPU time per message of each process (/proc: the Rasa server
and its workers, the action server, the consumer, RabbitMQ's beam.smp, PostgreSQL's processes; the last two are
shared with whatever else runs on the machine), which says where the cost goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

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
SEQUENTIAL, CONCURRENT, SENDERS = 200, 40, 16
"""Messages of the one sender, and of each of the 16 senders, per run (half with --quick)."""
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def schedule(rounds: int) -> List[bool]:
    """Broker off/on in mirrored pairs: off on on off off on ... (`rounds` runs of each)."""
    order: List[bool] = []
    for index in range(rounds):
        order += [False, True] if index % 2 == 0 else [True, False]
    return order


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


# --- one run -----------------------------------------------------------------------------------------------------


def stored_rows(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(messages)).scalar())
    except sqlalchemy.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def one_run(model: Path, folder: Path, setup: str, broker: bool, endpoints: Dict[str, Any], env: Dict[str, str],
            quick: bool) -> Dict[str, Any]:
    """Starts the set-up, warms it up, loads it (1 sender, then 16), and waits until the consumer stored every
    message (so no run's leftovers weigh on the next)."""
    scale = 2 if quick else 1
    with assistant(model, folder, endpoints, CREDENTIALS, env=env, console=False,
                   events_consumer=broker) as running:
        asyncio.run(load.closed_loop(running.url, TEXTS, 2, 5))  # warm-up
        time.sleep(1.0)  # the consumer's first batch, the warm-up's tail
        load_before = loadavg()
        before = cpu_snapshot(running)
        one = asyncio.run(load.closed_loop(running.url, TEXTS, 1, SEQUENTIAL // scale))
        many = asyncio.run(load.closed_loop(running.url, TEXTS, SENDERS, CONCURRENT // scale))
        after = cpu_snapshot(running)
        sent = 10 + one.requests + many.requests
        lag_s = None
        if broker:  # how long until the consumer has stored every message
            url = running.handoff_db_url or ""
            started = time.monotonic()
            while stored_rows(url) < sent and time.monotonic() - started < 120:
                time.sleep(0.2)
            lag_s = round(time.monotonic() - started, 1)
    return {"setup": setup, "broker": broker, "sequential": one.as_dict(), "concurrent16": many.as_dict(),
            "stored_after_load_s": lag_s, "loadavg": load_before,
            "cpu_ms_per_message": cpu_ms_per_message(before, after, one.requests + many.requests)}


def measure(quick: bool, work: Path, rounds: int = 2, setups: Sequence[str] = SETUPS,
            broker_settings: Optional[Mapping[str, Any]] = None, model: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Every run of every set-up (`rounds` with the broker and as many without, mirrored pairs)."""
    model = model or model_path()
    if not model.exists():
        raise SystemExit(f"no trained model {model.name}: run `make train`")
    name = uuid.uuid4().hex[:8]
    database, queue = f"talentbot_events_cost_{name}", f"talentbot_events_cost_{name}"
    salt = secrets.token_urlsafe(32)
    base = {k: v for k, v in os.environ.items()
            if k not in ("HANDOFF_DB_URL", "ANALYTICS_DB_URL", "TALENTBOT_EVENTS_SPOOL")}
    databases: List[str] = []
    results = []
    try:
        for setup in setups:
            for index, broker in enumerate(schedule(rounds)):
                folder = work / f"{setup}-{index}-{'on' if broker else 'off'}"
                if setup == "embedded":
                    endpoints = embedded_endpoints(folder, broker, broker_settings)
                    env = {**base, "TALENTBOT_ANALYTICS_SALT": salt}
                else:
                    databases.append(f"{database}_{index}")
                    endpoints = production_endpoints(broker, broker_settings)
                    env = production_env({**base, "DB_NAME": databases[-1], "RABBITMQ_QUEUE": queue,
                                          "RABBITMQ_EXCHANGE": queue, "TALENTBOT_ANALYTICS_SALT": salt})
                results.append({"run": index, **one_run(model, folder, setup, broker, endpoints, env, quick)})
                print(json.dumps(results[-1]), flush=True)
    finally:
        _drop(databases, queue if "production" in setups else None)
    return results


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


def compare(results: Sequence[Mapping[str, Any]], setup: str) -> Optional[Dict[str, Any]]:
    """With minus without for one set-up: p95 of the one sender (ms) and throughput of the 16 (%), as the difference
    of the means, with the spread of the pairwise differences (run 2k against 2k+1) and each run's figure."""
    runs = [r for r in results if r["setup"] == setup]
    off = [r for r in runs if not r["broker"]]
    on = [r for r in runs if r["broker"]]
    if not off or not on:
        return None
    p95 = {flag: [r["sequential"]["p95_ms"] for r in group] for flag, group in (("off", off), ("on", on))}
    tput = {flag: [r["concurrent16"]["throughput"] for r in group] for flag, group in (("off", off), ("on", on))}
    pairs = [(a, b) for a, b in zip(runs[0::2], runs[1::2], strict=False) if a["broker"] != b["broker"]]
    pair_p95, pair_tput = [], []
    for a, b in pairs:
        with_, without = (a, b) if a["broker"] else (b, a)
        pair_p95.append(with_["sequential"]["p95_ms"] - without["sequential"]["p95_ms"])
        pair_tput.append(100 * (with_["concurrent16"]["throughput"] / without["concurrent16"]["throughput"] - 1))
    mean_off_tput = statistics.mean(tput["off"])
    cpu = {flag: {group: round(statistics.mean(r["cpu_ms_per_message"][group] for r in group_runs), 2)
                  for group in group_runs[0]["cpu_ms_per_message"]}
           for flag, group_runs in (("off", off), ("on", on))}
    return {
        "p95_1_sender_delta_ms": round(statistics.mean(p95["on"]) - statistics.mean(p95["off"]), 1),
        "p95_1_sender_pairs_ms": [round(x, 1) for x in pair_p95],
        "p95_1_sender_ms": p95,
        "throughput_16_delta_pct": round(100 * (statistics.mean(tput["on"]) / mean_off_tput - 1), 1),
        "throughput_16_pairs_pct": [round(x, 1) for x in pair_tput],
        "throughput_16_msg_s": tput,
        "cpu_ms_per_message": cpu,
        "loadavg": [r["loadavg"][0] for r in runs],
        "stored_after_load_s": [r["stored_after_load_s"] for r in on],
    }


def summary_line(comparison: Mapping[str, Any]) -> str:
    """"+1.2 ms (pairs -0.4..+2.9), -2.1 % (pairs -4.0..+0.3), loadavg 1.9-2.6"."""
    p95, tput, load1 = comparison["p95_1_sender_pairs_ms"], comparison["throughput_16_pairs_pct"], comparison["loadavg"]
    return (f"{comparison['p95_1_sender_delta_ms']:+.1f} ms (pairs {min(p95):+.1f}..{max(p95):+.1f}), "
            f"{comparison['throughput_16_delta_pct']:+.1f} % (pairs {min(tput):+.1f}..{max(tput):+.1f}), "
            f"loadavg {min(load1):.1f}-{max(load1):.1f}")


def step(quick: bool, work: Path, model: Optional[Path] = None, rounds: int = 2) -> Dict[str, Any]:
    """The `make bench` step (tools/bench/main.py): both set-ups, and the comparison of each."""
    results = measure(quick, work / "events-cost", rounds, model=model)
    comparisons = {setup: compare(results, setup) for setup in SETUPS}
    lines = {f"events on vs off, {setup}: p95 1 sender Δ ms, throughput 16 senders Δ %": summary_line(comparison)
             for setup, comparison in comparisons.items() if comparison}
    return {"runs": results, "comparison": comparisons, "summary": lines}


def table(results: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{'set-up':<11} {'run':>3} {'broker':<7} {'1 sender p50/p95 ms':>20} {'16 senders p50/p95 ms':>22} "
             f"{'msg/s':>7} {'stored after':>12} {'load':>5}  CPU ms/message"]
    for r in results:
        one, many = r["sequential"], r["concurrent16"]
        lag = "" if r["stored_after_load_s"] is None else f"{r['stored_after_load_s']} s"
        cpu = " ".join(f"{group} {ms:.1f}" for group, ms in r["cpu_ms_per_message"].items())
        lines.append(f"{r['setup']:<11} {r['run']:>3} {'yes' if r['broker'] else 'no':<7} "
                     f"{one['p50_ms']:>9.1f}/{one['p95_ms']:<10.1f} {many['p50_ms']:>10.1f}/{many['p95_ms']:<11.1f} "
                     f"{many['throughput']:>7.1f} {lag:>12} {r['loadavg'][0]:>5.1f}  {cpu}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the messages")
    parser.add_argument("--rounds", type=int, default=2, help="runs with the broker (and as many without)")
    parser.add_argument("--setups", default=",".join(SETUPS), help="embedded, production or both")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change a setting of the shipped event_broker (event_types=all, batch=false...)")
    parser.add_argument("--model", type=Path, default=None,
                        help="the model to serve (default: the one of the current inputs, as `make train` made it)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    changed = {key: yaml.safe_load(value) for key, _, value in (item.partition("=") for item in args.set)}
    with tempfile.TemporaryDirectory(prefix="events-cost-") as folder:
        results = measure(args.quick, Path(folder), args.rounds, setups, changed, args.model)
    print(table(results))
    for setup in setups:
        comparison = compare(results, setup)
        if comparison:
            print(f"events on vs off, {setup}: p95 1 sender Δ ms, throughput 16 senders Δ %: "
                  f"{summary_line(comparison)}")
            print(f"  CPU ms per message off: {comparison['cpu_ms_per_message']['off']}")
            print(f"  CPU ms per message on:  {comparison['cpu_ms_per_message']['on']}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
