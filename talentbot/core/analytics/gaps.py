"""The weekly content-gap report: what the question bank should answer next, and what it answers badly or from old
sources.

Three tables for the content editors, over a period (by default the last 7 Hong Kong days):

- **unanswered**: the messages the assistant did not understand (``nlu_fallback``, or no rule applied), grouped by
  what they ask (talentbot.core.analytics.grouping), the biggest groups first, with their languages and the
  assistant's best guesses; the texts are the masked ones the analytics table keeps (talentbot.core.analytics.masking);
- **handoff_entries**: the answers after which users most often asked for a person: an answer (a bank entry, its
  rule changes, or a topic answer) followed by a handoff in the same conversation within the next
  `HANDOFF_WINDOW` user messages, counted per answer with the share of its answers that did so;
- **stale**: bank entries whose source's as-of date is older than a configurable age (`STALE_DAYS_VARIABLE`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from talentbot.core.analytics import outcome
from talentbot.core.analytics.grouping import INTENT, MAX_MISSES, Group, Guess, Miss, group_misses
from talentbot.core.analytics.guesses import from_stored
from talentbot.core.analytics.insights import Period, has_analytics, hong_kong_today, rate
from talentbot.core.analytics.models import messages
from talentbot.core.analytics.records import NLU_FALLBACK
from talentbot.core.analytics.tables import Cell, Table
from talentbot.core.qbank.loader import bank_dir, read_bank
from talentbot.core.qbank.model import QuestionEntry

HANDOFF_WINDOW = 3
"""An answer "led to" a handoff when one of the conversation's next this-many user messages was handed off."""

STALE_DAYS_VARIABLE = "TALENTBOT_CONTENT_STALE_DAYS"
DEFAULT_STALE_DAYS = 365
"""An entry whose source was last checked more than a year ago is due for a look (the immigration pages change
their figures yearly, with each policy address)."""

TOP = 20
"""Rows of the unanswered and handoff tables."""

ANSWER_KINDS = (outcome.ENTRY, outcome.CHANGES, outcome.CONTENT)


def stale_days(env: Mapping[str, str] = os.environ) -> int:
    """TALENTBOT_CONTENT_STALE_DAYS, else 365; anything but a whole number of days >= 1 is refused."""
    raw = (env.get(STALE_DAYS_VARIABLE) or "").strip()
    if not raw:
        return DEFAULT_STALE_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{STALE_DAYS_VARIABLE} must be a whole number of days, got {raw!r}") from None
    if days < 1:
        raise ValueError(f"{STALE_DAYS_VARIABLE} must be at least 1 day, got {days}")
    return days


_bank_lock = threading.Lock()
_bank_cache: Dict[Path, Tuple[Tuple[Tuple[str, float], ...], Tuple[QuestionEntry, ...]]] = {}


def bank_entries(directory: Optional[Path] = None) -> Tuple[QuestionEntry, ...]:
    """The question bank's entries as the editors' files say now (read again when a file changed, so an edited
    as-of date shows at once; entries that cannot be read are left out, `talentbot validate` reports them)."""
    folder = Path(directory) if directory is not None else bank_dir()
    stamp = tuple((path.name, path.stat().st_mtime) for path in sorted(folder.glob("*.yml")))
    with _bank_lock:
        cached = _bank_cache.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        bank, _problems = read_bank(folder)
        _bank_cache[folder] = (stamp, bank.entries)
        return bank.entries


# --- pure computations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """A user message of a conversation, as the handoff count needs it."""

    conversation: str
    sent_at: dt.datetime
    id: int  # the row's id: orders messages of one instant
    answer_kind: Optional[str]
    answer: Optional[str]
    handoff: bool


def answer_key(kind: Optional[str], answer: Optional[str]) -> Optional[Tuple[str, str]]:
    """(kind, id) of a given answer; an entry's rule changes count as the entry (their id is the entry's)."""
    if not answer or kind not in ANSWER_KINDS:
        return None
    return (outcome.ENTRY if kind == outcome.CHANGES else str(kind), answer)


