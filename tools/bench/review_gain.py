"""Does the review queue's export teach the NLU? Trains an NLU-only model without and with the exported paraphrases and
measures both on paraphrases held out from the export.

`python -m tools.bench.review_gain [--report FILE]`, from the test set tests/talentbot/core/analytics/data/
review_misses.yml: for each of its questions marked as a paraphrase of an intent or of a bank entry, every other
paraphrase (alternating within each language) goes into the review queue of a scratch database as that group's
accepted members, the other half is held out. `talentbot review export`'s own code writes the files
(talentbot.wiring.review_export_cli.export_from); then `rasa train nlu` with the project's config.yml trains, into
a temporary folder, once on nlu_data/ and bot/questions/ as they are and once with the export added (the NLU file
beside nlu_data/, the merged bank files in place of theirs). Reported: on the held-out paraphrases, the share whose
intent is the group's intent (intent groups), and the share whose best bank entry is the group's entry (entry
groups), for both models. Each training takes several minutes; nothing in models/, bot/ or nlu_data/ is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from talentbot.core import paths
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.review import PARAPHRASE, ReviewStore
from talentbot.core.analytics.store import AnalyticsStore
from tools.bench.review_data import Example, examples

SALT = b"review-gain-salt-0123456789"


def split(items: List[Example]) -> Tuple[Dict[str, List[Example]], Dict[str, List[Example]]]:
    """Per group with an intent or entry target: the exported half and the held-out half (its paraphrases taken in
    turn from each language, then every other one exported, so both halves have every language)."""
    groups: Dict[str, List[Example]] = defaultdict(list)
    for item in items:
        if item.group is not None and item.target and "gap" not in item.target:
            groups[item.group].append(item)
    exported: Dict[str, List[Example]] = {}
    held_out: Dict[str, List[Example]] = {}
    for name, members in groups.items():
        turn: Dict[str, int] = defaultdict(int)
        order = []
        for item in members:
            order.append((turn[item.language], item.language, item))
            turn[item.language] += 1
        ordered = [item for _, _, item in sorted(order, key=lambda t: (t[0], t[1]))]
        exported[name], held_out[name] = ordered[0::2], ordered[1::2]
    return exported, held_out


def write_export(exported: Dict[str, List[Example]], folder: Path) -> Dict[str, Any]:
    """The exported halves through the review queue and `talentbot review export`'s code, into `folder`."""
    from talentbot.wiring.review_export_cli import export_from

    url = f"sqlite:///{folder / 'analytics.sqlite3'}"
    store = AnalyticsStore.from_url(url)
    now = dt.datetime.now(dt.timezone.utc)
    rows = []
    for group in exported.values():
        for item in group:
            raw = {"sender_id": f"gain-{item.key}", "event": "user", "timestamp": float(item.key), "text": item.text,
                   "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.4}}}
            made = message_row(raw, {"v": 1, "language": item.language, "actions": [], "outcome": {}}, SALT, now)
            assert made is not None
            rows.append(made)
    store.add(rows)
    review = ReviewStore(store.engine)
    with store.engine.connect() as connection:
        keys = {text: key for key, text in connection.exec_driver_sql("SELECT id, text FROM analytics_messages")}
    for name, group in exported.items():
        target = group[0].target or {}
        kind, target_id = ("intent", target["intent"]) if "intent" in target else ("entry", target["entry"])
        review.decide(f"g-{name}"[:16], [keys[item.text] for item in group], PARAPHRASE, "bench", now, kind,
                      target_id)
    result = export_from(review, folder / "export")
    store.close()
    return {"summary": result.summary(), "files": sorted(result.files)}


def train(config: Path, nlu: Path, out: Path, name: str, cache: Path) -> Tuple[Path, float]:
    started = time.monotonic()
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore::DeprecationWarning", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    command = [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", str(nlu),
               "--out", str(out), "--fixed-model-name", name]
    subprocess.run(command, cwd=paths.ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return out / f"{name}.tar.gz", time.monotonic() - started


def evaluate(model: Path, held_out: Dict[str, List[Example]]) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    per_group: Dict[str, Dict[str, Any]] = {}
    right = {"intent": [0, 0], "entry": [0, 0]}
    for name, group in held_out.items():
        target = group[0].target or {}
        kind = "intent" if "intent" in target else "entry"
        hits, answers = 0, []
        for item in group:
            parsed = asyncio.run(agent.parse_message(item.text))
            ranking = (parsed.get("question_bank") or {}).get("ranking") or []
            got = parsed["intent"]["name"] if kind == "intent" else (ranking[0]["id"] if ranking else None)
            hits += int(got == target[kind])
            answers.append(got)
        right[kind][0] += hits
        right[kind][1] += len(group)
        per_group[name] = {"target": target[kind], "held_out": len(group), "right": hits, "answers": answers}
    return {"intent_accuracy": _share(right["intent"]), "entry_top1": _share(right["entry"]),
            "intent_examples": right["intent"][1], "entry_examples": right["entry"][1], "groups": per_group}


def _share(pair: List[int]) -> Optional[float]:
    return round(pair[0] / pair[1], 4) if pair[1] else None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=paths.ROOT / "bench" / "reports" / "review_gain.json")
    parser.add_argument("--keep", type=Path, default=None, help="keep the scratch folder here (default: deleted)")
    args = parser.parse_args(argv)
    exported, held_out = split(examples())
    scratch = Path(tempfile.mkdtemp(prefix="review-gain-"))
    try:
        export = write_export(exported, scratch)
        print(f"export: {export['summary']}", flush=True)
        # the two trainings differ only in their data: a copy of nlu_data/ and bot/questions/, then the export added
        config_text = paths.CONFIG.read_text(encoding="utf-8")
        runs: Dict[str, Dict[str, Any]] = {}
        for name, with_export in (("without", False), ("with", True)):
            base = scratch / name
            shutil.copytree(paths.NLU_DATA, base / "nlu_data")
            shutil.copytree(paths.QUESTIONS, base / "questions")
            if with_export:
                for path in (scratch / "export" / "nlu_data").glob("*.yml"):
                    shutil.copy(path, base / "nlu_data" / path.name)
                for path in (scratch / "export" / "bot" / "questions").glob("*.yml"):
                    if not path.name.endswith(".review.yml"):
                        shutil.copy(path, base / "questions" / path.name)
            config = base / "config.yml"
            config.write_text(config_text.replace("questions_path: bot/questions",
                                                  f"questions_path: {base / 'questions'}"), encoding="utf-8")
            print(f"training {name} the export...", flush=True)
            model, seconds = train(config, base / "nlu_data", scratch / "models", name, scratch / "cache")
            runs[name] = {"training_seconds": round(seconds), **evaluate(model, held_out)}
            print(f"{name}: intent accuracy {runs[name]['intent_accuracy']} on {runs[name]['intent_examples']}, "
                  f"bank top-1 {runs[name]['entry_top1']} on {runs[name]['entry_examples']} held-out paraphrases "
                  f"({runs[name]['training_seconds']} s training)", flush=True)
        report = {"date": dt.date.today().isoformat(), "export": export,
                  "exported": sum(len(g) for g in exported.values()),
                  "held_out": sum(len(g) for g in held_out.values()), "runs": runs}
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"report: {args.report}")
    finally:
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
