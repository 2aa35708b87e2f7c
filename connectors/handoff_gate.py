"""While staff have a conversation, the user's messages go to its ticket instead of the assistant.

Every channel wraps Rasa's ``on_new_message`` with `gated`. The ticket store is the database shared by every Rasa
replica, the action server (which opens tickets) and the staff console, so no replica keeps handoff state of its
own. The conversation is also paused in Rasa's tracker (action_handoff), so a message reaching Rasa some other way
(the HTTP API) gets no answer from the assistant either.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage

from connectors.outage import guarded
from talentbot.core.handoff.policy import QueuePolicy, default_policy
from talentbot.core.handoff.relay import Route, acknowledgement, route
from talentbot.core.handoff.store import InvalidState, Ticket, TicketStore, process_store
from talentbot.core.handoff.texts import user_text
from talentbot.core.observability.logs import pseudonym
from talentbot.core.store_outages import OUTAGES, connection_failure

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Resume = Callable[[str], Awaitable[None]]
"""`resume(conversation_id)`: hands a paused conversation back to the assistant."""

HANDOFF_QUEUE = "handoff queue"
"""The ticket store's name in the outage log; while it is down, messages go to the assistant."""

RASA_APP_NAME = "rasa_server"
"""The Sanic application `rasa run` creates (rasa.core.run.configure_app)."""


async def resume_in_rasa(conversation_id: str) -> None:
    """Appends ``resume`` and ``action_listen`` to the tracker under the conversation's lock, as the HTTP API's
    `POST /conversations/{id}/tracker/events` does: a bare ``resume`` makes the next message fall back."""
    from rasa.shared.core.events import ActionExecuted, ConversationResumed
    from sanic import Sanic

    agent = Sanic.get_app(RASA_APP_NAME).ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.get_tracker(conversation_id)
        tracker.update(ConversationResumed())
        tracker.update(ActionExecuted("action_listen"))
        await agent.processor.save_tracker(tracker)


class HandoffGate:
    """Routes one user message: to the assistant, to the open ticket, or out of the queue
    (talentbot/core/handoff/relay)."""

    def __init__(self, store: TicketStore, policy: QueuePolicy, resume: Resume = resume_in_rasa) -> None:
        self.store = store
        self.policy = policy
        self.resume = resume

    async def handle(self, message: UserMessage, on_new_message: OnNewMessage) -> None:
        try:
            ticket = await asyncio.to_thread(self.store.open_ticket_for, message.sender_id)
        except Exception as error:  # the queue's database being down must not silence the assistant for everyone
            cause = connection_failure(error)
            if cause is None:
                logger.exception("handoff store unavailable; message of %s goes to the assistant",
                                 pseudonym(message.sender_id))
            else:  # an outage: logged once, not once per message (talentbot/core/store_outages.py)
                OUTAGES.failed(HANDOFF_QUEUE, cause)
            ticket = None
        else:
            OUTAGES.succeeded(HANDOFF_QUEUE)
        text = message.text or ""
        decision = route(ticket.status if ticket else None, text, self.policy)
        if decision is Route.BOT or ticket is None:
            await on_new_message(message)
        elif decision is Route.CANCEL and await self._cancel(ticket, message):
            return
        elif not await self._add_to_ticket(ticket, message):
            await on_new_message(message)  # the ticket closed in the meantime: the assistant is back

    async def _cancel(self, ticket: Ticket, message: UserMessage) -> bool:
        """False when a member of staff claimed the ticket first (then the message goes to them).

        The assistant is resumed before the ticket closes, as the console does on resolve: the user's next message
        finds no ticket and goes to the assistant, which must be listening by then (a paused Rasa conversation
        ignores it). Should the cancel then lose to a claim, the resumed assistant is harmless: messages of a
        claimed ticket never reach it."""
        await self.resume(message.sender_id)
        try:
            await asyncio.to_thread(self.store.cancel, ticket.id)
        except InvalidState:
            return await self._add_to_ticket(await asyncio.to_thread(self.store.get, ticket.id), message)
        await _say(message, user_text("cancelled", ticket.language))
        return True

    async def _add_to_ticket(self, ticket: Ticket, message: UserMessage) -> bool:
        """Stores the message on the ticket and acknowledges it; False when the ticket is no longer open."""
        try:
            await asyncio.to_thread(self.store.add_message, ticket.id, "user", message.text or "")
        except InvalidState:
            return False
        place = await asyncio.to_thread(self.store.place_in_queue, ticket.id) if ticket.status == "waiting" else None
        reply = acknowledgement(ticket.status, place, ticket.language)
        if reply:
            await _say(message, reply)
        return True


async def _say(message: UserMessage, text: str) -> None:
    if message.output_channel is not None:
        await message.output_channel.send_text_message(message.sender_id, text)


_gate: Optional[HandoffGate] = None
_gate_lock = threading.Lock()


def _process_gate() -> HandoffGate:
    """One gate per process, on the process's ticket store."""
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = HandoffGate(process_store(), default_policy())
        return _gate


def use_gate(gate: Optional[HandoffGate]) -> None:
    """Makes `gate` this process's gate (tests; an embedding application with its own store); None resets."""
    global _gate
    with _gate_lock:
        _gate = gate


def gated(on_new_message: OnNewMessage, gate: Optional[HandoffGate] = None) -> OnNewMessage:
    """`on_new_message` behind the handoff gate (this process's gate unless one is given, e.g. by tests), and
    refused politely while a store is down (connectors/outage.py)."""

    async def handle(message: UserMessage) -> None:
        chosen = gate or _gate
        if chosen is None:
            chosen = await asyncio.to_thread(_process_gate)
        await chosen.handle(message, on_new_message)

    return guarded(handle)
