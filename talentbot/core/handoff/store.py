"""The handoff queue's storage: the `TicketStore` interface and its SQL implementation (SQLite or PostgreSQL).

Every state change is one conditional UPDATE (`... WHERE status = 'waiting'`), so two processes or two staff racing
for the same ticket cannot both win: the loser's UPDATE matches no row and it is told who has the ticket. Likewise a
message joins a ticket with one conditional INSERT ... SELECT (`... WHERE status != 'resolved'`), so a message racing
a resolve is never stored on the closed ticket.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Sequence

from sqlalchemy import Boolean, String, Text, and_, func, insert, literal, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from talentbot.core.handoff import db
from talentbot.core.handoff.hours import HONG_KONG
from talentbot.core.handoff.models import SENDERS, STATUSES, UtcDateTime, messages, staff_users, tickets
from talentbot.core.handoff.policy import REASONS, QueuePolicy, is_overdue, median_wait, place_in_queue, queue_order


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- records and errors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """One handoff: a conversation waiting for, or handled by, a member of staff."""

    id: int
    conversation_id: str  # Rasa's sender id, also the recipient id on the channel
    channel: str  # the channel the user writes on (rest, socketio, telegram, wechat, whatsapp)
    language: str  # en, zh-Hant or zh-Hans: the language of the texts the user is sent
    reason: str  # policy.REASONS
    status: str  # waiting, assigned or resolved
    resolution: Optional[str]  # resolved or cancelled, once status is resolved
    assignee: Optional[str]  # the staff member handling it
    summary: str  # what the user asked
    schemes: List[str]  # schemes that came up
    topics: List[str]  # living topics that came up
    created_at: dt.datetime
    claimed_at: Optional[dt.datetime]
    resolved_at: Optional[dt.datetime]
    updated_at: dt.datetime


@dataclass(frozen=True)
class Message:
    """A message written while a ticket is open, by the user, a staff member or the queue."""

    id: int
    ticket_id: int
    sender: str  # models.SENDERS
    author: Optional[str]  # staff username for staff messages
    text: str
    delivered: Optional[bool]  # staff messages: whether the channel took it
    created_at: dt.datetime


@dataclass(frozen=True)
class Stats:
    """The supervisor view; "today" is the Hong Kong calendar day."""

    waiting: int
    assigned: int
    resolved_today: int
    median_wait_seconds: Optional[float]  # from opening to first claim, over tickets claimed today
    overdue: int  # waiting tickets past the unclaimed limit
    per_reason: Dict[str, int] = field(default_factory=dict)  # tickets opened today, by reason


class HandoffError(Exception):
    """Base of the store's errors; the message is fit to show to staff."""


class TicketNotFound(HandoffError):
    pass


class ClaimConflict(HandoffError):
    """Someone else claimed the ticket first (or it is no longer waiting)."""

    def __init__(self, ticket: Ticket) -> None:
        who = f" by {ticket.assignee}" if ticket.assignee else ""
        super().__init__(f"ticket {ticket.id} was already taken{who} (status {ticket.status})")
        self.ticket = ticket


class InvalidState(HandoffError):
    """The ticket is not in a state that allows this change (e.g. replying to a resolved ticket)."""


class UnknownStaff(HandoffError):
    pass


# --- the interface -------------------------------------------------------------------------------------------


