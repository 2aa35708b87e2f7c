"""The review queue: what the assistant did not understand, grouped, and what supervisors decided about each group.

**A misunderstood message** (a *miss*) is a row of `analytics_messages` whose masked text is still kept and that
- fell back: the NLU's ``nlu_fallback``, or Rasa's ``action_default_fallback`` (no rule applied); or
- was met with a "Did you mean" offer that the user did not take:
  - an offer made *before* answering (``asked_first``: the same question of several schemes) is not taken when the
    conversation's next message was not answered with one of the offered entries (the user asked again in other
    words, gave up on it, or asked for a person);
  - an offer made *after* the best guess was answered (``after_answer``) is not taken when the next message fell
    back or was handed off: the answer did not help, and neither did the alternatives. (Moving on to another
    question is what a satisfied user does, so it does not count.)
  A conversation that ends at the offer says nothing either way and is not counted. Answers given with low
  confidence but no offer are not counted: the ranker was sure enough to answer, and the insights page follows
  those through the handoffs after them.
The texts are those records.py keeps (fallbacks and offers, masked) until the retention purges them; the queue
shows only what is still kept.

**Decisions** (`review_decisions`, `review_members`): a supervisor marks a group as a paraphrase of a bank entry or an
intent, as a content gap (with a note), or dismisses it. A decision covers exactly the messages of the group as the
supervisor saw it (their row ids are sent with it and stored, one decision per message); messages arriving later
are never covered by an earlier decision. They form an open group of their own, which the queue shows with the
earlier decision on the messages it resembles (`QueueGroup.earlier`: the same question came back), so it can be
decided the same way in one step. Withdrawing a decision sends its messages back to the queue. Nothing is trained
from a decision: `talentbot review export` writes the accepted paraphrases as files a maintainer commits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import yaml
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from talentbot.core import paths
from talentbot.core.analytics import db, outcome
from talentbot.core.analytics.grouping import (
    MAX_MISSES,
    Background,
    Group,
    Miss,
    group_misses,
    signature,
    subgroup,
)
from talentbot.core.analytics.guesses import ENTRY, INTENT, from_stored
from talentbot.core.analytics.models import messages, metadata
from talentbot.core.handoff.models import UtcDateTime

PARAPHRASE, CONTENT_GAP, DISMISSED = "paraphrase", "content_gap", "dismissed"
STATUSES = (PARAPHRASE, CONTENT_GAP, DISMISSED)
TARGET_KINDS = (INTENT, ENTRY)

NLU_FALLBACK, CORE_FALLBACK, OFFER_NOT_TAKEN = "nlu_fallback", "core_fallback", "offer_not_taken"
"""Why a message is a miss."""

MAX_NOTE = 2000
MAX_MEMBERS = MAX_MISSES
NOT_TARGETS = frozenset({"nlu_fallback"})
"""Intents no paraphrase can belong to (the fallback is what the classifier says when none fits)."""

_ID = BigInteger().with_variant(Integer, "sqlite")

decisions = Table(
    "review_decisions", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("group_id", String(16), nullable=False),  # the group's id as the supervisor saw it (grouping.group_id)
    Column("signature", String(64), nullable=False),  # grouping.signature of the members decided on
    Column("status", String(16), nullable=False),  # paraphrase, content_gap, dismissed
    Column("target_kind", String(8)),  # paraphrase: intent or entry
    Column("target_id", String(128)),  # the intent's name or the bank entry's id
    Column("note", Text),  # a content gap's note for the content team (a supervisor's words, no user text)
    Column("members", Integer, nullable=False),  # how many messages it covered when made
    Column("languages", JSON),  # their counts per language then
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("withdrawn_by", String(64)),  # withdrawn: its messages went back to the queue
    Column("withdrawn_at", UtcDateTime),
    CheckConstraint("status IN ('paraphrase', 'content_gap', 'dismissed')", name="ck_review_decisions_status"),
    CheckConstraint("status != 'paraphrase' OR (target_kind IN ('intent', 'entry') AND target_id IS NOT NULL)",
                    name="ck_review_decisions_target"),
)
Index("ix_review_decisions_decided_at", decisions.c.decided_at)

members = Table(
    "review_members", metadata,
    # one decision per message: a second decision on it fails on this key (two supervisors at once)
    Column("message_id", _ID, ForeignKey("analytics_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("decision_id", _ID, ForeignKey("review_decisions.id", ondelete="CASCADE"), nullable=False),
    Column("accepted", Boolean, nullable=False, server_default=text("true")),  # false: left out of the export
)
Index("ix_review_members_decision", members.c.decision_id)


class ReviewError(ValueError):
    """A decision that cannot be made as asked (the console answers 400 or 409 with the message)."""


class AlreadyDecided(ReviewError):
    """Some of the messages are covered by another decision already (another supervisor was quicker)."""


class NotFound(ReviewError):
    """No such decision, or messages that are not in the queue (purged, erased, never misses)."""


# --- what a miss is ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What the miss rule reads of a message: its outcome, not its text."""

    key: int
    nlu_fallback: bool = False
    core_fallback: bool = False
    did_you_mean: Optional[str] = None
    offered: Tuple[str, ...] = ()
    answer: Optional[str] = None
    handoff: bool = False


