"""Does the reply carry the fact that answers the question? Measured per language on question sets kept apart
from the bank: our own evaluation set (bench/eval/, written by someone who never saw the bank, each item with
its expected fact and, where labelled, its expected entry) and ../shared/dev/real_questions_examples.yml.

Two ways, the same items:
- `replay`: through the REST channel of a running assistant (the real thing: NLU, arbitration, rules, action);
- `offline`: the bank ranker and `choose.decide` in this process, for tuning without a server. It sees
  only the bank (no intent-level fallback), so it under-counts what the assistant gets right.
Never trained on: the files are only read here.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import httpx
import yaml

from talentbot.core import paths
from tools.bench.conversations import check_turn

EVAL_DIR = paths.ROOT / "bench" / "eval"
REAL_QUESTIONS = paths.DEV_SET / "real_questions_examples.yml"


def load_items(files: Iterable[Path]) -> List[Dict[str, Any]]:
    items: List[Dict[str, Any]] = []
    for file in files:
        if file.exists():
            items.extend(yaml.safe_load(file.read_text(encoding="utf-8")) or [])
    return items


def eval_files() -> List[Path]:
    """Questions as people write them in forums and chats, some with follow-ups; each labelled with its entry."""
    return sorted(EVAL_DIR.glob("questions_*.yml"))


def faq_files() -> List[Path]:
    """Questions as FAQ pages and forum titles word them (short, formal), written from the reference alone:
    not labelled with entries, so they are measured through the assistant only."""
    return sorted(EVAL_DIR.glob("faq_*.yml"))


def _language(turn: Dict[str, Any]) -> str:
    return str((turn.get("expect") or {}).get("language") or "?")


def replay(base_url: str, items: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Right-fact rate per language through the REST channel (every turn of every item)."""
    results = []
    with httpx.Client(timeout=60) as client:
        for item in items:
            sender = f"eval-{item['id']}-{uuid.uuid4().hex[:6]}"
            for turn in item["turns"]:
                body = {"sender": sender, "message": turn["user"]}
                reply = client.post(f"{base_url}/webhooks/rest/webhook", json=body)
                text = "\n".join(m.get("text", "") for m in reply.json())
                problems = check_turn(text, turn.get("expect") or {})
                results.append({"id": item["id"], "language": _language(turn), "user": turn["user"],
                                "passed": not problems, "problems": problems, "reply": text[:400]})
    return summarise(results)


def summarise(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    by_language: Dict[str, List[bool]] = defaultdict(list)
    for result in results:
        by_language[result["language"]].append(result["passed"])
    rates = {lang: {"turns": len(v), "passed": sum(v), "rate": round(sum(v) / len(v), 3)}
             for lang, v in sorted(by_language.items())}
    total = [r["passed"] for r in results]
    return {
        "by_language": rates,
        "all": {"turns": len(total), "passed": sum(total),
                "rate": round(sum(total) / len(total), 3) if total else None},
        "failures": [r for r in results if not r["passed"]],
    }


def offline(items: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Right fact of the bank's own choice, and top-1/top-3 entry accuracy where items name their entry."""
    from talentbot.core.content.loader import load_content
    from talentbot.core.qbank.choose import Context, decide, entries_of, weigh
    from talentbot.core.qbank.index import Index, documents_from
    from talentbot.core.qbank.loader import load_bank
    from talentbot.core.qbank.render import render_entry
    from talentbot.core.qbank.text import unnamed_features
    from talentbot.core.qbank.validate import default_masker

    bank = load_bank(paths.QUESTIONS)
    content = load_content()
    mask = default_masker()
    index = Index(documents_from(bank.entries), mask)
    results, ranks = [], defaultdict(list)
    for item in items:
        remembered: Optional[str] = None
        previous = None
        for turn in item["turns"]:
            unnamed, schemes = mask(turn["user"])  # once, as the NLU component does
            candidates = index.rank_features(unnamed_features(unnamed, schemes), also=entries_of(bank, schemes))
            context = Context(named=schemes, remembered=remembered, previous=previous)
            decision = decide(bank, candidates, context)
            language = _language(turn)
            if decision.answer is not None:
                text = render_entry(content, decision.answer, language).text
                previous = decision.answer
                if len(decision.answer.schemes) == 1:
                    remembered = decision.answer.schemes[0]
            elif decision.choices:
                text = "DID YOU MEAN " + " | ".join(c.label(language) for c in decision.choices)
            else:
                text = ""
            if schemes:
                remembered = schemes[0]
            problems = check_turn(text, turn.get("expect") or {})
            results.append({"id": item["id"], "language": language, "user": turn["user"], "passed": not problems,
                            "problems": problems, "reply": text[:200],
                            "top": [(e.id, round(s, 3)) for e, s in weigh(bank, candidates, context)[:3]]})
            expected = turn.get("entry") or item.get("entry")
            if expected:
                weighed = [e.id for e, _ in weigh(bank, candidates, context)]
                ranks[language].append(weighed.index(expected) + 1 if expected in weighed else 99)
    report = summarise(results)
    report["asked"] = sum(r["reply"].startswith("DID YOU MEAN") for r in results)
    report["unanswered"] = sum(r["reply"] == "" for r in results)
    report["ranking"] = {
        lang: {"items": len(r), "top1": round(sum(x == 1 for x in r) / len(r), 3),
               "top3": round(sum(x <= 3 for x in r) / len(r), 3)}
        for lang, r in sorted(ranks.items())
    }
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="replay through this running assistant instead of ranking offline")
    parser.add_argument("--real", action="store_true", help="the dev real questions instead of bench/eval")
    parser.add_argument("--faq", action="store_true", help="the FAQ-style set (bench/eval/faq_*.yml)")
    parser.add_argument("--failures", type=int, default=0, help="print this many failures")
    args = parser.parse_args(argv)
    items = load_items([REAL_QUESTIONS] if args.real else faq_files() if args.faq else eval_files())
    report = replay(args.url, items) if args.url else offline(items)
    failures = report.pop("failures")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    for failure in failures[: args.failures]:
        print(json.dumps(failure, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