class TicketStore(Protocol):
    """What the dialogue (opening tickets, relaying the user's messages) and the console need of the queue."""

    def open_ticket(self, conversation_id: str, channel: str, language: str, reason: str, summary: str = "",
                    schemes: Sequence[str] = (), topics: Sequence[str] = (),
                    now: Optional[dt.datetime] = None) -> Ticket: ...

    def get(self, ticket_id: int) -> Ticket: ...

    def open_ticket_for(self, conversation_id: str) -> Optional[Ticket]: ...

    def list_by_status(self, status: str) -> List[Ticket]: ...

    def place_in_queue(self, ticket_id: int) -> Optional[int]: ...

    def claim(self, ticket_id: int, username: str, now: Optional[dt.datetime] = None) -> Ticket: ...

    def transfer(self, ticket_id: int, to_username: str, now: Optional[dt.datetime] = None) -> Ticket: ...

    def resolve(self, ticket_id: int, now: Optional[dt.datetime] = None) -> Ticket: ...

    def cancel(self, ticket_id: int, now: Optional[dt.datetime] = None) -> Ticket: ...

    def add_message(self, ticket_id: int, sender: str, text: str, author: Optional[str] = None,
                    delivered: Optional[bool] = None, now: Optional[dt.datetime] = None) -> Message: ...

    def set_delivered(self, message_id: int, delivered: bool) -> None: ...

    def messages(self, ticket_id: int) -> List[Message]: ...

    def messages_after(self, message_id: int, limit: int = 100) -> List[Message]: ...

    def last_message_id(self) -> int: ...

    def last_change(self) -> Optional[dt.datetime]: ...

    def stats(self, policy: QueuePolicy, now: Optional[dt.datetime] = None) -> Stats: ...


# --- SQL implementation --------------------------------------------------------------------------------------


def _ticket(row: Row) -> Ticket:
    data = dict(row._mapping)
    data["schemes"] = list(data["schemes"] or [])
    data["topics"] = list(data["topics"] or [])
    return Ticket(**data)


def _message(row: Row) -> Message:
    return Message(**dict(row._mapping))


def _insert_if_open(ticket_id: int, sender: str, author: Optional[str], text: str, delivered: Optional[bool],
                    now: dt.datetime) -> Insert:
    """`INSERT INTO messages (...) SELECT :id, ... FROM tickets WHERE id = :id AND status != 'resolved'`: the status
    is checked by the statement that stores the message, so no resolve can come in between."""
    source = select(tickets.c.id, literal(sender, String), literal(author, String), literal(text, Text),
                    literal(delivered, Boolean), literal(now, UtcDateTime)).where(
        and_(tickets.c.id == ticket_id, tickets.c.status != "resolved")
    ).with_for_update(read=True)  # PostgreSQL: FOR SHARE waits for a resolve in progress (SQLite: one writer)
    return insert(messages).from_select(["ticket_id", "sender", "author", "text", "delivered", "created_at"], source)


def hong_kong_day_start(now: dt.datetime) -> dt.datetime:
    """Midnight at the start of `now`'s Hong Kong day, as an aware datetime."""
    local = now.astimezone(HONG_KONG)
    return dt.datetime(local.year, local.month, local.day, tzinfo=HONG_KONG)


