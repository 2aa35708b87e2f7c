"""Rasa glue for the WhatsApp Cloud API: the webhook's protocol (verification, signature, batched notifications)
and the output channel; what every platform channel shares is in connectors/platform.py."""
from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any, Mapping, Optional

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.choices import Choice
from connectors.handoff_gate import OnNewMessage
from connectors.output import TextFirstOutput, take_pending_choice
from connectors.platform import PlatformInput
from connectors.redelivery import Outcome, PlatformAPI, pass_on
from connectors.senders import namespaced, native_id
from connectors.state import StateStore
from connectors.texts import Texts
from connectors.whatsapp import protocol
from connectors.whatsapp.client import DEFAULT_API_BASE_URL, WhatsAppClient, transient

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
GRAPH_API = PlatformAPI("WhatsApp Graph API", transient)


class WhatsAppOutput(TextFirstOutput):
    """Sends text and interactive (reply-button / list) messages through the Graph API. WhatsApp takes free-form
    messages for 24 h after the user's last message."""

    channel = CHANNEL
    service_window_s = protocol.CUSTOMER_SERVICE_WINDOW_S

    def __init__(self, client: WhatsAppClient, state: StateStore, texts: Texts) -> None:
        super().__init__(state, texts)
        self.client = client

    def split(self, text: str) -> list[str]:
        return protocol.split_for_limits(text)

    async def deliver(self, native: str, chunk: str) -> None:
        await self.client.send(protocol.text_message(native, chunk))

    async def send_choices(
        self, recipient_id: str, text: str, choices: list[Choice], language: Optional[str] = None
    ) -> None:
        """Buttons (≤3) or a list (≤10); more choices than a list holds become numbered text."""
        native = native_id(CHANNEL, recipient_id)
        language = await self.language_for(recipient_id, language)
        links = [c for c in choices if c.url]
        parts = protocol.split_for_limits(text, protocol.MAX_INTERACTIVE_BODY) or [""]
        interactive = protocol.interactive_message(
            native, parts[-1], choices, self.texts.text("list_button", language, CHANNEL)
        )
        if interactive is None:
            await super().send_choices(recipient_id, text, choices, language)
            return
        for part in parts[:-1]:
            await self.deliver(native, part)
        await self.client.send(interactive)
        if links:
            await self.send_text_message(recipient_id, "\n".join(f"{c.title}: {c.url}" for c in links))


class WhatsAppInput(PlatformInput[WhatsAppClient]):
    """``/webhooks/whatsapp/webhook``: the callback URL of the Meta app's WhatsApp webhook."""

    channel = CHANNEL
    api = GRAPH_API
    dedup_ttl_s = protocol.DEDUP_TTL_S
    service_window_s = protocol.CUSTOMER_SERVICE_WINDOW_S
    verifies_url = True

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str], credentials: Mapping[str, Any], environ: Mapping[str, str]
    ) -> "WhatsAppInput":
        """credentials.yml needs no entries."""
        return cls(
            environ=environ,
            token=settings["WHATSAPP_TOKEN"],
            app_secret=settings["WHATSAPP_APP_SECRET"],
            verify_token=settings["WHATSAPP_VERIFY_TOKEN"],
            phone_number_id=settings["WHATSAPP_PHONE_NUMBER_ID"],
            api_base_url=settings.get("WHATSAPP_API_BASE_URL", DEFAULT_API_BASE_URL),
        )

    def __init__(
        self,
        token: str,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        state: Optional[StateStore] = None,
        http: Optional[httpx.AsyncClient] = None,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(state=state, http=http, texts=texts, environ=environ)
        self.app_secret = app_secret
        self.verify_token = verify_token
        self._token = token
        self._phone_number_id = phone_number_id
        self._api_base_url = api_base_url

    def make_client(self) -> WhatsAppClient:
        return WhatsAppClient(self.http, self._token, self._phone_number_id, self._api_base_url)

    def get_output_channel(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.client, self.state, self.texts)

    async def verify(self, request: Request) -> HTTPResponse:
        challenge = protocol.verify_challenge({k: request.args.get(k) for k in request.args}, self.verify_token)
        if challenge is None:
            logger.warning("WhatsApp verification refused from %s", request.ip)
            return response.text("forbidden", status=403)
        return response.text(challenge)

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Signature (403) first; a signed body we cannot read is acknowledged and ignored (`protocol.InboundError`
        says why). Each message is answered once (connectors/redelivery.py); when one could not be handled for
        something unreachable, the answer is 503 and Meta delivers the notification again (the messages handled
        meanwhile are then duplicates)."""
        signature = request.headers.get(protocol.SIGNATURE_HEADER)
        if not protocol.verify_signature(self.app_secret, request.body or b"", signature):
            logger.warning("WhatsApp notification refused: bad %s from %s", protocol.SIGNATURE_HEADER, request.ip)
            return self.error(403, "forbidden")
        try:
            notification = protocol.parse_inbound(protocol.load_notification(request.body))
        except protocol.InboundError as error:
            logger.warning("Signed WhatsApp notification ignored: %s", error)
            return response.json({"status": "ignored", "error": str(error)})
        for problem in notification.unreadable:
            logger.warning("Part of a signed WhatsApp notification ignored: %s", problem)
        redeliver = False
        for inbound in notification.messages:
            once = await self.once(f"msg:{inbound.message_id}", partial(self._answer, inbound, on_new_message))
            redeliver = redeliver or once.outcome is Outcome.REDELIVER
        if redeliver:
            return self.redeliver()
        if notification.unreadable:
            return response.json({"status": "ok", "ignored": notification.unreadable})
        return response.json({"status": "ok"})

    async def _answer(self, inbound: protocol.Inbound, on_new_message: OnNewMessage) -> None:
        sender_id = namespaced(CHANNEL, inbound.wa_id)
        await self.record_message(sender_id)
        output = self.get_output_channel()

        async def note(name: str) -> None:
            await self.note(output, sender_id, name, await self.known_language(sender_id))

        if inbound.kind == "unsupported":
            await note("unsupported_message")
            return
        text = inbound.text or ""
        if await self.refused_too_long(output, sender_id, text):
            return
        text = await take_pending_choice(self.state, sender_id, text) or text
        message = UserMessage(text, output, sender_id, input_channel=CHANNEL, message_id=inbound.message_id)
        await pass_on(message, on_new_message, partial(note, "something_went_wrong"))
