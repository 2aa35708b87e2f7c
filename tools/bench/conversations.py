"""The development conversations (../shared/dev/conversations_examples.yml) replayed through the REST channel.

Each turn's reply must be in the expected language, contain one of `any_of` and none of `none_of`
(case-insensitive). A measurement, not a test: the examples are held out and never trained on.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, List

import httpx
import yaml

from talentbot.core import paths
from talentbot.core.language import detect

EXAMPLES = paths.DEV_SET / "conversations_examples.yml"


def check_turn(reply_text: str, expect: Dict) -> List[str]:
    """What is wrong with one reply (empty: it passes)."""
    problems = []
    language = detect(reply_text, current=None).language
    if expect.get("language") and language != expect["language"]:
        problems.append(f"language {language} instead of {expect['language']}")
    lowered = reply_text.lower()
    any_of = [str(x).lower() for x in expect.get("any_of") or []]
    if any_of and not any(x in lowered for x in any_of):
        problems.append(f"none of {expect['any_of']}")
    for unwanted in expect.get("none_of") or []:
        if str(unwanted).lower() in lowered:
            problems.append(f"contains {unwanted!r}")
    return problems


def run_examples(base_url: str, file: Path = EXAMPLES) -> Dict:
    conversations = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    failures, turns = [], 0
    with httpx.Client(timeout=60) as client:
        for conversation in conversations:
            sender = f"dev-{conversation['id']}-{uuid.uuid4().hex[:6]}"
            for turn in conversation["turns"]:
                turns += 1
                body = {"sender": sender, "message": turn["user"]}
                reply = client.post(f"{base_url}/webhooks/rest/webhook", json=body)
                text = "\n".join(m.get("text", "") for m in reply.json())
                problems = check_turn(text, turn.get("expect") or {})
                if problems:
                    failures.append({"id": conversation["id"], "user": turn["user"], "problems": problems,
                                     "reply": text[:300]})
    return {"turns": turns, "passed": turns - len(failures), "failures": failures}