def miss_reason(turn: Turn, following: Optional[Turn]) -> Optional[str]:
    """Why `turn` is a miss (NLU_FALLBACK, CORE_FALLBACK, OFFER_NOT_TAKEN), given the conversation's next message
    (None: there is none yet); None when it is not one (the rules in the module's docstring)."""
    if turn.nlu_fallback:
        return NLU_FALLBACK
    if turn.core_fallback:
        return CORE_FALLBACK
    if turn.did_you_mean is None or following is None:
        return None
    if turn.did_you_mean == outcome.ASKED_FIRST:
        return None if following.answer in turn.offered else OFFER_NOT_TAKEN
    if following.nlu_fallback or following.core_fallback or following.handoff:
        return OFFER_NOT_TAKEN
    return None


# --- decisions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    id: int
    group_id: str
    signature: str
    status: str
    target_kind: Optional[str]
    target_id: Optional[str]
    note: Optional[str]
    members: int
    languages: Mapping[str, int]
    decided_by: str
    decided_at: dt.datetime
    withdrawn_by: Optional[str] = None
    withdrawn_at: Optional[dt.datetime] = None

    def json(self) -> Dict[str, Any]:
        return {"id": self.id, "group_id": self.group_id, "signature": self.signature, "status": self.status,
                "target": {"kind": self.target_kind, "id": self.target_id} if self.target_id else None,
                "note": self.note, "members": self.members, "languages": dict(self.languages),
                "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat(),
                "withdrawn_by": self.withdrawn_by,
                "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None}


@dataclass(frozen=True)
class Example:
    """A member of a decision as the export and the page read it: its masked text (None once purged)."""

    key: int
    text: Optional[str]
    language: Optional[str]
    accepted: bool


# --- the queue ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueGroup:
    """An open group: misses no decision covers, what made them misses, and the earlier decision on messages like
    them when the same question came back after a decision."""

    group: Group
    reasons: Mapping[str, int]
    earlier: Optional[Decision] = None


@dataclass(frozen=True)
class Queue:
    groups: Tuple[QueueGroup, ...]  # largest first
    misses: int  # open misses in all
    decided: int  # misses covered by a decision


def build_queue(misses_: Sequence[Miss], reasons: Mapping[int, str], decided: Mapping[int, Decision],
                background: Optional[Background] = None) -> Queue:
    """Groups every miss, those already decided included (they place the new ones next to what was decided on
    their like), then keeps the open part of each group."""
    groups: List[QueueGroup] = []
    for group in group_misses(misses_, background=background):
        open_part = subgroup(group, lambda m: m.key not in decided)
        if open_part is None:
            continue
        earlier = Counter(decided[m.key].id for m in group.members if m.key in decided)
        found = None
        if earlier:
            top = earlier.most_common(1)[0][0]
            found = next(decided[m.key] for m in group.members if m.key in decided and decided[m.key].id == top)
        groups.append(QueueGroup(open_part, dict(Counter(reasons.get(m.key, NLU_FALLBACK)
                                                         for m in open_part.members)), found))
    groups.sort(key=lambda g: (-g.group.size, g.group.members[0].key))
    open_count = sum(g.group.size for g in groups)
    return Queue(tuple(groups), open_count, sum(1 for m in misses_ if m.key in decided))


# --- targets -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a group may be marked a paraphrase of: an intent, or a bank entry (with its intent and labels)."""

    kind: str
    id: str
    intent: str
    labels: Mapping[str, str] = field(default_factory=dict)  # language -> the entry's first question

    def json(self) -> Dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "intent": self.intent, "labels": dict(self.labels)}