def answers_before_handoff(turns: Iterable[Turn], since: dt.datetime, until: dt.datetime,
                           window: int = HANDOFF_WINDOW) -> Dict[Tuple[str, str], int]:
    """Per answer given in [since, until): how many times a handoff followed within the conversation's next `window`
    user messages (the messages after it may fall after `until`)."""
    by_conversation: Dict[str, List[Turn]] = defaultdict(list)
    for turn in turns:
        by_conversation[turn.conversation].append(turn)
    led: Dict[Tuple[str, str], int] = defaultdict(int)
    for own in by_conversation.values():
        ordered = sorted(own, key=lambda t: (t.sent_at, t.id))
        for index, turn in enumerate(ordered):
            key = answer_key(turn.answer_kind, turn.answer)
            if key is None or not since <= turn.sent_at < until:
                continue
            if any(later.handoff for later in ordered[index + 1:index + 1 + window]):
                led[key] += 1
    return dict(led)


def handoff_rows(given: Mapping[Tuple[str, str], int], led: Mapping[Tuple[str, str], int],
                 labels: Mapping[str, str], top: int = TOP) -> List[Tuple[Cell, ...]]:
    """The answers that led to a handoff, most handoffs first (then the higher share), with how often each was
    given and the share."""
    found = [(kind, answer, labels.get(answer, ""), given.get((kind, answer), count), count,
              rate(count, given.get((kind, answer), count)))
             for (kind, answer), count in led.items() if count > 0]
    found.sort(key=lambda row: (-int(row[4] or 0), -float(row[5] or 0.0), str(row[1])))
    return [tuple(row) for row in found[:top]]


def stale_entries(entries: Iterable[QuestionEntry], today: dt.date, max_age_days: int) -> List[Tuple[Cell, ...]]:
    """Bank entries whose as-of date is more than `max_age_days` before `today`, oldest first."""
    limit = today - dt.timedelta(days=max_age_days)
    old = sorted((entry for entry in entries if entry.as_of < limit), key=lambda e: (e.as_of, e.id))
    return [(entry.id, entry.file, entry.as_of.isoformat(), (today - entry.as_of).days, " ".join(entry.source))
            for entry in old]


# --- the unanswered groups -------------------------------------------------------------------------------------


def classifier_guess(intent: Optional[str], confidence: Optional[float]) -> Tuple[Guess, ...]:
    """What the analytics row says the assistant guessed: the intent no rule handled (an `nlu_fallback` says
    nothing, the classifier's own intent is not kept)."""
    if not intent or intent == NLU_FALLBACK:
        return ()
    return (Guess(INTENT, intent, float(confidence) if confidence is not None else 0.0),)


def unanswered_rows(groups: Sequence[Group], top: int = TOP) -> List[Tuple[Cell, ...]]:
    """The biggest groups first: representative (masked) text, messages, messages per language, best guesses."""
    return [(group.representative, group.size,
             ", ".join(f"{language} {count}" for language, count in group.languages.items()),
             ", ".join(guess.id for guess in group.guesses[:3]))
            for group in sorted(groups, key=lambda g: -g.size)[:top]]


# --- reading the database --------------------------------------------------------------------------------------


def read_misses(engine: Engine, period: Period) -> List[Miss]:
    """The period's messages not understood whose masked text is still kept (the newest MAX_MISSES), oldest first,
    with the assistant's best guesses: those kept with the row (talentbot.core.analytics.guesses), the entries a
    "Did you mean" offered, else the intent no rule handled."""
    missed = and_(messages.c.sent_at >= period.start, messages.c.sent_at < period.end,
                  or_(messages.c.nlu_fallback.is_(True), messages.c.core_fallback.is_(True)))
    with engine.connect() as connection:
        rows = connection.execute(
            select(messages.c.id, messages.c.text, messages.c.language, messages.c.intent, messages.c.confidence,
                   messages.c.guesses, messages.c.did_you_mean_ids)
            .where(missed, messages.c.text.is_not(None)).order_by(messages.c.id.desc()).limit(MAX_MISSES)).all()
    return [Miss(int(key), str(text), language,
                 from_stored(guesses, offered or ()) or classifier_guess(intent, confidence))
            for key, text, language, intent, confidence, guesses, offered in reversed(rows)]


