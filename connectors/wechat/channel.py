"""Rasa glue for WeChat Official Accounts: the webhook's protocol (verification, signatures, safe mode, passive reply
or customer-service API) and the output channel. Protocol details live in protocol.py, API calls in client.py, what
every platform channel shares in connectors/platform.py."""
from __future__ import annotations

import asyncio
import logging
import os
import time
from functools import partial
from typing import Any, Callable, Mapping, Optional

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from connectors.handoff_gate import OnNewMessage
from connectors.locale import language_hint
from connectors.output import TextFirstOutput, remember_language, take_pending_choice
from connectors.platform import PlatformInput
from connectors.redelivery import STATE_STORE, Outcome, PlatformAPI, pass_on
from connectors.senders import namespaced
from connectors.state import StateStore
from connectors.texts import Texts
from connectors.wechat import protocol
from connectors.wechat.client import DEFAULT_API_BASE_URL, WeChatClient, transient
from talentbot.core.store_outages import StoreUnavailable, reporting

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
HINT_TTL_S = 30 * 24 * 3600
"""How long the language WeChat told us (user locale) is used as a hint for the user's messages."""

WECHAT_API = PlatformAPI("WeChat API", transient)


class WeChatOutput(TextFirstOutput):
    """Sends through the customer-service API (``/cgi-bin/message/custom/send``): proactive messages and
    answers that missed the passive-reply window. WeChat takes them for 48 h after the user's last message."""

    channel = CHANNEL
    service_window_s = protocol.CUSTOMER_SERVICE_WINDOW_S

    def __init__(self, client: WeChatClient, state: StateStore, texts: Texts) -> None:
        super().__init__(state, texts)
        self.client = client

    def split(self, text: str) -> list[str]:
        return protocol.split_for_limits(text)

    async def deliver(self, native: str, chunk: str) -> None:
        await self.client.send_text(native, chunk)


class PassiveReplyOutput(WeChatOutput):
    """Holds the answer while WeChat waits for a passive reply; after ``release()`` everything (held and later
    messages, in order) goes through the customer-service API."""

    def __init__(self, client: WeChatClient, state: StateStore, texts: Texts) -> None:
        super().__init__(client, state, texts)
        self._held: list[tuple[str, str]] = []
        self._released = False
        self._lock = asyncio.Lock()

    async def deliver(self, native: str, chunk: str) -> None:
        async with self._lock:
            if self._released:
                await super().deliver(native, chunk)
            else:
                self._held.append((native, chunk))

    def take_single(self) -> Optional[str]:
        """The answer when it is exactly one message (it then goes as the passive reply), else None."""
        if len(self._held) == 1 and not self._released:
            return self._held.pop()[1]
        return None

    @property
    def empty(self) -> bool:
        return not self._held

    async def release(self) -> None:
        """Switch to the customer-service API, sending what was held first."""
        async with self._lock:
            self._released = True
            held, self._held = self._held, []
            for native, chunk in held:
                await super().deliver(native, chunk)


