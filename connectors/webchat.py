"""The web chat: the page (`/webhooks/web/`) and the socket.io channel it talks to (`/socket.io`).

The page speaks Socket.IO v5 / Engine.IO v4 itself over a plain WebSocket (no CDN, no build step) and falls back
to Rasa's REST channel on the same origin when the websocket cannot connect.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text, Tuple

import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio.async_pubsub_manager import AsyncPubSubManager

from connectors.handoff_gate import gated
from connectors.inbound import too_long_note
from connectors.senders import WEB_SESSION_ID
from connectors.state import STATE_URL_ENV
from talentbot.core.inbound import MAX_METADATA_DEPTH, clean_json, clean_text, too_long
from talentbot.core.rasa_endpoint import TOKEN_VARIABLE

logger = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("webchat.html")

SESSION_NAMESPACE = "web"
"""Sender ids of the page are ``web:<32 hex>`` (connectors/senders.py convention), whichever transport carried
the message, so a conversation continues when the page falls back from socket.io to REST."""

SESSION_ID = WEB_SESSION_ID
"""The only session ids a client may bring back: ours, unguessable (uuid4), never another channel's sender id."""


def new_session_id() -> str:
    """A fresh conversation id for one browser."""
    return f"{SESSION_NAMESPACE}:{uuid.uuid4().hex}"


def confirmed_session_id(requested: Any) -> str:
    """The session a `session_request` gets: the browser's stored id when it is one of ours, else a new one.

    Rasa's own handler accepts any string, so a client could write into (and read) any conversation, including
    a WeChat or Telegram user's; here a client can only resume a web conversation it was given.
    """
    if isinstance(requested, Mapping):
        requested = requested.get("session_id")
    if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
        return requested
    return new_session_id()


def user_message_text(data: Any) -> Optional[str]:
    """The text of a `user_uttered` payload, cleaned (connectors/inbound.py) and trimmed; None when there is nothing
    to answer. It may be longer than the cap (inbound.MAX_MESSAGE_CHARS, the page's own): the caller then answers
    with a polite note instead of passing it on."""
    if not isinstance(data, Mapping):
        return None
    text = data.get("message")
    if not isinstance(text, str):
        return None
    return clean_text(text).strip() or None


def metadata_of(data: Mapping[str, Any], key: str) -> Dict[str, Any]:
    """The optional metadata object of a `user_uttered` payload (a dict or its JSON), its strings cleaned; anything
    else (or nested deeper than MAX_METADATA_DEPTH) is dropped."""
    metadata = data.get(key)
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            return {}
    if not isinstance(metadata, dict):
        return {}
    try:
        return clean_json(metadata, MAX_METADATA_DEPTH)
    except ValueError:
        return {}


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io channel (same name `socketio`, same events and credentials) with two fixes.

    1. Rasa 3.6 calls ``sio.enter_room(...)`` without ``await``; since python-socketio 5.10 that is a coroutine,
       so with ``session_persistence: true`` the socket never joins its session's room and every `bot_uttered`
       is emitted to an empty room: the user sees no answer at all.
    2. A message is accepted only for the session this socket was confirmed into, and session ids are ours
       (``web:<hex>``), so a client cannot post into someone else's conversation.
    3. The text is cleaned like every channel's (connectors/inbound.py: no NUL, lone surrogate or control character
       reaches Rasa or a store), and a message over the cap is answered with a polite note, not processed.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = gated(on_new_message)  # staff may have this conversation
        hook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by super().blueprint
        if share_rooms_through_redis(sio, os.environ.get(STATE_URL_ENV, "")):

            @hook.listener("before_server_start")
            async def own_host_id(*_: Any) -> None:
                # Sanic builds the app once and forks its workers: each must publish under its own id, or the
                # others take its emits for their own and drop them.
                sio.manager.host_id = uuid.uuid4().hex
        namespace = self.namespace or "/"

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            session_id = confirmed_session_id(data)
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(joined):  # python-socketio >= 5.10
                    await joined
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            session_id = session.get("session_id")
            text = user_message_text(data)
            if not session_id or text is None:
                logger.info("socket.io message ignored: no confirmed session or no text (sid %s)", sid)
                return
            if isinstance(data, Mapping) and data.get("session_id") not in (None, session_id):
                logger.warning("socket.io message for another session ignored (sid %s)", sid)
                return
            recipient = session_id if self.session_persistence else sid
            output = _RoomOutput(sio, self.bot_message_evt, recipient, namespace)
            if too_long(text):  # the page cannot send this much: a paste through another client
                await output.send_text_message(session_id, too_long_note(text, self.name()))
                return
            await on_new_message(
                UserMessage(
                    text, output, session_id, input_channel=self.name(),
                    metadata=metadata_of(data, self.metadata_key or "metadata"),
                )
            )

        @hook.route("/push", methods=["POST"])
        async def push(request: Request) -> HTTPResponse:
            """A message for a web user sent later (a staff reply): `{"recipient_id": "web:<hex>", "text": "..."}`,
            authorised with the Rasa server's API token (the staff console holds it)."""
            refusal = push_refusal(request.headers.get("Authorization"), os.environ.get(TOKEN_VARIABLE))
            if refusal:
                return response.json({"error": refusal[1]}, status=refusal[0])
            body = request.json if isinstance(request.json, Mapping) else {}
            recipient, text = body.get("recipient_id"), body.get("text")
            if not (isinstance(recipient, str) and SESSION_ID.fullmatch(recipient)):
                return response.json({"error": "recipient_id must be a web session id"}, status=400)
            text = clean_text(text) if isinstance(text, str) else None
            if not (isinstance(text, str) and text.strip()):
                return response.json({"error": "send a non-empty text"}, status=400)
            if not _has_participants(sio, namespace, recipient):
                return response.json({"error": "the user's chat page is not connected"}, status=409)
            output = _RoomOutput(sio, self.bot_message_evt, recipient, namespace)
            await output.send_text_message(recipient, text)
            return response.json({"status": "sent"})

        return hook


