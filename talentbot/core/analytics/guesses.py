"""The assistant's best guesses for a message it did not understand, kept with its analytics row for the review queue.

What Rasa's parse data already holds, cut to what a reviewer needs: the classifier's top intents (``intent_ranking``,
without ``nlu_fallback``, which says only that none was sure) and the question bank's top entries (our ranker's
``question_bank.ranking``: ``score``, its share among the entries, and ``similarity``, how close the wording is to the
entry's nearest paraphrase). Stored as compact JSON in ``analytics_messages.guesses``::

    {"intents": [["ask_living_info", 0.41], ...], "entries": [["daily.sim_card", 0.62, 0.48], ...]}

Only names, ids and numbers: no text of the message. Light on purpose (no numpy, no model): the analytics consumer
imports it for every row it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from talentbot.core.nlu_output import QUESTION_BANK_KEY

ENTRY, INTENT = "entry", "intent"
"""Kinds of guess: a question-bank entry id, or an NLU intent name."""


@dataclass(frozen=True)
class Guess:
    """One of the assistant's best guesses for a message: a bank entry or an intent, and how strongly (0..1)."""

    kind: str  # ENTRY or INTENT
    id: str
    score: float


TOP_INTENTS = 3
TOP_ENTRIES = 3
NLU_FALLBACK = "nlu_fallback"

Stored = Dict[str, List[List[Any]]]


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value), 3)


def guesses_of(parse_data: Mapping[str, Any]) -> Optional[Stored]:
    """The guesses to store from a user message's parse data; None when it holds none."""
    intents: List[List[Any]] = []
    for item in parse_data.get("intent_ranking") or ():
        if not isinstance(item, Mapping):
            continue
        name, confidence = item.get("name"), _number(item.get("confidence"))
        if isinstance(name, str) and name and name != NLU_FALLBACK and confidence is not None:
            intents.append([name[:64], confidence])
        if len(intents) == TOP_INTENTS:
            break
    entries: List[List[Any]] = []
    bank = parse_data.get(QUESTION_BANK_KEY)
    ranking = bank.get("ranking") if isinstance(bank, Mapping) else None
    for item in ranking or ():
        if not isinstance(item, Mapping):
            continue
        entry, score, similarity = item.get("id"), _number(item.get("score")), _number(item.get("similarity"))
        if isinstance(entry, str) and entry and score is not None:
            entries.append([entry[:128], score, similarity if similarity is not None else 0.0])
        if len(entries) == TOP_ENTRIES:
            break
    if not intents and not entries:
        return None
    return {"intents": intents, "entries": entries}


def from_stored(stored: Any, offered: Sequence[str] = ()) -> Tuple[Guess, ...]:
    """The guesses of a stored row (its ``guesses`` JSON, and the "Did you mean" entries it offered, which were the
    assistant's best guesses too) as Guess values, bank entries first."""
    found: Dict[Tuple[str, str], float] = {}
    if isinstance(stored, Mapping):
        for item in _rows(stored.get("entries")):
            score = _number(item[1]) if len(item) > 1 else None
            if isinstance(item[0], str) and score is not None:
                found.setdefault((ENTRY, item[0]), score)
        for item in _rows(stored.get("intents")):
            score = _number(item[1]) if len(item) > 1 else None
            if isinstance(item[0], str) and score is not None:
                found.setdefault((INTENT, item[0]), score)
    for entry in offered or ():
        if isinstance(entry, str) and (ENTRY, entry) not in found:
            found[(ENTRY, entry)] = 1.0 / max(1, len(offered))
    return tuple(Guess(kind, id_, score) for (kind, id_), score in found.items())


def _rows(value: Any) -> Iterable[Sequence[Any]]:
    for item in value or ():
        if isinstance(item, (list, tuple)) and item:
            yield item
