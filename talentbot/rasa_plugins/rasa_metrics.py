"""The Rasa server's metrics: messages, their handling time, fallbacks, "Did you mean" offers, store errors and calls
to the action server.

`install()` (called by talentbot.wiring.rasa_server before Rasa builds its app) wraps three of Rasa's methods:

- `Agent.handle_message`, which every channel's message goes through (the conversation's lock, then the turn):
  counts the message by channel, language and outcome and times it. The language and what the turn did are read
  from the tracker it stored (`MessageProcessor.save_tracker`, wrapped to hand the tracker over through a context
  variable: no second read of the store), after the turn, by talentbot.core.observability.turns.
- `RemoteAction.run`, each call of a custom action on the action server as Rasa makes it: counted by action and
  outcome, and timed (the HTTP round trip, the answer's validation and sending its messages to the channel).

Store errors are counted where stores report them (talentbot.core.store_outages: every failed operation of the
tracker store, the lock store and the handoff queue in this process). Messages the handoff gate passes to a member
of staff (connectors/handoff_gate.py) never reach the agent, so they are not counted here.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Collection, Dict, List, Optional, Set, Type

from prometheus_client import Counter, Histogram

from talentbot.core.observability import metrics, turns
from talentbot.core.store_outages import store_outage

MESSAGES = Counter("talentbot_messages_total",
                   "Messages from the channels handled by the assistant, by channel, language (the conversation's "
                   "after the turn; unknown when the turn was not stored) and outcome",
                   ["channel", "language", "outcome"])
MESSAGE_SECONDS = Histogram("talentbot_message_duration_seconds",
                            "Time from a channel's message reaching Rasa's agent to its turn being stored (lock, NLU, "
                            "policies, actions, tracker store)",
                            ["channel"], buckets=metrics.SECONDS_BUCKETS)
FALLBACKS = Counter("talentbot_fallbacks_total",
                    "Turns that fell back: nlu_fallback (the NLU could not place the message) or "
                    "action_default_fallback (no rule applied)",
                    ["kind", "language"])
OFFERS = Counter("talentbot_did_you_mean_offers_total",
                 "\"Did you mean\" offers of the question bank: asked_first (which of these?) or after_answer (the "
                 "best guess answered, the other close questions offered)",
                 ["kind", "language"])
ACTION_CALLS = Counter("talentbot_action_server_calls_total",
                       "Custom action calls to the action server, by action and outcome (ok, rejected, error)",
                       ["action", "outcome"])
ACTION_CALL_SECONDS = Histogram("talentbot_action_server_call_duration_seconds",
                                "Time of a custom action call as Rasa makes it (round trip, validation, sending "
                                "its messages)",
                                ["action"], buckets=metrics.SECONDS_BUCKETS)

ANSWERED = "answered"
STORE_UNAVAILABLE = "store_unavailable"
FAILED = "error"
"""A message's outcome: its turn ran and was stored; a store could not be reached (the channel asks the user to send
it again); anything else went wrong."""

OK = "ok"
REJECTED = "rejected"
"""An action call's outcome: its events came back; the action server rejected it (400); or FAILED."""

CHANNELS: Set[str] = set()
"""The input channels' names (set by `prepare` from the channels the app is built with): the only channel label
values besides `other` and `unknown`."""

HEADINGS: Dict[str, str] = {}
"""The "Did you mean" headings in every language (`prepare`), mapped to the kind of offer."""


USER, ACTION, BOT = "user", "action", "bot"
"""The `type_name` of Rasa's UserUttered, ActionExecuted and BotUttered events."""


class Turn:
    """Hands the tracker a turn stored over to `Agent.handle_message`'s wrapper."""

    __slots__ = ("tracker",)

    def __init__(self) -> None:
        self.tracker: Any = None


CURRENT_TURN: ContextVar[Optional[Turn]] = ContextVar("talentbot_current_turn", default=None)

_installed = False


