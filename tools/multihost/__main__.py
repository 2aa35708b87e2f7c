"""`make multihost`: three hosts (network namespaces) behind HAProxy, the fuller run of tests/scale/test_multihost.py.

Shows a conversation spread over every host, staff replies pushed to pages on every host, measures throughput, p95
and CPU time per message through HAProxy with 1, 2 and 3 hosts in service, then kills one host under traffic and
brings it back, counting every message. Writes bench/reports/multihost.json and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from talentbot.core import paths
from talentbot.wiring.training import ensure_model
from tools.bench import load
from tools.multihost import scenarios
from tools.multihost.cluster import Cluster, problems, running_cluster

REPORT = paths.ROOT / "bench" / "reports" / "multihost.json"


async def everything(cluster: Cluster, args: argparse.Namespace) -> Dict[str, Any]:
    report: Dict[str, Any] = {}
    names = [host.name for host in cluster.hosts]
    print("(a) one conversation over every host...", flush=True)
    report["coherence"] = await scenarios.coherent_conversations(cluster)
    print("(d) staff replies pushed to pages on every host...", flush=True)
    report["pushes"] = await scenarios.pushes_across_hosts(cluster)
    print("warming up every host...", flush=True)
    await load.closed_loop(cluster.url, scenarios.MESSAGES, len(names), len(scenarios.MESSAGES))
    report["throughput"] = []
    for count in range(1, len(names) + 1):
        print(f"load through HAProxy with {count} host(s): {args.senders} senders x {args.per_sender}, then "
              f"{args.rate:g} msg/s for {args.duration:g} s...", flush=True)
        report["throughput"].append(await scenarios.measure(cluster, names[:count], args.senders, args.per_sender))
        report["throughput"].append(await scenarios.measure(cluster, names[:count], rate=args.rate,
                                                            duration_s=args.duration))
    print(f"(b, c) {names[-1]} killed under traffic ({args.users} users), then back...", flush=True)
    report["failover"] = await scenarios.failover(cluster, names[-1], users=args.users, before_s=args.before,
                                                  down_s=args.down, after_s=args.after)
    return report


def summary(report: Dict[str, Any]) -> List[str]:
    lines = [f"hosts ready after {report['ready_s']['all']} s; {report['workers_per_host']} Sanic worker(s) per host; "
             f"{report['machine']['cpus']} CPUs"]
    coherence = report["coherence"]
    lines.append(f"(a) eligibility form over {coherence['hosts_per_conversation']['eligibility']}, follow-up over "
                 f"{coherence['hosts_per_conversation']['follow_up']}: incoherent turns {coherence['incoherent']}")
    pushes = report["pushes"]
    lines.append(f"(d) pushes delivered per (socket host, push host): {pushes['delivered']}; missed "
                 f"{len(pushes['missed'])}, unexpected {len(pushes['unexpected'])}; console reply seen on a page on "
                 f"{pushes['console']['page_on']}: {pushes['console']['page_saw_reply']}")
    lines.append(f"{'hosts':>5} {'load':<28} {'msgs':>5} {'errors':>6} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
                 f"{'CPU ms/msg':>10} {'HAProxy':>8} {'fwd':>6} {'loadgen':>8} {'CPUs busy':>9}")
    for row in report["throughput"]:
        lines.append(f"{row['hosts']:>5} {row['mode']:<28} {row['requests']:>5} {row['errors']:>6} "
                     f"{row['throughput']:>7} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['cpu_ms_per_message']:>10} "
                     f"{row['haproxy_cpu_ms_per_message']:>8} {row['forwarder_cpu_ms_per_message']:>6} "
                     f"{row['load_generator_cpu_ms_per_message']:>8} {row['machine_cpu_busy']:>9.0%}")
    f = report["failover"]
    lines.append(f"(b) {f['victim']} killed ({f['killed_pids']} processes, {f['in_flight_at_kill']} messages waiting, "
                 f"busy: {f['victim_busy_at_kill']}): "
                 f"sent {f['sent']}, answered {f['answered']}, lost {f['lost']}, doubled {f['doubled']}, resent "
                 f"{f['resent']}, wrong language {f['wrong_language']}; marked down after "
                 f"{f['seconds']['marked_down_after_kill']} s; slowest answer {f['slowest_answer_s']} s "
                 f"({f['slowest_answer_s_not_resent']} s for messages not resent)")
    lines.append(f"(c) back {f['seconds']['back_after_restart']} s after restart; it then answered "
                 f"{f['victim_served_after_return']} messages; per phase and host: {f['answered_per_phase_and_host']}")
    return lines


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="make multihost", description=__doc__)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MULTIHOST_SANIC_WORKERS", 1)),
                        help="Sanic workers per host (production: 2; 1 here: three hosts share two cores)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders of the throughput runs")
    parser.add_argument("--per-sender", type=int, default=10)
    parser.add_argument("--rate", type=float, default=12.0, help="messages a second of the open-loop runs")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of each open-loop run")
    parser.add_argument("--users", type=int, default=12, help="users writing during the fail-over")
    parser.add_argument("--before", type=float, default=15.0, help="seconds of traffic before the kill")
    parser.add_argument("--down", type=float, default=20.0, help="seconds the host stays down")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of traffic after it is back")
    parser.add_argument("--model", type=Path, help="a trained model (default: models/'s for the current inputs, "
                        "trained first if missing; `make bench` passes the one it has)")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    found = problems()
    if found:
        print("make multihost cannot run here: " + "; ".join(found), file=sys.stderr)
        return 2
    model = args.model.resolve() if args.model else ensure_model()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="talentbot-multihost-") as folder:
        with running_cluster(model, Path(folder), hosts=args.hosts, workers=args.workers) as cluster:
            report: Dict[str, Any] = {
                "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "kernel": platform.release()},
                "hosts": args.hosts, "workers_per_host": args.workers, "ready_s": cluster.ready_s,
                "haproxy_config": cluster.haproxy.config(),
            }
            report.update(asyncio.run(everything(cluster, args)))
    report["wall_s"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(summary(report)))
    print(f"report: {args.out}  ({report['wall_s']:.0f} s)")
    failover = report["failover"]
    return 0 if failover["lost"] == 0 and failover["doubled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
