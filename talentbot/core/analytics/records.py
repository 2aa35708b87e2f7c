"""One published event (and the turn summary riding with it) into the analytics row it stands for, if any.

Only user messages make rows (one each); every other event is already summed up in its message's turn summary
(talentbot.core.analytics.turns) and is acknowledged without a row. A user message published without a summary (by
Rasa's own brokers, or a producer other than ours) still makes its row, with what the message itself says.

Personal data stays out: the sender id becomes its keyed hash, and the message text is kept only when the assistant
may not have understood it (the NLU's `nlu_fallback`, Rasa's `action_default_fallback` when no rule applied, or a
"Did you mean" offer, which the review queue counts as a miss when the user does not take it), masked
(talentbot.core.analytics.masking) and cut to `MAX_TEXT` characters, with the assistant's best guesses beside it
(talentbot.core.analytics.guesses).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from talentbot.core.analytics import outcome as outcomes
from talentbot.core.analytics.guesses import guesses_of
from talentbot.core.analytics.identity import conversation_key, event_key
from talentbot.core.analytics.masking import mask_personal_data
from talentbot.core.analytics.turns import TURN_HEADER, USER, decode
from talentbot.core.nlu_output import QUESTION_BANK_KEY

NLU_FALLBACK = "nlu_fallback"
CORE_FALLBACK = "action_default_fallback"
HANDOFF_ACTION = "action_handoff"

MAX_TEXT = 2000
"""The channels' own message limit: nothing longer is ever handled."""


class Malformed(ValueError):
    """A delivery that is not a Rasa event (it can never be stored; it is acknowledged and counted)."""


def parse(body: Union[bytes, str]) -> Dict[str, Any]:
    """The event a broker message carries (Rasa's JSON: the event's dict with its ``sender_id``)."""
    try:
        event = json.loads(body)
    except ValueError as error:
        raise Malformed(f"not JSON: {error}") from None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        raise Malformed("not a Rasa event")
    return event


def message_row(event: Mapping[str, Any], summary: Optional[Mapping[str, Any]], salt: bytes,
                now: dt.datetime) -> Optional[Dict[str, Any]]:
    """The row of a user message's event, None for any other event."""
    if event.get("event") != USER:
        return None
    sender = event.get("sender_id")
    timestamp = event.get("timestamp")
    if not isinstance(sender, str) or not sender or isinstance(timestamp, bool) \
            or not isinstance(timestamp, (int, float)):
        raise Malformed("a user message without its sender_id or timestamp")
    parse_data = _mapping(event.get("parse_data"))
    intent = _mapping(parse_data.get("intent"))
    bank = _mapping(parse_data.get(QUESTION_BANK_KEY))
    turn: Mapping[str, Any] = summary or {}
    actions = [str(a) for a in turn.get("actions") or []]
    stated = _mapping(turn.get("outcome"))
    answer = _mapping(stated.get(outcomes.ANSWER))
    offer = _mapping(stated.get(outcomes.DID_YOU_MEAN))
    handoff = _mapping(stated.get(outcomes.HANDOFF))
    eligibility = stated.get(outcomes.ELIGIBILITY)
    intent_name = _short(intent.get("name"), 64)
    nlu_fallback = intent_name == NLU_FALLBACK
    core_fallback = CORE_FALLBACK in actions
    text = event.get("text")
    keep_text = (nlu_fallback or core_fallback or bool(offer)) and isinstance(text, str) and bool(text)
    confidence = intent.get("confidence")
    ticket = handoff.get("ticket")
    return {
        "event_key": event_key(sender, USER, float(timestamp), salt),
        "conversation": conversation_key(sender, salt),
        "sent_at": dt.datetime.fromtimestamp(float(timestamp), dt.timezone.utc),
        "channel": _short(event.get("input_channel"), 32),
        "language": _short(turn.get("language"), 8),
        "intent": intent_name,
        "confidence": float(confidence) if isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
        else None,
        "intent_corrected_from": _short(bank.get("rewritten_from"), 64),
        "answer_kind": _short(answer.get("kind"), 16),
        "answer": _short(answer.get("id"), 128),
        "did_you_mean": _short(offer.get("kind"), 16),
        "did_you_mean_ids": [str(i) for i in offer.get("ids") or []] or None,
        "nlu_fallback": nlu_fallback,
        "core_fallback": core_fallback,
        "eligibility": dict(eligibility) if isinstance(eligibility, Mapping) else None,
        "handoff": HANDOFF_ACTION in actions,
        "handoff_ticket": ticket if isinstance(ticket, int) and not isinstance(ticket, bool) else None,
        "actions": actions or None,
        "text": mask_personal_data(str(text))[:MAX_TEXT] if keep_text else None,
        "guesses": guesses_of(parse_data) if keep_text else None,
        "stored_at": now,
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _short(value: Any, length: int) -> Optional[str]:
    """A string column's value: None for anything but a non-empty string, cut to the column's length."""
    return value[:length] if isinstance(value, str) and value else None


def might_be_a_user_message(body: Union[bytes, str], headers: Mapping[str, Any]) -> bool:
    """False only for a delivery that is surely another event, without parsing it (most of a turn's events): ours
    carry the turn summary on user messages, and Rasa writes ``"event"`` right after ``"sender_id"``."""
    if TURN_HEADER in (headers or {}):
        return True
    head = body[:400] if isinstance(body, str) else body[:400].decode("utf-8", "replace")
    return '"event": "user"' in head or '"event":"user"' in head or '"event"' not in head


def rows_from(deliveries: Iterable[Tuple[Union[bytes, str], Mapping[str, Any]]], salt: bytes,
              now: dt.datetime) -> Tuple[List[Dict[str, Any]], int]:
    """The rows of a batch of deliveries (body, headers), from RabbitMQ or the spool alike, and how many deliveries
    were malformed (never storable: the caller acknowledges them and logs the count)."""
    rows: List[Dict[str, Any]] = []
    malformed = 0
    for body, headers in deliveries:
        if not might_be_a_user_message(body, headers):
            continue
        try:
            row = message_row(parse(body), decode((headers or {}).get(TURN_HEADER)), salt, now)
        except Malformed:
            malformed += 1
            continue
        if row is not None:
            rows.append(row)
    return rows, malformed