def prepare(channel_names: Collection[str]) -> None:
    """Before the server starts (in the main process, so every worker inherits it): the channels' names and the
    offer headings of the content (about 0.2 s, once)."""
    from talentbot.core.content import load_content

    CHANNELS.update(channel_names)
    HEADINGS.update(turns.offer_headings(load_content().phrases))


def summary(tracker: Any) -> turns.TurnSummary:
    """What the tracker's last turn (the events since its last user message) counts for."""
    intent: Optional[str] = None
    actions: List[str] = []
    texts: List[str] = []
    for event in reversed(tracker.events):
        kind = event.type_name  # a class attribute: cheaper than isinstance against Rasa's abstract classes
        if kind == USER:
            intent = (event.intent or {}).get("name")
            break
        if kind == ACTION:
            actions.append(event.action_name or "")
        elif kind == BOT and event.text:
            texts.append(event.text)
    return turns.summarize(tracker.get_slot("language"), intent, actions, texts, HEADINGS)


def record(channel: Optional[str], tracker: Any, outcome: str, seconds: float) -> None:
    """Counts one message and what its turn did."""
    channel_label = metrics.label(channel, CHANNELS)
    language = metrics.UNKNOWN
    if tracker is not None:
        found = summary(tracker)
        language = found.language
        for kind in found.fallbacks:
            FALLBACKS.labels(kind, language).inc()
        for kind in found.offers:
            OFFERS.labels(kind, language).inc()
    MESSAGES.labels(channel_label, language, outcome).inc()
    MESSAGE_SECONDS.labels(channel_label).observe(seconds)


def counted(handle_message: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """`Agent.handle_message` counted and timed: the message by channel, language and outcome, and what its turn
    did (from the tracker `handing_over` saw stored)."""

    async def counted_handle_message(self: Any, message: Any) -> Any:
        turn = Turn()
        token = CURRENT_TURN.set(turn)
        start = time.perf_counter()
        outcome = FAILED
        try:
            result = await handle_message(self, message)
            outcome = ANSWERED
            return result
        except Exception as error:
            if store_outage(error) is not None:
                outcome = STORE_UNAVAILABLE
            raise
        finally:
            CURRENT_TURN.reset(token)
            record(message.input_channel, turn.tracker, outcome, time.perf_counter() - start)

    counted_handle_message.__doc__ = f"Agent.handle_message, counted and timed ({__name__})."
    return counted_handle_message


def handing_over(save_tracker: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    """`MessageProcessor.save_tracker` handing the tracker it stored to the message's `Turn`, if any."""

    async def save_and_hand_over(self: Any, tracker: Any) -> None:
        await save_tracker(self, tracker)
        turn = CURRENT_TURN.get()
        if turn is not None:
            turn.tracker = tracker

    save_and_hand_over.__doc__ = f"MessageProcessor.save_tracker, handing the tracker to the metrics ({__name__})."
    return save_and_hand_over


def timed_action(run: Callable[..., Awaitable[Any]], rejection: Type[BaseException]) -> Callable[..., Any]:
    """`RemoteAction.run` counted by action and outcome (`rejection`: the action server's 400), and timed."""

    async def timed_run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        start = time.perf_counter()
        outcome = FAILED
        try:
            events = await run(self, output_channel, nlg, tracker, domain)
            outcome = OK
            return events
        except rejection:
            outcome = REJECTED
            raise
        finally:
            action = metrics.label(self.name())
            ACTION_CALLS.labels(action, outcome).inc()
            ACTION_CALL_SECONDS.labels(action).observe(time.perf_counter() - start)

    timed_run.__doc__ = f"RemoteAction.run, counted and timed ({__name__})."
    return timed_run


def install() -> None:
    """Wraps Rasa's methods above and counts this process's store errors; a second call does nothing."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    Agent.handle_message = counted(Agent.handle_message)  # type: ignore[method-assign]
    MessageProcessor.save_tracker = handing_over(MessageProcessor.save_tracker)  # type: ignore[method-assign]
    RemoteAction.run = timed_action(RemoteAction.run, ActionExecutionRejection)  # type: ignore[method-assign]
    metrics.count_store_errors()
    _installed = True
