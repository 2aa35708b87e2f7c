"""The console's JSON shapes: the interface fields, waiting time, overdue flag, and event frames."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from talentbot.core.handoff.events import sse_frame
from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.store import Ticket
from talentbot.core.handoff.wire import ticket_summary
from tests.talentbot.conftest import hkt

OPENED = hkt("2026-03-02 10:00")
TICKET = Ticket(7, "rest:u1", "rest", "en", "requested", "waiting", None, None, "", [], [], OPENED, None, None, OPENED)


def test_waiting_ticket_summary() -> None:
    summary = ticket_summary(TICKET, OPENED + dt.timedelta(minutes=12), default_policy())
    assert list(summary)[:7] == ["id", "conversation_id", "channel", "language", "reason", "status", "created_at"]
    assert summary["created_at"] == "2026-03-02T02:00:00+00:00"
    assert summary["waiting_seconds"] == 720 and summary["overdue"] is True


def test_claimed_ticket_waited_until_its_claim_and_is_never_overdue() -> None:
    claimed = dataclasses.replace(TICKET, status="assigned", assignee="amy",
                                  claimed_at=OPENED + dt.timedelta(minutes=3))
    summary = ticket_summary(claimed, OPENED + dt.timedelta(hours=2), default_policy())
    assert summary["waiting_seconds"] == 180 and summary["overdue"] is False


def test_event_frames() -> None:
    frame = sse_frame("message", json.dumps({"text": "a\nb"}), 5).decode()
    assert frame == 'id: 5\nevent: message\ndata: {"text": "a\\nb"}\n\n'  # JSON keeps the data on one line