def domain_intents(domain: Path = paths.DOMAIN) -> List[str]:
    """The intents of the domain (every file of bot/domain), the fallback left out."""
    found: List[str] = []
    files = sorted(domain.glob("*.yml")) if domain.is_dir() else [domain]
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for intent in data.get("intents") or ():
            name = next(iter(intent)) if isinstance(intent, dict) else str(intent)
            if name not in found and name not in NOT_TARGETS:
                found.append(name)
    return found


def targets(intents: Iterable[str], entries: Iterable[Any]) -> List[Target]:
    """Intents first, then bank entries (objects with `id`, `intent`, `questions`), as the page's select lists them."""
    out = [Target(INTENT, name, name) for name in intents]
    for entry in entries:
        labels = {language: questions[0] for language, questions in entry.questions.items() if questions}
        out.append(Target(ENTRY, str(entry.id), str(entry.intent), labels))
    return out


# --- the store ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """The queue's input as read from the database."""

    misses: List[Miss]
    reasons: Dict[int, str]
    decided: Dict[int, Decision]


class ReviewStore:
    """The review tables beside the analytics table, in its database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: Optional[str] = None, migrate: bool = True) -> "ReviewStore":
        engine = db.make_engine(url or db.database_url())
        if migrate:
            db.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # reading

    def version(self) -> Tuple[Any, ...]:
        """Changes whenever the queue's input may have: a new message (a kept text, or the next message that makes
        an offer a miss), a text purged, a decision made or withdrawn (cheap: the console recomputes its groups only
        when this changes)."""
        with self.engine.connect() as connection:
            kept = connection.execute(select(
                select(func.max(messages.c.id)).scalar_subquery(),
                select(func.count()).where(messages.c.text.is_not(None)).scalar_subquery())).one()
            made = connection.execute(select(func.max(decisions.c.id), func.count(decisions.c.withdrawn_at))).one()
        return tuple(kept) + tuple(made)

    def candidates(self, limit: int = MAX_MISSES, since: Optional[dt.datetime] = None) -> Candidates:
        """The newest `limit` misses whose text is kept (oldest first), why each is one, and the active decision
        covering each decided one."""
        with self.engine.connect() as connection:
            conditions = [messages.c.text.is_not(None)]
            if since is not None:
                conditions.append(messages.c.sent_at >= since)
            rows = connection.execute(
                select(messages.c.id, messages.c.conversation, messages.c.sent_at, messages.c.text,
                       messages.c.language, messages.c.guesses, messages.c.nlu_fallback, messages.c.core_fallback,
                       messages.c.did_you_mean, messages.c.did_you_mean_ids)
                .where(and_(*conditions)).order_by(messages.c.id.desc()).limit(limit * 2)).all()
            following = self._following(connection, [r for r in rows if r.did_you_mean and not
                                                     (r.nlu_fallback or r.core_fallback)])
            found: List[Miss] = []
            reasons: Dict[int, str] = {}
            for row in reversed(rows):
                turn = Turn(int(row.id), bool(row.nlu_fallback), bool(row.core_fallback), row.did_you_mean,
                            tuple(row.did_you_mean_ids or ()))
                reason = miss_reason(turn, following.get(int(row.id)))
                if reason is None:
                    continue
                reasons[turn.key] = reason
                found.append(Miss(turn.key, str(row.text), row.language,
                                  from_stored(row.guesses, tuple(row.did_you_mean_ids or ()))))
            found = found[-limit:]
            decided = self._decided(connection, [m.key for m in found])
        return Candidates(found, {m.key: reasons[m.key] for m in found}, decided)

    def _following(self, connection: Connection, offers: Sequence[Any]) -> Dict[int, Turn]:
        """For each offer row, the next message of its conversation (by time, then id), if there is one."""
        result: Dict[int, Turn] = {}
        by_conversation: Dict[str, List[Any]] = {}
        for row in offers:
            by_conversation.setdefault(row.conversation, []).append(row)
        names = list(by_conversation)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            earliest = min(r.sent_at for name in chunk for r in by_conversation[name])
            later = connection.execute(
                select(messages.c.id, messages.c.conversation, messages.c.sent_at, messages.c.nlu_fallback,
                       messages.c.core_fallback, messages.c.answer, messages.c.handoff)
                .where(messages.c.conversation.in_(chunk), messages.c.sent_at >= earliest)
                .order_by(messages.c.conversation, messages.c.sent_at, messages.c.id)).all()
            timeline: Dict[str, List[Any]] = {}
            for row in later:
                timeline.setdefault(row.conversation, []).append(row)
            for name in chunk:
                rows = timeline.get(name, [])
                position = {int(r.id): i for i, r in enumerate(rows)}
                for offer in by_conversation[name]:
                    i = position.get(int(offer.id))
                    if i is not None and i + 1 < len(rows):
                        nxt = rows[i + 1]
                        result[int(offer.id)] = Turn(int(nxt.id), bool(nxt.nlu_fallback), bool(nxt.core_fallback),
                                                     answer=nxt.answer, handoff=bool(nxt.handoff))
        return result

    def _decided(self, connection: Connection, keys: Sequence[int]) -> Dict[int, Decision]:
        found: Dict[int, Decision] = {}
        for start in range(0, len(keys), 900):
            chunk = list(keys[start:start + 900])
            rows = connection.execute(
                select(members.c.message_id, decisions).join(decisions, decisions.c.id == members.c.decision_id)
                .where(members.c.message_id.in_(chunk), decisions.c.withdrawn_at.is_(None))).all()
            for row in rows:
                found[int(row.message_id)] = _decision(row)
        return found

    def queue(self, limit: int = MAX_MISSES, background: Optional[Background] = None) -> Queue:
        found = self.candidates(limit)
        return build_queue(found.misses, found.reasons, found.decided, background)

    def decisions(self, include_withdrawn: bool = False, limit: int = 200) -> List[Decision]:
        """The newest decisions first."""
        query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
        if not include_withdrawn:
            query = query.where(decisions.c.withdrawn_at.is_(None))
        with self.engine.connect() as connection:
            return [_decision(row) for row in connection.execute(query).all()]

    def get(self, decision_id: int) -> Decision:
        with self.engine.connect() as connection:
            row = connection.execute(select(decisions).where(decisions.c.id == decision_id)).first()
        if row is None:
            raise NotFound(f"no decision {decision_id}")
        return _decision(row)

    def examples(self, decision_ids: Sequence[int]) -> Dict[int, List[Example]]:
        """The members of each decision, oldest first, with their texts while kept."""
        found: Dict[int, List[Example]] = {i: [] for i in decision_ids}
        if not decision_ids:
            return found
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(members.c.decision_id, members.c.message_id, members.c.accepted, messages.c.text,
                       messages.c.language)
                .join(messages, messages.c.id == members.c.message_id)
                .where(members.c.decision_id.in_(list(decision_ids))).order_by(members.c.message_id)).all()
        for row in rows:
            found[int(row.decision_id)].append(Example(int(row.message_id), row.text, row.language,
                                                       bool(row.accepted)))
        return found

    # deciding

    def decide(self, group_id: str, keys: Sequence[int], status: str, by: str, now: dt.datetime,
               target_kind: Optional[str] = None, target_id: Optional[str] = None, note: Optional[str] = None,
               excluded: Sequence[int] = ()) -> Decision:
        """Records a decision on exactly the messages `keys` (the group as the supervisor saw it); `excluded`: members
        left out of the export (not paraphrases after all, or personal data the masking missed)."""
        keyset = _checked(status, keys, target_kind, target_id, note, excluded)
        with self.engine.begin() as connection:
            kept = set(connection.execute(select(messages.c.id).where(messages.c.id.in_(sorted(keyset)),
                                                                      messages.c.text.is_not(None))).scalars())
            if kept != keyset:
                raise NotFound(f"{len(keyset - kept)} of these messages are no longer in the queue (texts purged or "
                               "erased); reload the queue")
            languages = dict(Counter(r or "unknown" for r in connection.execute(
                select(messages.c.language).where(messages.c.id.in_(sorted(keyset)))).scalars()).most_common())
            decision = Decision(0, group_id[:16], signature(keyset), status,
                                target_kind if status == PARAPHRASE else None,
                                target_id if status == PARAPHRASE else None, (note or "").strip() or None,
                                len(keyset), languages, by, now)
            decision_id = int(connection.execute(insert(decisions).values(
                group_id=decision.group_id, signature=decision.signature, status=status,
                target_kind=decision.target_kind, target_id=decision.target_id, note=decision.note,
                members=decision.members, languages=languages, decided_by=by, decided_at=now,
            )).inserted_primary_key[0])
            try:  # the whole decision is rolled back when one of its messages was decided meanwhile
                connection.execute(insert(members), [
                    {"message_id": key, "decision_id": decision_id, "accepted": key not in set(excluded)}
                    for key in sorted(keyset)])
            except IntegrityError:
                raise AlreadyDecided("some of these messages were decided meanwhile (by another supervisor); "
                                     "reload the queue") from None
        return replace(decision, id=decision_id)

    def withdraw(self, decision_id: int, by: str, now: dt.datetime) -> Decision:
        """Withdraws an active decision: its messages go back to the queue (the decision stays, for the record)."""
        with self.engine.begin() as connection:
            done = connection.execute(update(decisions).where(decisions.c.id == decision_id,
                                                              decisions.c.withdrawn_at.is_(None))
                                      .values(withdrawn_by=by, withdrawn_at=now)).rowcount
            if not done:
                exists = connection.execute(select(decisions.c.id).where(decisions.c.id == decision_id)).first()
                raise NotFound(f"no decision {decision_id}") if exists is None \
                    else ReviewError(f"decision {decision_id} was withdrawn already")
            connection.execute(delete(members).where(members.c.decision_id == decision_id))
        return self.get(decision_id)

    # the export's input

    def accepted(self) -> List[Tuple[Decision, List[Example]]]:
        """The active paraphrase and content-gap decisions, oldest first, with their members."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(decisions).where(
                decisions.c.withdrawn_at.is_(None),
                or_(decisions.c.status == PARAPHRASE, decisions.c.status == CONTENT_GAP))
                .order_by(decisions.c.id)).all()
        found = [_decision(row) for row in rows]
        examples = self.examples([d.id for d in found])
        return [(d, examples[d.id]) for d in found]


def _checked(status: str, keys: Sequence[int], target_kind: Optional[str], target_id: Optional[str],
             note: Optional[str], excluded: Sequence[int]) -> Set[int]:
    if status not in STATUSES:
        raise ReviewError(f"status must be one of {', '.join(STATUSES)}")
    keyset = set(keys)
    if not keyset:
        raise ReviewError("a decision needs the group's messages")
    if len(keyset) > MAX_MEMBERS:
        raise ReviewError(f"at most {MAX_MEMBERS} messages in one decision")
    if not set(excluded) <= keyset:
        raise ReviewError("excluded messages must be members of the group")
    if status == PARAPHRASE and (target_kind not in TARGET_KINDS or not target_id):
        raise ReviewError("a paraphrase needs its target: an intent or a bank entry")
    if status == CONTENT_GAP and not (note or "").strip():
        raise ReviewError("a content gap needs a note for the content team")
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(f"the note is over {MAX_NOTE} characters")
    return keyset


def _decision(row: Any) -> Decision:
    return Decision(int(row.id), row.group_id, row.signature, row.status, row.target_kind, row.target_id, row.note,
                    int(row.members), dict(row.languages or {}), row.decided_by, row.decided_at, row.withdrawn_by,
                    row.withdrawn_at)
