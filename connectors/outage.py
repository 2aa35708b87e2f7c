"""What a channel does when a store is down: it holds the assistant's answer until the turn is stored, and instead
of answering (or staying silent) tells the user politely, in their language, to send the message again.

Every channel's ``on_new_message`` goes through `guarded` (applied by `connectors.handoff_gate.gated`). The REST
channel also answers such a message with HTTP 503 and ``Retry-After`` (`refusals_answered_503`), so a client knows
the message was not taken. The platform channels acknowledge a refused message (the user was told) and answer 503,
so the platform delivers it again, only when the refusal itself could not be sent (connectors/redelivery.py).

Why refuse rather than keep the message and answer it on recovery: the REST channel and WeChat's passive reply are
synchronous (WeChat gives 5 s), so an answer after the outage cannot reach them; a message kept in process memory
is lost with the process, and keeping it durably needs a third store that stays up when the other two fail. A clear
"try again in a minute" costs the user one resend and never loses a word silently. Measured (tests/e2e/
test_store_outages.py, 8 s outages under load): a refusal takes 15-50 ms, and answers resume within 0.5-2.5 s of
the store's return, without a restart.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.texts import Texts, load_texts
from talentbot.core.language import Verdict, detect, normalise_language_code
from talentbot.core.observability.logs import pseudonym
from talentbot.core.store_outages import OUTAGES, OutageLog, StoreUnavailable, store_outage

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

OUTAGE_TEXT = "store_outage"
"""The refusal's name in bot/texts/channels.yml."""

RETRY_AFTER_S = 60
"""The ``Retry-After`` of a refused REST message: "a minute", as the text tells the user. The outages seen in
issue 12 lasted about 20 s; a client retrying sooner is simply refused again."""

UNREPORTED_STORES = ("Redis", "database", "a store")
"""Names `store_outage` gives a failure raised without `StoreUnavailable` (a store whose code does not report its
own outages, e.g. the handoff queue's database): this module logs their start, and their end when a message next
gets through."""


class HeldOutput(OutputChannel):
    """A channel's output held back until the turn is stored, then sent in the same order.

    Rasa sends each reply as soon as an action produces it and saves the turn afterwards, so without this a user
    could read an answer whose turn never reached the tracker store. Any other attribute is the channel's own.
    """

    SENDS = ("send_response", "send_text_message", "send_image_url", "send_attachment", "send_text_with_buttons",
             "send_quick_replies", "send_elements", "send_custom_json")
    """OutputChannel's methods that send something: each is recorded, then replayed on the channel."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.held: List[Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = []
        for method in self.SENDS:
            setattr(self, method, self._holder(method))

    def _holder(self, method: str) -> Callable[..., Awaitable[None]]:
        async def hold(*args: Any, **kwargs: Any) -> None:
            self.held.append((method, args, kwargs))

        return hold

    def name(self) -> Text:  # type: ignore[override]  # the channel's name picks channel-specific responses
        return self.channel.name()

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "channel":  # not set yet (copying, unpickling)
            raise AttributeError(attribute)
        return getattr(self.channel, attribute)

    async def send_held(self) -> None:
        """Sends what was held, in order; nothing is held afterwards. (Not `release`: WeChat's output has one.)"""
        held, self.held = self.held, []
        for method, args, kwargs in held:
            await getattr(self.channel, method)(*args, **kwargs)


def refusal_language(message: UserMessage) -> Optional[str]:
    """The language of the refusal: the message's own, else the channel's hint (metadata ``language``), else None."""
    detection = detect(message.text)
    if detection.verdict is Verdict.LANGUAGE:
        return detection.language
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    hint = metadata.get("language")
    return normalise_language_code(hint) if isinstance(hint, str) else None


FALLBACK_CHANNEL = "rest"
"""Whose fallback languages (bot/texts/channels.yml) a refusal uses when its channel has none listed (REST clients
may name any ``input_channel``)."""


def refusal_text(message: UserMessage, texts: Texts) -> str:
    """The polite refusal for `message`, in its language; in the channel's fallback languages when unknown."""
    channel = message.input_channel if message.input_channel in texts.fallback_languages else FALLBACK_CHANNEL
    return texts.text(OUTAGE_TEXT, refusal_language(message), channel)


@dataclass
class RefusalNote:
    """Whether the message of the current request was refused for an outage (REST: the answer's status)."""

    refused: List[str] = field(default_factory=list)  # the stores that were down


_note: ContextVar[Optional[RefusalNote]] = ContextVar("store_outage_refusal", default=None)
"""The current request's note, set by `refusals_answered_503`'s request middleware (or `open_refusal_note`). A
mutable note rather than a flag, so a refusal made in a task the handler started (Rasa's streaming REST answers,
WeChat's answer racing the passive-reply window) still reaches it."""


def open_refusal_note() -> RefusalNote:
    """A fresh note for the current task and the tasks it starts from now on: afterwards it tells whether `guarded`
    refused the message for an outage. The platform webhooks (connectors/redelivery.py) read it when the refusal
    itself could not be sent: nothing of such a message was stored, so the platform may deliver it again."""
    note = RefusalNote()
    _note.set(note)
    return note


def guarded(on_new_message: OnNewMessage, outages: OutageLog = OUTAGES,
            texts: Callable[[], Texts] = load_texts) -> OnNewMessage:
    """`on_new_message` whose answer reaches the user only once the turn is stored; while a store is down, the
    user is told to try again instead (errors other than outages pass unchanged, and nothing held is sent)."""

    async def handle(message: UserMessage) -> None:
        channel = message.output_channel
        held = HeldOutput(channel) if channel is not None else None
        if held is not None:
            message.output_channel = held
        try:
            await on_new_message(message)
        except Exception as error:
            outage = store_outage(error)
            if outage is None:
                raise
            await _refuse(message, channel, outage, outages, texts())
            return
        finally:
            message.output_channel = channel
        for store in UNREPORTED_STORES:
            outages.succeeded(store)
        if held is not None:
            await held.send_held()

    return handle


async def _refuse(message: UserMessage, channel: Optional[OutputChannel], outage: StoreUnavailable,
                  outages: OutageLog, texts: Texts) -> None:
    if outage.store in UNREPORTED_STORES:
        outages.failed(outage.store, outage.cause)
    logger.debug("Message of %s refused: %s", pseudonym(message.sender_id), outage)
    note = _note.get()
    if note is not None:
        note.refused.append(outage.store)
    if channel is not None:
        await channel.send_text_message(message.sender_id, refusal_text(message, texts))


def mark_refused(response: HTTPResponse, note: Optional[RefusalNote]) -> None:
    """A refused message's answer: 503 with ``Retry-After`` (the body, the polite text, is unchanged)."""
    if note is not None and note.refused:
        response.status = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)


def refusals_answered_503(blueprint: Blueprint) -> Blueprint:
    """Makes the blueprint's routes answer a message refused for an outage with 503 and ``Retry-After``."""

    @blueprint.on_request
    async def open_note(request: Request) -> None:
        request.ctx.store_outage = open_refusal_note()

    @blueprint.on_response
    async def status_of_refusal(request: Request, response: HTTPResponse) -> None:
        mark_refused(response, getattr(request.ctx, "store_outage", None))

    return blueprint
