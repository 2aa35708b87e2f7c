"""The supervisors' figures for a period: traffic, top questions, misses, handoffs and eligibility checks.

Everything is computed from two tables that live in one database by default (talentbot.core.analytics.db):
`analytics_messages` (one row per user message, written by `talentbot events consume`) and the handoff queue's
`handoff_tickets` (reason, opened, first claimed). Each is read through its own engine, so ANALYTICS_DB_URL may point
the analytics elsewhere.

A period is whole days in Hong Kong time, first and last day included (the console's staff and the queue's staffed
hours are in Hong Kong; a server running in UTC gives the same days). The SQL is SQLAlchemy Core that runs on SQLite
and PostgreSQL alike and leaves the counting to the database where it can; what needs more than counting (the
percentiles of the waits, whether a ticket was opened in staffed hours, where an eligibility check started) is done
by the pure functions below, which take plain values and do no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Text, and_, case, cast, distinct, func, inspect, literal_column, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from talentbot.core.analytics import outcome
from talentbot.core.analytics.models import messages
from talentbot.core.analytics.tables import Cell, Table
from talentbot.core.eligibility.result import STATUS_RANK
from talentbot.core.eligibility_chat.slots import FORM_NAME
from talentbot.core.handoff.hours import HONG_KONG, StaffedHours, is_staffed
from talentbot.core.handoff.models import tickets
from talentbot.core.handoff.policy import REASONS
from talentbot.core.i18n import LANGUAGES
from talentbot.core.qbank.model import QuestionEntry

DEFAULT_DAYS = 7
"""The period the page opens with: the last 7 days, today included (the page also offers 30)."""

MAX_DAYS = 366
"""The longest period asked for at once: a year of days is still a small answer."""

TOP = 20
"""How many intents and answers the "top questions" tables list."""

UNKNOWN = "unknown"
"""The label of a message without a language or channel (a row written without a turn summary)."""

STAFFED, UNSTAFFED = "staffed hours", "outside staffed hours"

ELIGIBILITY_CONTEXT = dt.timedelta(days=1)
"""How far before the period the turns before its first eligibility turns are read: a check whose previous turn is
older than this (a user who left the form for a day) counts as started again."""


# --- the period ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days in Hong Kong time, `first` to `last` included."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        """Midnight starting `first`, Hong Kong time."""
        return dt.datetime.combine(self.first, dt.time(0), HONG_KONG)

    @property
    def end(self) -> dt.datetime:
        """Midnight after `last` (excluded)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), HONG_KONG)

    def days(self) -> List[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def json(self) -> Dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "time_zone": str(HONG_KONG)}


def hong_kong_today(now: dt.datetime) -> dt.date:
    return now.astimezone(HONG_KONG).date()


def last_days(days: int, now: dt.datetime) -> Period:
    """The last `days` Hong Kong days, today included."""
    today = hong_kong_today(now)
    return Period(today - dt.timedelta(days=days - 1), today)


def parse_period(first: Optional[str], last: Optional[str], now: dt.datetime, days: int = DEFAULT_DAYS) -> Period:
    """The period of `?from=YYYY-MM-DD&to=YYYY-MM-DD` (either may be missing: `to` defaults to today, `from` to
    `days` days before `to`). Raises ValueError, with a message fit for the user, on anything else."""
    try:
        end = dt.date.fromisoformat(last) if last else hong_kong_today(now)
        begin = dt.date.fromisoformat(first) if first else end - dt.timedelta(days=days - 1)
    except ValueError:
        raise ValueError("dates must be written YYYY-MM-DD") from None
    if begin > end:
        raise ValueError("`from` must not be after `to`")
    if (end - begin).days + 1 > MAX_DAYS:
        raise ValueError(f"a period may cover at most {MAX_DAYS} days")
    return Period(begin, end)


# --- pure computations -----------------------------------------------------------------------------------------


