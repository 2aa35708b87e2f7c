"""Runs the whole benchmark and writes a JSON report plus a printed table (bounded, loopback only)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Union

from talentbot.core import paths
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import assistant, production_env
from talentbot.wiring.training import ensure_model
from tools.bench import cluster_steps, handoff, load, long_message, questions, ratio
from tools.bench.conversations import EXAMPLES, run_examples
from tools.bench.procs import tree_rss_mb
from tools.bench.wechat import measure_wechat_path

OUR_MESSAGES, STARTER_MESSAGES = ratio.OUR_MESSAGES, ratio.STARTER_MESSAGES

TARGETS = {
    "intent_macro_f1_min": 0.95, "p95_sequential_ms_max": 60, "p95_open_loop_ms_max": 300,
    "training_s_max": 600, "rasa_rss_mb_max": 1536, "throughput_ratio_min": 2.0, "staff_reply_p95_ms_max": 1000,
}

SOCKETIO = {"connectors.webchat.SocketIOChannel": {
    "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}}


def timed_training(out: Path) -> Dict[str, float]:
    """Full training from scratch (`rasa train --force`), timed, into a scratch folder."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--force", "--config", str(paths.CONFIG), "--domain",
         str(paths.DOMAIN), "--data", str(paths.NLU_DATA), str(paths.DIALOGUE_DATA), "--out", str(out),
         "--fixed-model-name", "bench"],
        cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    return {"training_s": round(seconds, 1), "model_mb": round((out / "bench.tar.gz").stat().st_size / 2**20, 1)}


