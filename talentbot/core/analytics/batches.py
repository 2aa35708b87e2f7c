"""Several conversation events in one broker message: the event broker's ``batch: true`` option.

By default each message is one event, its body exactly Rasa's JSON (what Rasa's own Pika broker sends), so any
consumer of Rasa events can read the queue. With ``batch: true`` (talentbot.rasa_plugins.event_broker), each publish
of the sender is one message instead: its body is the events' JSON bodies, unchanged, one per line (newline-delimited
JSON: Rasa's JSON never holds a raw newline), with the content type BATCH_CONTENT_TYPE and the header BATCH_HEADER (the
number of events); a user message's turn summary is in BATCH_TURNS_HEADER, a list aligned with the lines ("" where an
event has none). `talentbot events consume` reads both forms; another consumer would have to split the lines.

Why: a message costs the same whatever it holds, on every side: the Rasa server's publish and RabbitMQ's
confirmation, RabbitMQ's persistence, and above all the consumer's receiving it with aio-pika (~1.3 ms of CPU per
message measured, tools/bench/events_cost.py), so the events of the few turns a sender gathers go as one.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from talentbot.core.analytics.turns import TURN_HEADER

BATCH_CONTENT_TYPE = "application/x-ndjson"
BATCH_HEADER = "talentbot-batch"
BATCH_TURNS_HEADER = "talentbot-turns"

Delivery = Tuple[Union[bytes, str], Mapping[str, Any]]


def batch_message(items: Sequence[Tuple[str, Mapping[str, str]]]) -> Tuple[bytes, Dict[str, Any]]:
    """The body and headers of one message holding `items` (each event's JSON body and its own headers)."""
    body = "\n".join(event for event, _ in items).encode("utf-8")
    headers = {BATCH_HEADER: len(items),
               BATCH_TURNS_HEADER: [str((own or {}).get(TURN_HEADER) or "") for _, own in items]}
    return body, headers


def is_batch(headers: Optional[Mapping[str, Any]]) -> bool:
    return headers is not None and BATCH_HEADER in headers


def deliveries(body: Union[bytes, str], headers: Optional[Mapping[str, Any]]) -> List[Delivery]:
    """The (body, headers) of each event a message carries: itself, or each line of a batch with its summary."""
    if headers is None or BATCH_HEADER not in headers:
        return [(body, headers or {})]
    lines: List[Union[bytes, str]] = list(body.split(b"\n")) if isinstance(body, bytes) else list(body.split("\n"))
    turns = headers.get(BATCH_TURNS_HEADER)
    summaries: Sequence[Any] = turns if isinstance(turns, (list, tuple)) else ()
    found: List[Delivery] = []
    for index, line in enumerate(lines):
        summary = summaries[index] if index < len(summaries) else None
        found.append((line, {TURN_HEADER: summary} if summary else {}))
    return found
