"""Base of the text-first output channels: splitting, numbered choices, the user's last known language (as Rasa
stated it with its replies, connectors/reply_language.py) and the platform's customer-service window."""
from __future__ import annotations

import logging
import time
from typing import Any, ClassVar, Optional

from rasa.core.channels.channel import OutputChannel

from connectors import window
from connectors.choices import (
    PENDING_CHOICES_TTL_S,
    Choice,
    choices_from_buttons,
    dump_payloads,
    load_payloads,
    numbered_payloads,
    render_numbered,
    resolve_choice,
)
from connectors.reply_language import reply_language
from connectors.senders import native_id
from connectors.state import StateStore
from connectors.texts import Texts

logger = logging.getLogger(__name__)

LANGUAGE_TTL_S = 30 * 24 * 3600
"""How long a user's last language is remembered for the connector's own notes (our choice: 30 days)."""


def _choices_key(sender_id: str) -> str:
    return f"choices:{sender_id}"


def _language_key(sender_id: str) -> str:
    return f"lang:{sender_id}"


async def remember_language(state: StateStore, sender_id: str, language: Optional[str]) -> None:
    """Keep the language the user was last answered in (or hinted by the platform)."""
    if language:
        await state.put(_language_key(sender_id), language, ttl_s=LANGUAGE_TTL_S)


async def known_language(state: StateStore, sender_id: str) -> Optional[str]:
    """The user's last known language, or None."""
    return await state.get(_language_key(sender_id))


async def take_pending_choice(state: StateStore, sender_id: str, text: str) -> Optional[str]:
    """The payload of the numbered choice answered by ``text`` ("2"), or None. The pending choices are consumed
    by any message: a digit typed later answers whatever was asked later, not an old menu."""
    return resolve_choice(text, load_payloads(await state.pop(_choices_key(sender_id))))


class TextFirstOutput(OutputChannel):
    """Sends Rasa's responses as text messages: long texts split, buttons as numbered choices.

    Rasa passes each reply's metadata as keyword arguments of the send methods; the language it states there is
    kept as the user's (`remember_language`), for the prompts around later replies and the channel's own notes.
    """

    channel: ClassVar[str]  # sender-id namespace and Rasa output channel name
    service_window_s: ClassVar[Optional[float]] = None
    """How long after the user's last message the platform takes a free-form message; None: no such window."""

    def __init__(self, state: StateStore, texts: Texts) -> None:
        self.state = state
        self.texts = texts

    @classmethod
    def name(cls) -> str:
        return cls.channel

    def split(self, text: str) -> list[str]:
        """The platform's message-length split."""
        raise NotImplementedError

    async def deliver(self, native: str, chunk: str) -> None:
        """Sends one message that already fits the platform's limits."""
        raise NotImplementedError

    async def language_for(self, recipient_id: str, stated: Optional[str]) -> Optional[str]:
        """The language of the channel's own words around a reply (a prompt, a list button): the one Rasa stated
        for the reply (kept as the user's), else the user's last known language."""
        if stated:
            await remember_language(self.state, recipient_id, stated)
            return stated
        return await known_language(self.state, recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        native = native_id(self.channel, recipient_id)
        await remember_language(self.state, recipient_id, reply_language(kwargs))
        for chunk in self.split(text):
            await self.deliver(native, chunk)

    async def send_choices(
        self, recipient_id: str, text: str, choices: list[Choice], language: Optional[str] = None
    ) -> None:
        """Numbered choices; the payloads are kept so a digit reply can be read back. `language`: the one Rasa
        stated for the reply, if any."""
        payloads = numbered_payloads(choices)
        if payloads:
            await self.state.put(_choices_key(recipient_id), dump_payloads(payloads), ttl_s=PENDING_CHOICES_TTL_S)
        prompt = self.texts.text("choose_by_number", await self.language_for(recipient_id, language), self.channel)
        await self.send_text_message(recipient_id, render_numbered(text, choices, prompt))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_choices(recipient_id, text, choices_from_buttons(buttons), reply_language(kwargs))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment), **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Custom payloads are for the web page; here only their ``text``, if any, is shown."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text, **kwargs)
        else:
            logger.debug("custom payload not shown on %s: %s", self.channel, json_message)

    async def window_open(self, recipient_id: str) -> bool:
        """Whether the platform still takes a free-form message to this user (connectors/window.py)."""
        if self.service_window_s is None:
            return True
        return window.window_open(await window.last_inbound(self.state, recipient_id), time.time(),
                                  self.service_window_s)