def push_refusal(authorization: Optional[str], token: Optional[str]) -> Optional[Tuple[int, str]]:
    """Why a push request is refused (status, message), or None: `Authorization: Bearer <token>` must match."""
    if not token:
        return 503, f"pushing is off: {TOKEN_VARIABLE} is not set"
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return 401, "missing or wrong token"
    return None


REDIS_CHANNEL = "talentbot-socketio"
"""The Redis pub/sub channel through which the Rasa processes pass socket.io emits to each other."""


def share_rooms_through_redis(sio: Any, state_url: str) -> bool:
    """With several Rasa processes (Sanic workers, replicas) a page's socket lives in one of them, while a push or an
    answer may be handled by another. When channel state is in Redis (CONNECTORS_STATE_URL), emits go through Redis
    pub/sub (python-socketio's AsyncRedisManager) so they reach the socket wherever it is. Called before any socket
    connects (the manager is initialised on the first connection)."""
    if not state_url.startswith(("redis://", "rediss://")):
        return False
    manager = socketio.AsyncRedisManager(state_url, channel=REDIS_CHANNEL)
    manager.set_server(sio)
    sio.manager = manager
    return True


def _has_participants(sio: Any, namespace: Text, room: Text) -> bool:
    """Whether the user's page is open (a push to nobody is refused). Across processes (Redis) this process cannot
    see other processes' sockets, so it assumes the page may be open elsewhere."""
    if isinstance(sio.manager, AsyncPubSubManager):
        return True
    try:
        return any(True for _ in sio.manager.get_participants(namespace, room))
    except KeyError:  # no socket has ever joined the namespace or room
        return False


class _RoomOutput(SocketIOOutput):
    """Emits to the socket's room (the session, or the socket itself without persistence) in our namespace."""

    def __init__(self, sio: Any, bot_message_evt: Text, room: Text, namespace: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.room = room
        self.namespace = namespace

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=self.room, namespace=self.namespace)


class WebChatInput(InputChannel):
    """Serves the chat page; its messages travel through `SocketIOChannel` (or the REST channel as fallback)."""

    @classmethod
    def name(cls) -> Text:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = PAGE.read_text(encoding="utf-8")
        blueprint = Blueprint("web_chat_page", __name__)

        @blueprint.route("/", methods=["GET"])
        async def chat_page(request: Request) -> HTTPResponse:
            return response.html(page, headers={"Cache-Control": "no-cache"})

        return blueprint