def run_loads(base_url: str, messages: List[str], quick: bool) -> Dict[str, Dict]:
    scale = 4 if quick else 1
    results = {
        "sequential": asyncio.run(load.closed_loop(base_url, messages, 1, 200 // scale)),
        "concurrent16": asyncio.run(load.closed_loop(base_url, messages, 16, 40 // scale)),
        "open15": asyncio.run(load.open_loop(base_url, messages, 15.0, 20.0 / scale)),
    }
    return {name: result.as_dict() for name, result in results.items()}


def measure_ours(model: Path, quick: bool, production: bool, work: Path) -> Dict:
    """Our assistant with its action server; production: PostgreSQL + Redis lock store + 2 Sanic workers."""
    endpoints: Union[Path, Dict]
    if production:
        env = production_env({**os.environ, "DB_NAME": "talentbot_bench"})
        endpoints = paths.ENDPOINTS_PRODUCTION
    else:
        env = dict(os.environ)
        endpoints = {"tracker_store": sqlite_endpoint(work / "bench_trackers.db")}
    name = "production" if production else "embedded"
    credentials = {"connectors.rest.RestInput": None, **SOCKETIO}
    with assistant(model, work / name, endpoints, credentials, env=env) as running:
        asyncio.run(load.closed_loop(running.url, OUR_MESSAGES, 2, 5))  # warm-up
        report = {"rss_mb_idle": {"rasa": tree_rss_mb(running.rasa.pid), "actions": tree_rss_mb(running.actions.pid)}}
        report["loads"] = run_loads(running.url, OUR_MESSAGES, quick)
        if not production and EXAMPLES.exists():
            report["dev_conversations"] = run_examples(running.url)
        if not production:
            report["questions"] = replay_question_sets(running.url)
        if not production:
            assert running.console_url is not None and running.handoff_db_url is not None  # embedded starts both
            report["staff_reply"] = asyncio.run(handoff.measure(
                running.url, running.console_url, running.handoff_db_url, users=2 if quick else 5))
        report["rss_mb_after"] = {"rasa": tree_rss_mb(running.rasa.pid), "actions": tree_rss_mb(running.actions.pid)}
        return report


def replay_question_sets(url: str) -> Dict:
    """Right-fact rate per language: the dev real questions, our evaluation set (REST), and the bank ranker's
    top-1/top-3 entry accuracy on the evaluation set (offline)."""
    report: Dict = {}
    if questions.REAL_QUESTIONS.exists():
        report["real_questions_dev"] = questions.replay(url, questions.load_items([questions.REAL_QUESTIONS]))
    items = questions.load_items(questions.eval_files())
    if items:
        report["eval_set"] = questions.replay(url, items)
        report["eval_ranking"] = questions.offline(items)["ranking"]
    faq = questions.load_items(questions.faq_files())
    if faq:
        report["faq_set"] = questions.replay(url, faq)
    return report


def measure_starter(quick: bool, work: Path) -> Dict:
    """Rasa's starter assistant (`rasa init`, default config, no action server): trained and run here."""
    starter = ratio.train_starter(work)
    with ratio.starter_server(starter["model"], work) as (base, pid):
        asyncio.run(load.closed_loop(base, STARTER_MESSAGES, 2, 5))
        report = {"init_and_training_s": starter["init_and_training_s"], "model_mb": starter["model_mb"],
                  "rss_mb_idle": {"rasa": tree_rss_mb(pid)}}
        report["loads"] = run_loads(base, STARTER_MESSAGES, quick)
        return report


def eligibility_bench() -> Optional[Dict]:
    try:
        from tools.bench.eligibility import run_benchmark
    except ImportError:
        return None
    return run_benchmark()


def print_table(report: Dict) -> None:
    rows = []
    for name in ("embedded", "production", "starter"):
        section = report.get(name)
        if not section:
            continue
        for r in section["loads"].values():
            rows.append((name, r["mode"], r["requests"], r["errors"], r["throughput"],
                         r["p50_ms"], r["p95_ms"], r["p99_ms"]))
    print(f"\n{'set-up':<11} {'load':<30} {'req':>5} {'err':>4} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(f"{row[0]:<11} {row[1]:<30} {row[2]:>5} {row[3]:>4} {row[4]:>7} {row[5]:>8} {row[6]:>8} {row[7]:>8}")
    print()
    for key, value in report["summary"].items():
        print(f"{key:<44} {value}")


def summarise(report: Dict) -> Dict:
    summary = {}
    training = report.get("training", {})
    summary["training time (s)"] = training.get("training_s")
    summary["model size (MiB)"] = training.get("model_mb")
    for name in ("embedded", "production"):
        if name in report:
            rss = report[name]["rss_mb_after"]
            summary[f"{name}: Rasa RSS per process, max (MiB)"] = max(rss["rasa"].values())
            summary[f"{name}: action server RSS (MiB)"] = sum(rss["actions"].values())
    if "starter" in report:
        summary["starter: Rasa RSS (MiB)"] = max(report["starter"]["rss_mb_idle"]["rasa"].values())
        starter_tp = report["starter"]["loads"]["concurrent16"]["throughput"]
        for name in ("embedded", "production"):
            if name in report and starter_tp:
                ours = report[name]["loads"]["concurrent16"]["throughput"]
                summary[f"{name}: throughput ratio vs starter (16 senders)"] = round(ours / starter_tp, 2)
    conversations = (report.get("embedded") or {}).get("dev_conversations")
    if conversations:
        summary["dev conversations: turns passed"] = f"{conversations['passed']}/{conversations['turns']}"
    question_sets = (report.get("embedded") or {}).get("questions") or {}
    for name in ("real_questions_dev", "eval_set", "faq_set"):
        for language, figures in ((question_sets.get(name) or {}).get("by_language") or {}).items():
            summary[f"{name}: right fact {language}"] = f"{figures['rate']} ({figures['passed']}/{figures['turns']})"
    for language, figures in (question_sets.get("eval_ranking") or {}).items():
        summary[f"bank ranking top-1 / top-3 {language}"] = (
            f"{figures['top1']} / {figures['top3']} ({figures['items']})")
    staff_reply = (report.get("embedded") or {}).get("staff_reply")
    if staff_reply:
        summary["staff reply → web page: p50 / p95 / max (ms)"] = (
            f"{staff_reply['p50_ms']} / {staff_reply['p95_ms']} / {staff_reply['max_ms']}"
            f" ({staff_reply['replies']} replies, {staff_reply['undelivered']} undelivered)")
    if report.get("wechat"):
        wechat = report["wechat"]
        summary["wechat: p95 / max POST→reply (ms), 20 users"] = f"{wechat['p95_ms']} / {wechat['max_ms']}"
        summary["wechat: replies passive / by customer-service API"] = (
            f"{wechat['passive_replies']} / {wechat['answered_success']}")
    for language, scores in (report.get("nlu_dev") or {}).items():
        summary[f"intent macro-F1 {language}"] = scores["macro_f1"]
    for name, ms in (report.get("long_message_ms") or {}).items():
        summary[f"NLU, 10,000 characters of {name} (ms)"] = ms
    if report.get("eligibility"):
        rules = report["eligibility"]
        summary["eligibility rules: µs per profile (mean / p95)"] = (
            f"{rules['evaluate_profile']['mean_us']:.0f} / {rules['evaluate_profile']['p95_us']:.0f}")
        summary["university matching: µs per name (mean / p95)"] = (
            f"{rules['match_university']['mean_us']:.0f} / {rules['match_university']['p95_us']:.0f}")
    summary.update(cluster_steps.summary(report))
    capacity_lines = (report.get("capacity") or {}).get("summary") or {}
    summary.update({f"capacity: {key}": value for key, value in capacity_lines.items()})
    summary.update((report.get("ratio") or {}).get("summary") or {})
    summary.update((report.get("events_cost") or {}).get("summary") or {})
    return summary


def main(args: argparse.Namespace) -> int:
    report: Dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS, "quick": bool(args.quick)}
    model = ensure_model()
    work = Path(tempfile.mkdtemp(prefix="talentbot-bench-"))
    try:
        print("1/7 training from scratch (timed)...", flush=True)
        report["training"] = timed_training(work / "train")
        print("2/7 intent macro-F1 on the development set...", flush=True)
        from tools.bench.nlu_eval import evaluate

        report["nlu_dev"] = evaluate(model)
        print("   and a 10,000-character message through the NLU pipeline...", flush=True)
        report["long_message_ms"] = long_message.measure(model)
        print("3/7 our assistant, embedded set-up (SQLite, 1 worker)...", flush=True)
        report["embedded"] = measure_ours(model, args.quick, production=False, work=work)
        print("4/7 the WeChat path: webhook POST to passive reply, 20 users (embedded set-up)...", flush=True)
        report["wechat"] = measure_wechat_path(model, args.quick, work)
        print("5/7 our assistant, production set-up (PostgreSQL + Redis, 2 workers)...", flush=True)
        report["production"] = measure_ours(model, args.quick, production=True, work=work)
        print("6/7 Rasa's starter assistant (rasa init) as the yardstick...", flush=True)
        report["starter"] = measure_starter(args.quick, work)
        print("   and our embedded set-up against it side by side, loaded in turn (ratio.py)...", flush=True)
        report["ratio"] = ratio.step(args.quick, work, model)
        print("7/7 eligibility rules...", flush=True)
        report["eligibility"] = eligibility_bench()
        print("+ three hosts behind HAProxy: 1, 2, 3 hosts, a host killed (make multihost)...", flush=True)
        report["multihost"] = cluster_steps.multihost(args.quick, model)
        print("+ capacity model: CPU, PostgreSQL and Redis work per message (tools/bench/capacity.py)...", flush=True)
        from tools.bench import capacity

        report["capacity"] = capacity.step(model, args.quick, work)
        print("+ conversation events on vs off, embedded and production, runs alternated (events_cost.py)...",
              flush=True)
        from tools.bench import events_cost

        report["events_cost"] = events_cost.step(args.quick, work, model)
        soak_minutes = getattr(args, "soak_minutes", 30.0)
        print(f"+ soak on three hosts, {soak_minutes:g} min (make soak)...", flush=True)
        report["soak"] = cluster_steps.soak(soak_minutes, model)
    finally:
        report["summary"] = summarise(report)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        shutil.rmtree(work, ignore_errors=True)
    print_table(report)
    print(f"\nreport: {args.out}")
    return 0