class SqlTicketStore:
    """TicketStore on SQLAlchemy Core; the same statements run on SQLite and PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: Optional[str] = None) -> "SqlTicketStore":
        """Connects (HANDOFF_DB_URL or the default when `url` is None) and upgrades the schema to the latest."""
        engine = db.make_engine(url or db.database_url())
        db.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # tickets

    def open_ticket(self, conversation_id: str, channel: str, language: str, reason: str, summary: str = "",
                    schemes: Sequence[str] = (), topics: Sequence[str] = (),
                    now: Optional[dt.datetime] = None) -> Ticket:
        """Opens a waiting ticket, or returns the conversation's ticket that is still open (handing off twice must
        not queue the user twice)."""
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}")
        now = now or utcnow()
        values = dict(conversation_id=conversation_id, channel=channel, language=language, reason=reason,
                      status="waiting", summary=summary, schemes=list(schemes), topics=list(topics),
                      created_at=now, updated_at=now)
        try:
            with self.engine.begin() as connection:
                ticket_id = connection.execute(insert(tickets).values(**values)).inserted_primary_key[0]
        except IntegrityError:
            existing = self.open_ticket_for(conversation_id)
            if existing is None:
                raise
            return existing
        return self.get(ticket_id)

    def get(self, ticket_id: int) -> Ticket:
        with self.engine.connect() as connection:
            row = connection.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        if row is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return _ticket(row)

    def open_ticket_for(self, conversation_id: str) -> Optional[Ticket]:
        """The conversation's waiting or assigned ticket: where the user's messages go while the bot is paused."""
        with self.engine.connect() as connection:
            row = connection.execute(select(tickets).where(
                and_(tickets.c.conversation_id == conversation_id, tickets.c.status != "resolved"))).first()
        return None if row is None else _ticket(row)

    def list_by_status(self, status: str) -> List[Ticket]:
        """Tickets in `status`, oldest first (the queue's order)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(tickets).where(tickets.c.status == status).order_by(tickets.c.created_at, tickets.c.id))
            return queue_order(_ticket(row) for row in rows)

    def place_in_queue(self, ticket_id: int) -> Optional[int]:
        return place_in_queue(ticket_id, self.list_by_status("waiting"))

    def _change(self, ticket_id: int, condition: Any, values: Dict[str, Any]) -> bool:
        """One conditional UPDATE; True when it changed the ticket (the condition held at that instant)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(tickets).where(and_(tickets.c.id == ticket_id, condition)).values(**values))
            changed: bool = result.rowcount == 1  # (SQLAlchemy 1.4 ships no types)
            return changed

    def claim(self, ticket_id: int, username: str, now: Optional[dt.datetime] = None) -> Ticket:
        """Assigns a waiting ticket to `username`; raises ClaimConflict if another claim got there first."""
        now = now or utcnow()
        if self._change(ticket_id, tickets.c.status == "waiting",
                        dict(status="assigned", assignee=username, claimed_at=now, updated_at=now)):
            return self.get(ticket_id)
        raise ClaimConflict(self.get(ticket_id))

    def transfer(self, ticket_id: int, to_username: str, now: Optional[dt.datetime] = None) -> Ticket:
        """Hands an assigned ticket to another staff member (who must exist)."""
        now = now or utcnow()
        with self.engine.connect() as connection:
            if connection.execute(select(staff_users.c.username).where(
                    staff_users.c.username == to_username)).first() is None:
                raise UnknownStaff(f"no staff member {to_username!r}")
        if self._change(ticket_id, tickets.c.status == "assigned", dict(assignee=to_username, updated_at=now)):
            return self.get(ticket_id)
        status = self.get(ticket_id).status
        raise InvalidState(f"ticket {ticket_id} is {status}, only an assigned one can be transferred")

    def resolve(self, ticket_id: int, now: Optional[dt.datetime] = None) -> Ticket:
        """Closes a ticket staff have handled (or taken from the queue); the bot is then resumed by the caller."""
        now = now or utcnow()
        if self._change(ticket_id, tickets.c.status != "resolved",
                        dict(status="resolved", resolution="resolved", resolved_at=now, updated_at=now)):
            return self.get(ticket_id)
        raise InvalidState(f"ticket {ticket_id} is already resolved")

    def cancel(self, ticket_id: int, now: Optional[dt.datetime] = None) -> Ticket:
        """The user left the queue before anyone claimed the ticket (once claimed, staff decide when it ends)."""
        now = now or utcnow()
        if self._change(ticket_id, tickets.c.status == "waiting",
                        dict(status="resolved", resolution="cancelled", resolved_at=now, updated_at=now)):
            return self.get(ticket_id)
        raise InvalidState(f"ticket {ticket_id} is {self.get(ticket_id).status}, only a waiting one can be cancelled")

    # messages

    def add_message(self, ticket_id: int, sender: str, text: str, author: Optional[str] = None,
                    delivered: Optional[bool] = None, now: Optional[dt.datetime] = None) -> Message:
        """Adds a message to an open ticket in one conditional INSERT, so a message racing a resolve either lands
        before it or raises InvalidState (and the caller hands it to the assistant); never on a closed ticket."""
        if sender not in SENDERS:
            raise ValueError(f"sender must be one of {', '.join(SENDERS)}")
        now = now or utcnow()
        statement = _insert_if_open(ticket_id, sender, author, text, delivered, now)
        with self.engine.begin() as connection:
            message_id = self._inserted_id(connection, statement)
        if message_id is None:
            raise InvalidState(f"ticket {ticket_id} is {self.get(ticket_id).status}")  # get: TicketNotFound
        return Message(message_id, ticket_id, sender, author, text, delivered, now)

    def _inserted_id(self, connection: Connection, statement: Insert) -> Optional[int]:
        """The id of the row an INSERT ... SELECT added, None when it added none. SQLAlchemy 1.4 has no RETURNING
        on SQLite (nor inserted_primary_key for INSERT ... SELECT), where the cursor's lastrowid gives it."""
        if self.engine.dialect.full_returning:
            row = connection.execute(statement.returning(messages.c.id)).first()
            return None if row is None else int(row[0])
        result = connection.execute(statement)
        return int(result.lastrowid) if result.rowcount == 1 else None

    def set_delivered(self, message_id: int, delivered: bool) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(messages).where(messages.c.id == message_id).values(delivered=delivered))

    def messages(self, ticket_id: int) -> List[Message]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(messages).where(messages.c.ticket_id == ticket_id).order_by(messages.c.id))
            return [_message(row) for row in rows]

    def messages_after(self, message_id: int, limit: int = 100) -> List[Message]:
        """Messages of every ticket with an id above `message_id`, oldest first: the console's event stream."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(messages).where(messages.c.id > message_id).order_by(messages.c.id).limit(limit))
            return [_message(row) for row in rows]

    def last_message_id(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.max(messages.c.id))).scalar() or 0

    def last_change(self) -> Optional[dt.datetime]:
        """When any ticket last changed (opened, claimed, transferred, resolved)."""
        with self.engine.connect() as connection:
            latest: Optional[dt.datetime] = connection.execute(select(func.max(tickets.c.updated_at))).scalar()
            return latest

    # supervisor view

    def stats(self, policy: QueuePolicy, now: Optional[dt.datetime] = None) -> Stats:
        now = now or utcnow()
        day_start = hong_kong_day_start(now)
        with self.engine.connect() as connection:
            counts = dict(connection.execute(
                select(tickets.c.status, func.count()).where(tickets.c.status != "resolved")
                .group_by(tickets.c.status)).all())
            resolved_today = connection.execute(select(func.count()).where(
                and_(tickets.c.status == "resolved", tickets.c.resolved_at >= day_start))).scalar() or 0
            claimed = connection.execute(select(tickets.c.created_at, tickets.c.claimed_at).where(
                tickets.c.claimed_at >= day_start)).all()
            per_reason = dict(connection.execute(
                select(tickets.c.reason, func.count()).where(tickets.c.created_at >= day_start)
                .group_by(tickets.c.reason)).all())
            waiting_since = connection.execute(
                select(tickets.c.created_at).where(tickets.c.status == "waiting")).scalars().all()
        wait = median_wait([claimed_at - created_at for created_at, claimed_at in claimed])
        return Stats(
            waiting=counts.get("waiting", 0), assigned=counts.get("assigned", 0), resolved_today=resolved_today,
            median_wait_seconds=None if wait is None else wait.total_seconds(),
            overdue=sum(1 for created_at in waiting_since if is_overdue(created_at, now, policy)),
            per_reason={reason: int(count) for reason, count in sorted(per_reason.items())})


_process_store: Optional[SqlTicketStore] = None
_process_store_lock = threading.Lock()


def process_store() -> SqlTicketStore:
    """This process's store on HANDOFF_DB_URL's database, connected (and migrated) on first use: the action server
    and each Rasa process share one connection pool per process, and the database across processes."""
    global _process_store
    with _process_store_lock:
        if _process_store is None:
            _process_store = SqlTicketStore.from_url()
        return _process_store