def percentile(values: Iterable[float], fraction: float) -> Optional[float]:
    """The `fraction` quantile (0.5: the median, 0.9: the 90th percentile) with linear interpolation between the
    closest ranks (numpy's default, and `statistics.median` at 0.5); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within 0..1")
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def rate(part: int, whole: int) -> Optional[float]:
    """part / whole rounded to 4 places (a share, 0..1); None when there is nothing to divide (not 0: no messages
    is not a fallback rate of zero)."""
    return None if whole <= 0 else round(part / whole, 4)


def seconds(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class TicketTimes:
    """What the handoff figures need of a ticket."""

    reason: str
    created_at: dt.datetime
    claimed_at: Optional[dt.datetime]
    status: str
    resolution: Optional[str]


@dataclass
class WaitFigures:
    """Tickets opened, claimed, cancelled unclaimed and still waiting, and the waits (opening to first claim) of the
    claimed ones."""

    opened: int = 0
    claimed: int = 0
    cancelled: int = 0
    waiting: int = 0
    waits: List[float] = field(default_factory=list)

    def add(self, ticket: TicketTimes) -> None:
        self.opened += 1
        if ticket.claimed_at is not None:
            self.claimed += 1
            self.waits.append(max(0.0, (ticket.claimed_at - ticket.created_at).total_seconds()))
        elif ticket.resolution == "cancelled":
            self.cancelled += 1
        elif ticket.status == "waiting":
            self.waiting += 1

    def row(self, label: str) -> Tuple[Cell, ...]:
        return (label, self.opened, self.claimed, self.cancelled, self.waiting,
                seconds(percentile(self.waits, 0.5)), seconds(percentile(self.waits, 0.9)))


WAIT_COLUMNS = ("Opened", "Claimed", "Left before a claim", "Still waiting", "Median wait (s)",
                "90th percentile wait (s)")


@dataclass
class HandoffFigures:
    by_reason: Dict[str, WaitFigures]
    by_hours: Dict[str, WaitFigures]
    total: WaitFigures


def handoff_figures(found: Iterable[TicketTimes], hours: StaffedHours) -> HandoffFigures:
    """Tickets by reason and by whether they were opened within staffed hours (the queue policy's hours: a ticket
    opened on Saturday night waits for Monday, and must not be mistaken for slow staff)."""
    by_reason: Dict[str, WaitFigures] = {reason: WaitFigures() for reason in REASONS}
    by_hours: Dict[str, WaitFigures] = {STAFFED: WaitFigures(), UNSTAFFED: WaitFigures()}
    total = WaitFigures()
    for ticket in found:
        by_reason.setdefault(ticket.reason, WaitFigures()).add(ticket)
        by_hours[STAFFED if is_staffed(ticket.created_at, hours) else UNSTAFFED].add(ticket)
        total.add(ticket)
    return HandoffFigures(by_reason, by_hours, total)


@dataclass(frozen=True)
class FormTurn:
    """A user message of a conversation that ran the eligibility form (or the message before it)."""

    conversation: str
    sent_at: dt.datetime
    form: bool  # the eligibility form ran in this turn
    ended: bool  # an eligibility check ended in this turn (its outcome was recorded)


def eligibility_starts(turns: Iterable[FormTurn], since: dt.datetime) -> int:
    """How many eligibility checks started at or after `since`: turns that ran the form when the conversation's
    previous turn did not (or ended a check). The form runs again on every answer, so counting its turns would count
    each question asked."""
    by_conversation: Dict[str, List[FormTurn]] = defaultdict(list)
    for turn in turns:
        by_conversation[turn.conversation].append(turn)
    started = 0
    for own in by_conversation.values():
        previous: Optional[FormTurn] = None
        for turn in sorted(own, key=lambda t: t.sent_at):
            if turn.form and (previous is None or not previous.form or previous.ended) and turn.sent_at >= since:
                started += 1
            previous = turn
    return started


@dataclass
class EligibilityFigures:
    started: int = 0
    ended: Dict[str, int] = field(default_factory=dict)  # outcome (result, stopped, left) -> checks
    schemes: Dict[str, Dict[str, int]] = field(default_factory=dict)  # scheme -> status -> checks with a result


def eligibility_outcomes(outcomes: Iterable[Any], started: int) -> EligibilityFigures:
    """The recorded ends of checks (the `eligibility` column: {"outcome": ..., "schemes": {scheme: status}}) summed
    up; schemes' statuses count only for checks that reached a result."""
    figures = EligibilityFigures(started=started, ended={outcome.RESULT: 0, outcome.STOPPED: 0, outcome.LEFT: 0})
    for ended in outcomes:
        if not isinstance(ended, Mapping):
            continue
        how = str(ended.get("outcome") or UNKNOWN)
        figures.ended[how] = figures.ended.get(how, 0) + 1
        statuses = ended.get("schemes")
        if how != outcome.RESULT or not isinstance(statuses, Mapping):
            continue
        for scheme, status in statuses.items():
            per = figures.schemes.setdefault(str(scheme), {})
            per[str(status)] = per.get(str(status), 0) + 1
    return figures