def count_misses(engine: Engine, period: Period) -> int:
    with engine.connect() as connection:
        counted: int = connection.execute(select(func.count()).where(
            messages.c.sent_at >= period.start, messages.c.sent_at < period.end,
            or_(messages.c.nlu_fallback.is_(True), messages.c.core_fallback.is_(True)))).scalar_one()
    return counted


def read_answers(engine: Engine, period: Period) -> Tuple[Dict[Tuple[str, str], int], List[Turn]]:
    """How often each answer was given in the period, and the turns of the conversations with a handoff in it (or
    just after it: an answer on the last day may lead to a handoff the next morning)."""
    later = period.end + dt.timedelta(days=1)
    with engine.connect() as connection:
        given_rows = connection.execute(
            select(messages.c.answer_kind, messages.c.answer, func.count())
            .where(messages.c.sent_at >= period.start, messages.c.sent_at < period.end,
                   messages.c.answer.is_not(None), messages.c.answer_kind.in_(ANSWER_KINDS))
            .group_by(messages.c.answer_kind, messages.c.answer)).all()
        handed_off = select(messages.c.conversation).where(
            messages.c.sent_at >= period.start, messages.c.sent_at < later,
            messages.c.handoff.is_(True)).distinct().scalar_subquery()
        turns = connection.execute(
            select(messages.c.conversation, messages.c.sent_at, messages.c.id, messages.c.answer_kind,
                   messages.c.answer, messages.c.handoff)
            .where(and_(messages.c.conversation.in_(handed_off), messages.c.sent_at >= period.start,
                        messages.c.sent_at < later))).all()
    given: Dict[Tuple[str, str], int] = defaultdict(int)
    for kind, answer, count in given_rows:
        key = answer_key(kind, answer)
        if key is not None:
            given[key] += int(count)
    return dict(given), [Turn(c, s, int(i), k, a, bool(h)) for c, s, i, k, a, h in turns]


# --- the report ------------------------------------------------------------------------------------------------


@dataclass
class GapReport:
    period: Period
    stale_days: int
    analytics: bool
    misses: int  # messages not understood in the period
    tables: List[Table]

    def json(self) -> Dict[str, Any]:
        return {**self.period.json(), "stale_days": self.stale_days, "analytics": self.analytics,
                "misses": self.misses, "tables": {table.name: table.json() for table in self.tables}}


def build(period: Period, stale_after: int, misses: int, groups: Sequence[Group],
          given: Mapping[Tuple[str, str], int], led: Mapping[Tuple[str, str], int],
          entries: Sequence[QuestionEntry], today: dt.date, labels: Mapping[str, str],
          analytics: bool = True) -> GapReport:
    """The report's tables (pure: everything is passed in)."""
    tables = [
        Table("unanswered", f"Top unanswered questions (groups of messages not understood, top {TOP})",
              ("Question (masked)", "Messages", "Languages", "Best guesses"), unanswered_rows(groups)),
        Table("handoff_entries", f"Answers followed by a handoff within {HANDOFF_WINDOW} messages",
              ("Kind", "Answer", "Question", "Times given", "Followed by a handoff", "Share"),
              handoff_rows(given, led, labels)),
        Table("stale", f"Bank entries whose as-of date is more than {stale_after} days old",
              ("Entry", "File", "As of", "Age (days)", "Source"), stale_entries(entries, today, stale_after)),
    ]
    return GapReport(period, stale_after, analytics, misses, tables)


def gap_report(engine: Optional[Engine], period: Period, entries: Sequence[QuestionEntry], now: dt.datetime,
               stale_after: int, labels: Mapping[str, str]) -> GapReport:
    """The report of `period` from the analytics database (None: there is none yet), with the bank's `entries` for
    the stale ones."""
    today = hong_kong_today(now)
    if engine is None or not has_analytics(engine):
        return build(period, stale_after, 0, [], {}, {}, entries, today, labels, analytics=False)
    given, turns = read_answers(engine, period)
    led = answers_before_handoff(turns, period.start, period.end)
    misses = read_misses(engine, period)
    # grouped as the review queue groups them (talentbot.core.analytics.review), so the two show the same groups
    groups = group_misses(misses) if misses else []
    return build(period, stale_after, count_misses(engine, period), groups, given, led, entries, today, labels)
