"""A user message's turn: what the assistant did about it, read from the events Rasa stored with it.

Rasa stores a turn in one go: the user's message, the slots the policies set, the actions run, the replies sent, and
the final ``action_listen``, all in the tracker store's one save, which hands them to the event broker one event at
a time. The events of a turn then travel apart: with several consumers on one queue, the message and its replies
reach different consumers in any order. So the turn is summed up where its events are still together, as they are
published (talentbot.rasa_plugins.event_broker), and the summary rides with the user message's event in a message
header (`TURN_HEADER`): the consumer turns that one delivery into one row, whatever order the others come in.

The summary holds no personal data: action names, the language, and the replies' outcomes
(talentbot.core.analytics.outcome), never a text or a slot value other than the language.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from talentbot.core.analytics.outcome import OUTCOME_KEY
from talentbot.core.i18n import EN, LANGUAGES

TURN_HEADER = "talentbot-turn"
"""The message header of a user message's event: the JSON of `summarize`'s result."""

SUMMARY_VERSION = 1

USER, ACTION, BOT, SLOT = "user", "action", "bot", "slot"
"""Rasa's `event` names of UserUttered, ActionExecuted, BotUttered and SlotSet."""

ANALYSED_EVENTS = frozenset({USER})
"""The events `talentbot events consume` reads: user messages, each with its turn's summary (records.rows_from makes
a row of nothing else). The event broker sends only these unless configured otherwise (its ``event_types``): a
turn is one event to spool and send instead of about nine, and replies and slot values stay out of the queue."""

ACTION_LISTEN = "action_listen"
LANGUAGE_SLOT = "language"

Event = Mapping[str, Any]


def turns_of(events: Sequence[Event]) -> List[Tuple[int, List[Event]]]:
    """For each user message in `events` (in the order published, one conversation or several interleaved): its
    index, and the events of its conversation after it, up to the conversation's next user message."""
    found: List[Tuple[int, List[Event]]] = []
    current: Dict[Any, List[Event]] = {}
    for index, event in enumerate(events):
        sender = event.get("sender_id")
        if event.get("event") == USER:
            current[sender] = []
            found.append((index, current[sender]))
        elif sender in current:
            current[sender].append(event)
    return found


def summarize(turn: Sequence[Event]) -> Dict[str, Any]:
    """The turn's actions (without ``action_listen``), its language (the `language` slot the LanguagePolicy set in
    it, else the language the first reply was given in) and the outcomes its replies state."""
    actions = [str(e.get("name")) for e in turn
               if e.get("event") == ACTION and e.get("name") not in (None, ACTION_LISTEN)]
    language: Optional[str] = None
    for event in turn:
        if event.get("event") == SLOT and event.get("name") == LANGUAGE_SLOT and event.get("value") in LANGUAGES:
            language = str(event.get("value"))
    outcome: Dict[str, Any] = {}
    for event in turn:
        if event.get("event") != BOT:
            continue
        if language is None:
            language = reply_language(event)
        stated = _reply_metadata(event).get(OUTCOME_KEY)
        if isinstance(stated, Mapping):
            for key, value in stated.items():
                outcome.setdefault(str(key), value)
    return {"v": SUMMARY_VERSION, "language": language, "actions": actions, "outcome": outcome}


def encode(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode(header: Any) -> Optional[Dict[str, Any]]:
    """A summary from a message header (str or bytes of JSON); None when absent or not a summary."""
    if isinstance(header, (bytes, bytearray)):
        header = header.decode("utf-8", "replace")
    if not isinstance(header, str):
        return None
    try:
        summary = json.loads(header)
    except ValueError:
        return None
    return summary if isinstance(summary, dict) and summary.get("v") == SUMMARY_VERSION else None


def _reply_metadata(event: Event) -> Mapping[str, Any]:
    """What a custom action put in its reply's metadata (Rasa nests it under the event metadata's ``metadata``)."""
    metadata = event.get("metadata")
    inner = metadata.get("metadata") if isinstance(metadata, Mapping) else None
    return inner if isinstance(inner, Mapping) else {}


def reply_language(event: Event) -> Optional[str]:
    """The language a reply was given in: a custom action's stated language, or the `language` slot value the
    domain response's variation was chosen for (the variation without a condition is the English one)."""
    stated = _reply_metadata(event).get(LANGUAGE_SLOT)
    if stated in LANGUAGES:
        return str(stated)
    metadata = event.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("utter_action"):
        return None
    for condition in metadata.get("condition") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "slot" \
                and condition.get("name") == LANGUAGE_SLOT:
            value = condition.get("value")
            return str(value) if value in LANGUAGES else None
    return EN
