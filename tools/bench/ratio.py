"""Closed-loop throughput of our embedded set-up against Rasa's starter assistant, side by side.

The issue's bar is a ratio "measured in the same run". Measured one after the other, minutes apart, the starter's own
figure moved from 30.7 to 21.4 messages/s between two runs of this benchmark on the same machine, so the ratio said as
much about the machine's drift as about either assistant. Here both run at once and are loaded in turn, never
together, in mirrored block pairs (ours first, then the starter; then the starter first ...): a drift weighs on both
alike. The ratio is the pooled throughput of all our blocks over the starter's, with the spread of the block pairs'
ratios. Our set-up is the one `make run` ships: the SQL tracker store on SQLite and the event broker with its
consumer.

    .venv/bin/python -m tools.bench.ratio [--blocks N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from talentbot.wiring.devserver import ServerSet, assistant, free_port, wait_until_ready
from talentbot.wiring.training import model_path
from tools.bench import load
from tools.bench.events_cost import CREDENTIALS, embedded_endpoints

BLOCKS = 8
SENDERS, PER_SENDER = 16, 10
"""Per block: 16 senders at once, 10 messages each (half with --quick)."""
# Messages whose answers go through our custom action (action_answer), in the three languages.
OUR_MESSAGES = [
    "what is the top talent pass scheme?", "高才通係咩嚟㗎？", "高才通是什么计划？",
    "how long does QMAS take to process", "優才要等幾耐先批？", "专才签证审批要多久",
    "can my wife come with me under TTPS", "我老婆可唔可以一齊嚟？", "我可以带孩子去香港吗",
]
# The starter assistant's own kind of messages (rasa init's moodbot).
STARTER_MESSAGES = ["hello", "I am sad", "yes", "great", "bye", "hi there", "not good", "amazing"]


def train_starter(work: Path) -> Dict[str, Any]:
    """`rasa init` (its default config and data, trained): the model and how long init and training took."""
    project = work / "starter"
    project.mkdir(parents=True, exist_ok=True)  # rasa init wants an existing folder
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)],
                   cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    training_s = time.perf_counter() - start
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    return {"model": model, "init_and_training_s": round(training_s, 1),
            "model_mb": round(model.stat().st_size / 2**20, 1)}


@contextlib.contextmanager
def starter_server(model: Path, work: Path) -> Iterator[Tuple[str, int]]:
    """The starter's Rasa server (no action server: moodbot has no custom actions): its URL and process id."""
    port = free_port()
    servers = ServerSet()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        rasa = servers.start([sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port),
                              "--enable-api", "--auth-token", "bench"], env, work / "starter.log")
        wait_until_ready(f"http://127.0.0.1:{port}/status?token=bench", rasa)
        yield f"http://127.0.0.1:{port}", rasa.pid
    finally:
        servers.stop()


def block(url: str, messages: Sequence[str], quick: bool) -> Dict[str, Any]:
    result = asyncio.run(load.closed_loop(url, messages, SENDERS, PER_SENDER // (2 if quick else 1)))
    return {"messages": result.requests - result.errors, "wall_s": result.wall_s, "errors": result.errors,
            "throughput": result.throughput, "p95_ms": result.p95_ms, "loadavg": os.getloadavg()[0]}


def compare(ours: Sequence[Mapping[str, Any]], starter: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Pooled throughput of each (messages over summed wall time), their ratio, and each block pair's ratio."""

    def pooled(blocks: Sequence[Mapping[str, Any]]) -> float:
        wall = sum(b["wall_s"] for b in blocks)
        return sum(b["messages"] for b in blocks) / wall if wall else 0.0

    pairs = [round(a["throughput"] / b["throughput"], 2) for a, b in zip(ours, starter, strict=False)
             if b["throughput"]]
    ratio = pooled(ours) / pooled(starter) if pooled(starter) else 0.0
    return {"blocks": len(pairs), "ours_msg_s": round(pooled(ours), 2), "starter_msg_s": round(pooled(starter), 2),
            "ratio": round(ratio, 2), "pair_ratios": pairs,
            "errors": sum(b["errors"] for b in [*ours, *starter]),
            "loadavg": [round(b["loadavg"], 1) for b in [*ours, *starter]]}


def summary_line(comparison: Mapping[str, Any]) -> str:
    """"2.31 (41.2 vs 17.8 msg/s; block pairs median 2.30, 2.05..2.61, 8 pairs)"."""
    pairs = comparison["pair_ratios"] or [0.0]
    return (f"{comparison['ratio']:.2f} ({comparison['ours_msg_s']:.1f} vs {comparison['starter_msg_s']:.1f} msg/s; "
            f"block pairs median {statistics.median(pairs):.2f}, {min(pairs):.2f}..{max(pairs):.2f}, "
            f"{comparison['blocks']} pairs)")


def measure(quick: bool, work: Path, blocks: int = BLOCKS, model: Optional[Path] = None) -> Dict[str, Any]:
    model = model or model_path()
    if not model.exists():
        raise SystemExit(f"no trained model {model.name}: run `make train`")
    starter = train_starter(work)
    ours_blocks: List[Dict[str, Any]] = []
    starter_blocks: List[Dict[str, Any]] = []
    with assistant(model, work / "ours", embedded_endpoints(work / "ours", broker=True), CREDENTIALS,
                   console=False, events_consumer=True) as running, \
            starter_server(starter["model"], work) as (starter_url, _):
        asyncio.run(load.closed_loop(running.url, OUR_MESSAGES, 2, 5))  # warm-up
        asyncio.run(load.closed_loop(starter_url, STARTER_MESSAGES, 2, 5))
        for index in range(blocks):
            order = [("ours", running.url), ("starter", starter_url)]
            for name, url in order if index % 2 == 0 else reversed(order):
                figures = block(url, OUR_MESSAGES if name == "ours" else STARTER_MESSAGES, quick)
                (ours_blocks if name == "ours" else starter_blocks).append(figures)
                print(json.dumps({"block": index, "assistant": name, **figures}), flush=True)
    comparison = compare(ours_blocks, starter_blocks)
    return {"starter_training": {k: v for k, v in starter.items() if k != "model"}, **comparison}


def step(quick: bool, work: Path, model: Optional[Path] = None) -> Dict[str, Any]:
    """The `make bench` step (tools/bench/main.py)."""
    report = measure(quick, work / "ratio", model=model)
    report["summary"] = {"embedded: throughput ratio vs starter, interleaved (16 senders)": summary_line(report)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the messages per block")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="blocks of each assistant")
    parser.add_argument("--model", type=Path, default=None,
                        help="the model to serve (default: the one of the current inputs, as `make train` made it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ratio-") as folder:
        report = measure(args.quick, Path(folder), args.blocks, args.model)
    print(f"throughput ratio vs starter, interleaved: {summary_line(report)}")


if __name__ == "__main__":
    main()