def status_order(statuses: Iterable[str]) -> List[str]:
    """Best first (eligible, likely, unknown, not eligible), then any other status by name."""
    return sorted(set(statuses), key=lambda status: (-STATUS_RANK.get(status, -1), status))


# --- reading the database ----------------------------------------------------------------------------------------


def has_analytics(engine: Engine) -> bool:
    """Whether the analytics table exists (no consumer may have run against this database yet)."""
    found: bool = inspect(engine).has_table(messages.name)
    return found


def hong_kong_day(engine: Engine, column: Any, period: Period) -> ColumnElement[Any]:
    """`column` (UTC, stored without a zone) as its Hong Kong day, 'YYYY-MM-DD', computed by the database. Hong Kong
    has kept one offset, UTC+8, with no summer time since 1979, so adding the offset is exact."""
    offset = HONG_KONG.utcoffset(dt.datetime.combine(period.first, dt.time(12)))
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    # constants, not bound parameters: PostgreSQL must see the GROUP BY expression as the SELECT's own
    if engine.dialect.name == "sqlite":
        day: ColumnElement[Any] = func.strftime(literal_column("'%Y-%m-%d'"), column,
                                                literal_column(f"'{minutes:+d} minutes'"))
        return day
    if engine.dialect.name == "postgresql":
        shifted: ColumnElement[Any] = func.to_char(column + literal_column(f"INTERVAL '{minutes} minutes'"),
                                                   literal_column("'YYYY-MM-DD'"))
        return shifted
    raise ValueError(f"insights need SQLite or PostgreSQL, not {engine.dialect.name}")


def _in(period: Period) -> ColumnElement[bool]:
    within: ColumnElement[bool] = and_(messages.c.sent_at >= period.start, messages.c.sent_at < period.end)
    return within


