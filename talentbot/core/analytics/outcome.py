"""What a custom action's reply says it did, for analysis: the ``outcome`` it puts in the reply's metadata.

The actions name their language in each reply's metadata already (actions/replies.py); beside it they name what the
reply is, in data rather than words, so the analytics consumer never has to recognise a reply by its text:

- ``{"answer": {"kind": "entry", "id": "<question bank entry>"}}``: a question-bank answer (``kind: changes`` when
  it is the entry's dated rule changes, ``kind: content`` for a topic-level answer from bot/content, ``id`` its key);
- ``{"did_you_mean": {"kind": "asked_first" | "after_answer", "ids": [...]}}``: the close entries offered, before
  any answer (the same question of several schemes) or after the best guess was answered;
- ``{"eligibility": {"outcome": "result" | "stopped" | "left", "schemes": {"TTPS": "eligible", ...}}}``: the end of
  the eligibility check, each scheme's status (never the user's facts);
- ``{"handoff": {"ticket": 12, "status": "waiting" | "assigned"}}``: the queue ticket opened (or found) for the user.

Rasa stores the metadata with the reply (``BotUttered.metadata["metadata"]``) and sends it to the channels with it,
which read only its ``language``.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional

OUTCOME_KEY = "outcome"

ANSWER, DID_YOU_MEAN, ELIGIBILITY, HANDOFF = "answer", "did_you_mean", "eligibility", "handoff"

ENTRY, CHANGES, CONTENT = "entry", "changes", "content"
"""Kinds of answer."""

ASKED_FIRST, AFTER_ANSWER = "asked_first", "after_answer"
"""Kinds of "Did you mean" offer."""

RESULT, STOPPED, LEFT = "result", "stopped", "left"
"""How an eligibility check ended."""

Outcome = Dict[str, Any]


def answered(kind: str, key: str) -> Outcome:
    return {ANSWER: {"kind": kind, "id": key}}


def offered(kind: str, keys: Iterable[str]) -> Outcome:
    return {DID_YOU_MEAN: {"kind": kind, "ids": list(keys)}}


def eligibility_ended(how: str, statuses: Optional[Mapping[str, str]] = None) -> Outcome:
    return {ELIGIBILITY: {"outcome": how, "schemes": dict(statuses or {})}}


def handed_off(ticket: int, status: str) -> Outcome:
    return {HANDOFF: {"ticket": ticket, "status": status}}