class WeChatInput(PlatformInput[WeChatClient]):
    """``/webhooks/wechat/webhook``: WeChat's server URL (GET verification, POST messages)."""

    channel = CHANNEL
    api = WECHAT_API
    dedup_ttl_s = protocol.DEDUP_TTL_S
    service_window_s = protocol.CUSTOMER_SERVICE_WINDOW_S
    verifies_url = True
    answers_json = False

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str], credentials: Mapping[str, Any], environ: Mapping[str, str]
    ) -> "WeChatInput":
        """credentials.yml may tune ``reply_budget_s``."""
        return cls(
            environ=environ,
            token=settings["WECHAT_TOKEN"],
            app_id=settings["WECHAT_APP_ID"],
            app_secret=settings["WECHAT_APP_SECRET"],
            aes_key=settings.get("WECHAT_AES_KEY"),
            api_base_url=settings.get("WECHAT_API_BASE_URL", DEFAULT_API_BASE_URL),
            reply_budget_s=float(credentials.get("reply_budget_s", protocol.PASSIVE_REPLY_BUDGET_S)),
        )

    def __init__(
        self,
        token: str,
        app_id: str,
        app_secret: str,
        aes_key: Optional[str] = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        state: Optional[StateStore] = None,
        http: Optional[httpx.AsyncClient] = None,
        reply_budget_s: float = protocol.PASSIVE_REPLY_BUDGET_S,
        clock: Callable[[], float] = time.time,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(state=state, http=http, texts=texts, environ=environ)
        self.token = token
        self.app_id = app_id
        self.crypto = protocol.make_crypto(token, aes_key, app_id) if aes_key else None
        self.reply_budget_s = reply_budget_s
        self.clock = clock
        self._app_secret = app_secret
        self._api_base_url = api_base_url

    def make_client(self) -> WeChatClient:
        return WeChatClient(self.app_id, self._app_secret, self.http, self.state, self._api_base_url)

    def get_output_channel(self) -> WeChatOutput:
        return WeChatOutput(self.client, self.state, self.texts)

    async def verify(self, request: Request) -> HTTPResponse:
        check = self._check(request)
        if check is not protocol.SignatureCheck.VALID:
            return self._refuse(request, check.value)
        return response.text(request.args.get("echostr", ""))

    def _check(self, request: Request) -> protocol.SignatureCheck:
        args = request.args
        return protocol.verify_signature(
            self.token, args.get("signature"), args.get("timestamp"), args.get("nonce"), self.clock()
        )

    @staticmethod
    def _refuse(request: Request, why: str) -> HTTPResponse:
        logger.warning("WeChat request refused (%s) from %s: %s", why, request.ip, request.query_string)
        return response.text("forbidden", status=403)

    def _plaintext(self, request: Request) -> str | bytes | HTTPResponse:
        """The message XML: the body itself, or in safe mode its decrypted ``<Encrypt>``."""
        if self.crypto is None:
            return request.body or b""  # parse_inbound refuses what is not UTF-8
        args = request.args
        msg_signature = args.get("msg_signature")
        if args.get("encrypt_type") != "aes" or not msg_signature:
            return self._refuse(request, "safe mode requires an encrypted body")
        try:
            encrypted = protocol.encrypted_part(request.body)
        except protocol.InboundError as error:
            return response.text(f"bad request: {error}", status=400)
        if not encrypted:
            return self._refuse(request, "no <Encrypt> element")
        try:
            return self.crypto.decrypt_message(
                {"Encrypt": encrypted}, msg_signature, args.get("timestamp"), args.get("nonce")
            )
        except (InvalidSignatureException, InvalidAppIdException):
            return self._refuse(request, "bad msg_signature or app id")
        except Exception as error:  # bad base64 / padding: not something WeChat sends
            return response.text(f"bad request: cannot decrypt ({type(error).__name__})", status=400)

    async def _unused_or_same_body(self, request: Request) -> bool:
        """Plain mode: False when this signed query string came before with another body (a forgery riding on a
        captured signature). The same body again is WeChat's retry: let through, the MsgId dedup answers it
        once. Safe mode needs no such check: its msg_signature covers the encrypted body."""
        timestamp, nonce = request.args.get("timestamp"), request.args.get("nonce")
        ttl_s = protocol.nonce_ttl_s(int(timestamp), self.clock())
        used, with_body = protocol.nonce_keys(timestamp, nonce, request.body)
        if not await self.state.claim(with_body, ttl_s):
            return True  # this very request again
        return await self.state.claim(used, ttl_s)

    def _xml(self, request: Request, xml: str) -> HTTPResponse:
        if self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, request.args.get("nonce"), request.args.get("timestamp"))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Signature and nonce (403), body (400: `protocol.InboundError`); then the message is answered once
        (connectors/redelivery.py). When it could not be handled for something unreachable (the state store,
        WeChat's API), the answer is 503: WeChat delivers it again within its retries, and after them tells the
        user the account cannot answer now."""
        check = self._check(request)
        if check is not protocol.SignatureCheck.VALID:
            return self._refuse(request, check.value)
        if self.crypto is None:
            try:
                with reporting(STATE_STORE):
                    fresh = await self._unused_or_same_body(request)
            except Exception as error:  # the nonce cannot be checked: not taken, WeChat delivers it again
                if not isinstance(error, StoreUnavailable):
                    logger.exception("Checking a WeChat nonce failed")
                return self.redeliver()
            if not fresh:
                return self._refuse(request, "timestamp and nonce already used with another body")
        plaintext = self._plaintext(request)
        if isinstance(plaintext, HTTPResponse):
            return plaintext
        try:
            inbound = protocol.parse_inbound(plaintext)
        except protocol.InboundError as error:
            logger.info("WeChat body refused: %s", error)
            return response.text(f"bad request: {error}", status=400)

        once = await self.once(inbound.dedup_key, partial(self._handle, request, inbound, on_new_message))
        if once.outcome is Outcome.REDELIVER:
            return self.redeliver()
        if once.value is None:  # a duplicate, or a message whose answer failed: acknowledged
            return response.text(protocol.SUCCESS)
        return once.value

    async def _handle(self, request: Request, inbound: protocol.Inbound, on_new_message: OnNewMessage) -> HTTPResponse:
        """One new message or event: the passive reply, or "success" (answers then go by the customer-service API)."""
        sender_id = namespaced(CHANNEL, inbound.openid)
        if inbound.event == "unsubscribe":
            await self.state.delete(f"choices:{sender_id}")
            return response.text(protocol.SUCCESS)
        await self.record_message(sender_id)

        output = PassiveReplyOutput(self.client, self.state, self.texts)
        if inbound.kind == "text":
            await self._answer_with_rasa(inbound, sender_id, output, on_new_message)
        elif inbound.event == "subscribe":
            language = language_hint(await self.client.user_locale(inbound.openid))
            if language:
                await self.state.put(f"hint:{sender_id}", language, ttl_s=HINT_TTL_S)
                await remember_language(self.state, sender_id, language)
            await self.note(output, sender_id, "welcome", language)
        elif inbound.kind == "unsupported":
            await self.note(output, sender_id, "unsupported_message", await self.known_language(sender_id))
        return self._finish(request, inbound, output)

    async def _answer_with_rasa(
        self, inbound: protocol.Inbound, sender_id: str, output: PassiveReplyOutput, on_new_message: OnNewMessage
    ) -> None:
        """Runs Rasa; waits for it only as long as the passive-reply budget, then lets it finish in the background.
        Raises `Redeliver` when Rasa refused the message for an outage and the refusal could not be given."""
        text = inbound.text or ""
        if await self.refused_too_long(output, sender_id, text):
            return
        text = await take_pending_choice(self.state, sender_id, text) or text
        hint = await self.state.get(f"hint:{sender_id}")
        message = UserMessage(
            text,
            output,
            sender_id,
            input_channel=CHANNEL,
            message_id=inbound.dedup_key,
            metadata={"language": hint} if hint else {},
        )

        async def apologise() -> None:
            await self.note(output, sender_id, "something_went_wrong", await self.known_language(sender_id))

        task = asyncio.ensure_future(pass_on(message, on_new_message, apologise))
        done, _ = await asyncio.wait({task}, timeout=self.reply_budget_s)
        if not done:
            logger.info("Rasa slower than %.1f s for %s: answering by customer-service API",
                        self.reply_budget_s, sender_id)
            self.spawn(self._deliver_late(task, output))
            return
        task.result()

    async def _deliver_late(self, task: asyncio.Future, output: PassiveReplyOutput) -> None:
        try:
            await task
        except Exception:  # WeChat was told "success" already: nothing can bring the message back
            logger.exception("A WeChat message answered after the passive-reply window failed")
        try:
            await output.release()
        except Exception:
            logger.exception("WeChat customer-service delivery failed")

    def _finish(self, request: Request, inbound: protocol.Inbound, output: PassiveReplyOutput) -> HTTPResponse:
        """One message: the passive reply. None: "success". Several: "success" now, all of them in order through
        the customer-service API (a passive reply can carry one message only). Answers still being computed are
        already on their way to the customer-service API and are not touched here."""
        single = output.take_single()
        if single is not None:
            return self._xml(request, protocol.render_reply(inbound, single, int(self.clock())))
        if not output.empty:
            self.spawn(self._release(output))
        return response.text(protocol.SUCCESS)

    async def _release(self, output: PassiveReplyOutput) -> None:
        try:
            await output.release()
        except Exception:
            logger.exception("WeChat customer-service delivery failed")