def _count_true(condition: ColumnElement[Any]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _label(value: Any) -> str:
    return str(value) if value else UNKNOWN


def form_ran() -> ColumnElement[bool]:
    """The turn's actions include the eligibility form (`actions` is a JSON list of names; its text has the name in
    quotes on both databases)."""
    ran: ColumnElement[bool] = cast(messages.c.actions, Text).like(f'%"{FORM_NAME}"%')
    return ran


@dataclass
class Traffic:
    conversations: int
    messages: int
    daily: List[Tuple[str, str, str, int, int]]  # day, language, channel, conversations, messages
    languages: List[Tuple[str, int, int]]  # language, conversations, messages
    channels: List[Tuple[str, int, int]]
    days: List[Tuple[str, int, int]]  # day, conversations, messages


def read_traffic(engine: Engine, period: Period) -> Traffic:
    """Conversations (distinct) and messages per day, language and channel; and each per language, per channel, per
    day and in all, each counted distinct at its own level (a conversation that changed language counts once in the
    period's total)."""
    day = hong_kong_day(engine, messages.c.sent_at, period).label("day")
    conversations = func.count(distinct(messages.c.conversation))
    count = func.count()
    with engine.connect() as connection:
        daily = connection.execute(
            select(day, messages.c.language, messages.c.channel, conversations, count).where(_in(period))
            .group_by(day, messages.c.language, messages.c.channel)).all()
        languages = connection.execute(select(messages.c.language, conversations, count).where(_in(period))
                                       .group_by(messages.c.language)).all()
        channels = connection.execute(select(messages.c.channel, conversations, count).where(_in(period))
                                      .group_by(messages.c.channel)).all()
        days = connection.execute(select(day, conversations, count).where(_in(period)).group_by(day)).all()
        total = connection.execute(select(conversations, count).where(_in(period))).one()
    return Traffic(
        conversations=int(total[0]), messages=int(total[1]),
        daily=sorted((str(d), _label(lang), _label(ch), int(c), int(m)) for d, lang, ch, c, m in daily),
        languages=sorted(((_label(lang), int(c), int(m)) for lang, c, m in languages), key=_language_order),
        channels=sorted(((_label(ch), int(c), int(m)) for ch, c, m in channels), key=lambda r: (-r[2], r[0])),
        days=sorted((str(d), int(c), int(m)) for d, c, m in days),
    )


def _language_order(row: Tuple[str, int, int]) -> Tuple[int, str]:
    return (LANGUAGES.index(row[0]) if row[0] in LANGUAGES else len(LANGUAGES), row[0])


def read_top(engine: Engine, period: Period, top: int = TOP) -> Tuple[List[Tuple[str, int]],
                                                                        List[Tuple[str, str, int]]]:
    """The most frequent intents, and the most often given answers (question-bank entries and topic answers)."""
    count = func.count().label("n")
    with engine.connect() as connection:
        intents = connection.execute(
            select(messages.c.intent, count).where(_in(period)).group_by(messages.c.intent)
            .order_by(count.desc(), messages.c.intent).limit(top)).all()
        answers = connection.execute(
            select(messages.c.answer_kind, messages.c.answer, count)
            .where(_in(period), messages.c.answer.is_not(None)).group_by(messages.c.answer_kind, messages.c.answer)
            .order_by(count.desc(), messages.c.answer).limit(top)).all()
    return ([(_label(intent), int(n)) for intent, n in intents],
            [(_label(kind), str(answer), int(n)) for kind, answer, n in answers])


@dataclass(frozen=True)
class Rates:
    """Per language (and in all): messages, fallbacks, "Did you mean" offers."""

    language: str
    messages: int
    nlu_fallbacks: int
    core_fallbacks: int
    fallbacks: int  # either kind
    did_you_mean: int
    asked_first: int
    after_answer: int

    def row(self) -> Tuple[Cell, ...]:
        return (self.language, self.messages, self.nlu_fallbacks, self.core_fallbacks, self.fallbacks,
                rate(self.fallbacks, self.messages), self.did_you_mean, self.asked_first, self.after_answer,
                rate(self.did_you_mean, self.messages))


def read_rates(engine: Engine, period: Period) -> List[Rates]:
    """Fallback and "Did you mean" counts per language, the all-languages line last."""
    nlu = messages.c.nlu_fallback.is_(True)
    core = messages.c.core_fallback.is_(True)
    columns = (func.count(), _count_true(nlu), _count_true(core), _count_true(or_(nlu, core)),
               _count_true(messages.c.did_you_mean.is_not(None)),
               _count_true(messages.c.did_you_mean == outcome.ASKED_FIRST),
               _count_true(messages.c.did_you_mean == outcome.AFTER_ANSWER))
    with engine.connect() as connection:
        per_language = connection.execute(
            select(messages.c.language, *columns).where(_in(period)).group_by(messages.c.language)).all()
        total = connection.execute(select(*columns).where(_in(period))).one()
    found = sorted((Rates(_label(row[0]), *(int(n) for n in row[1:])) for row in per_language),
                   key=lambda r: _language_order((r.language, 0, 0)))
    return [*found, Rates("all", *(int(n) for n in total))]


def read_tickets(engine: Engine, period: Period) -> List[TicketTimes]:
    """The handoff tickets opened in the period."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(tickets.c.reason, tickets.c.created_at, tickets.c.claimed_at, tickets.c.status,
                   tickets.c.resolution)
            .where(tickets.c.created_at >= period.start, tickets.c.created_at < period.end)).all()
    return [TicketTimes(*row) for row in rows]


def read_eligibility(engine: Engine, period: Period) -> EligibilityFigures:
    """Checks started (see eligibility_starts), and how the checks that ended in the period ended."""
    ran = form_ran()
    with engine.connect() as connection:
        with_form = select(messages.c.conversation).where(_in(period), ran).distinct().scalar_subquery()
        turns = connection.execute(
            select(messages.c.conversation, messages.c.sent_at, ran, messages.c.eligibility.is_not(None))
            .where(messages.c.conversation.in_(with_form), messages.c.sent_at >= period.start - ELIGIBILITY_CONTEXT,
                   messages.c.sent_at < period.end)).all()
        ended = connection.execute(
            select(messages.c.eligibility).where(_in(period), messages.c.eligibility.is_not(None))).scalars().all()
    started = eligibility_starts((FormTurn(c, s, bool(f), bool(e)) for c, s, f, e in turns), period.start)
    return eligibility_outcomes(ended, started)


# --- the report ------------------------------------------------------------------------------------------------


@dataclass
class Insights:
    """The figures of one period, as the page, the JSON API and the CSV files give them."""

    period: Period
    analytics: bool  # the analytics table exists (else only the handoff figures are real)
    summary: Dict[str, Any]
    series: Dict[str, Any]  # what the charts draw, every day of the period present
    tables: List[Table]

    def json(self) -> Dict[str, Any]:
        return {**self.period.json(), "analytics": self.analytics, "summary": self.summary, "series": self.series,
                "tables": {table.name: table.json() for table in self.tables}}


def build(period: Period, traffic: Traffic, top: Tuple[List[Tuple[str, int]], List[Tuple[str, str, int]]],
          rates: List[Rates], handoffs: HandoffFigures, eligibility: EligibilityFigures, analytics: bool = True,
          labels: Optional[Mapping[str, str]] = None) -> Insights:
    """The figures as tables, the charts' series and the headline numbers (pure: everything is passed in).
    `labels`: a question-bank entry's question as people ask it, shown beside its id."""
    labels = labels or {}
    intents, answers = top
    total_rates = rates[-1] if rates else Rates("all", 0, 0, 0, 0, 0, 0, 0)
    statuses = status_order(s for per in eligibility.schemes.values() for s in per)
    tables = [
        Table("languages", "Conversations and messages by language", ("Language", "Conversations", "Messages"),
              [tuple(row) for row in traffic.languages]),
        Table("channels", "Conversations and messages by channel", ("Channel", "Conversations", "Messages"),
              [tuple(row) for row in traffic.channels]),
        Table("days", "Conversations and messages by day", ("Day", "Conversations", "Messages"),
              [tuple(row) for row in traffic.days]),
        Table("daily", "By day, language and channel", ("Day", "Language", "Channel", "Conversations", "Messages"),
              [tuple(row) for row in traffic.daily]),
        Table("intents", f"Top {TOP} intents", ("Intent", "Messages", "Share"),
              [(intent, n, rate(n, traffic.messages)) for intent, n in intents]),
        Table("answers", f"Top {TOP} answers (question-bank entries and topic answers)",
              ("Kind", "Answer", "Question", "Times given"),
              [(kind, answer, labels.get(answer, ""), n) for kind, answer, n in answers]),
        Table("rates", "Fallbacks and \u201cDid you mean\u201d offers",
              ("Language", "Messages", "Not understood (NLU)", "No rule applied", "Fallbacks", "Fallback rate",
               "Did you mean", "Asked first", "After an answer", "Did you mean rate"),
              [r.row() for r in rates]),
        Table("handoff_reasons", "Handoffs by reason", ("Reason", *WAIT_COLUMNS),
              [figures.row(reason) for reason, figures in handoffs.by_reason.items()]
              + [handoffs.total.row("all")]),
        Table("handoff_hours", "Handoffs in and outside staffed hours", ("Opened", *WAIT_COLUMNS),
              [figures.row(when) for when, figures in handoffs.by_hours.items()]),
        Table("eligibility", "Eligibility checks", ("Stage", "Checks"),
              [("started", eligibility.started), *((f"ended: {how}", n) for how, n in eligibility.ended.items())]),
        Table("eligibility_schemes", "Eligibility results per scheme (checks that reached a result)",
              ("Scheme", *statuses),
              [(scheme, *(per.get(status, 0) for status in statuses))
               for scheme, per in sorted(eligibility.schemes.items())]),
    ]
    days = [day.isoformat() for day in period.days()]
    messages_by: Dict[str, Dict[str, int]] = defaultdict(dict)
    conversations_by: Dict[str, Dict[str, int]] = defaultdict(dict)
    for day, language, _channel, conversations, count in traffic.daily:
        messages_by[language][day] = messages_by[language].get(day, 0) + count
        conversations_by[language][day] = conversations_by[language].get(day, 0) + conversations
    order = [language for language, _c, _m in traffic.languages]
    series = {
        "days": days,
        "messages_by_language": {lang: [messages_by[lang].get(day, 0) for day in days] for lang in order},
        "conversations_by_language": {lang: [conversations_by[lang].get(day, 0) for day in days] for lang in order},
        "handoff_reasons": {reason: figures.opened for reason, figures in handoffs.by_reason.items()},
        "eligibility_schemes": {"statuses": statuses,
                                "schemes": {scheme: [per.get(status, 0) for status in statuses]
                                            for scheme, per in sorted(eligibility.schemes.items())}},
    }
    total = handoffs.total
    summary = {
        "conversations": traffic.conversations, "messages": traffic.messages,
        "fallback_rate": rate(total_rates.fallbacks, total_rates.messages),
        "did_you_mean_rate": rate(total_rates.did_you_mean, total_rates.messages),
        "handoffs": total.opened,
        "median_wait_seconds": seconds(percentile(total.waits, 0.5)),
        "p90_wait_seconds": seconds(percentile(total.waits, 0.9)),
        "eligibility_started": eligibility.started,
        "eligibility_finished": eligibility.ended.get(outcome.RESULT, 0),
    }
    return Insights(period, analytics, summary, series, tables)


EMPTY_TRAFFIC = Traffic(0, 0, [], [], [], [])


def insights(analytics_engine: Engine, handoff_engine: Engine, period: Period, hours: StaffedHours,
             labels: Optional[Mapping[str, str]] = None) -> Insights:
    """Every figure of `period`, read from the two databases (the same one by default)."""
    handoffs = handoff_figures(read_tickets(handoff_engine, period), hours)
    if not has_analytics(analytics_engine):
        return build(period, EMPTY_TRAFFIC, ([], []), [], handoffs, eligibility_outcomes([], 0), analytics=False,
                     labels=labels)
    return build(period, read_traffic(analytics_engine, period), read_top(analytics_engine, period),
                 read_rates(analytics_engine, period), handoffs, read_eligibility(analytics_engine, period),
                 labels=labels)


def entry_labels(entries: Iterable[QuestionEntry], language: str = "en") -> Dict[str, str]:
    """A question-bank entry's id -> its first question in `language` (the button label), for the tables."""
    found: Dict[str, str] = {}
    for entry in entries:
        questions: Sequence[str] = entry.questions.get(language) or ()
        if questions:
            found[entry.id] = questions[0]
    return found
