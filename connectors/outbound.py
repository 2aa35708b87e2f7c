"""Proactive sending (a staff reply later, not in answer to a user message) through the channels' own connectors."""
from __future__ import annotations

import os
from typing import Mapping

import aiohttp

from connectors import registry
from connectors.senders import WEB_SESSION_ID, channel_of, namespaced
from connectors.window import ServiceWindowClosed
from talentbot.core import rasa_endpoint


def _sender_id(channel: str, recipient_id: str) -> str:
    """Accepts the namespaced id (``wechat:<openid>``) or the platform's own id."""
    if recipient_id.startswith(channel + ":"):
        return recipient_id
    if ":" in recipient_id and channel_of(recipient_id) in registry.CHANNELS:
        raise ValueError(f"{recipient_id!r} is not a {channel} conversation")
    return namespaced(channel, recipient_id)


async def service_window_open(channel: str, recipient_id: str, env: Mapping[str, str] = os.environ) -> bool:
    """Whether the platform still accepts a free-form message to this user (WeChat 48 h, WhatsApp 24 h)."""
    input_channel = registry.input_channel_class(channel).from_env(env)
    try:
        return await input_channel.get_output_channel().window_open(_sender_id(channel, recipient_id))
    finally:
        await input_channel.aclose()


class CannotDeliver(RuntimeError):
    """The channel has no way to reach the user now (a REST client; a web page that is closed)."""


WEB_CHANNELS = ("socketio", "rest")
"""The web page talks socket.io and falls back to REST; its conversation ids are ``web:<hex>`` either way."""


PUSH_PATH = "/webhooks/socketio/push"
"""connectors/webchat.py's route for a message to a web page sent later."""

PUSH_TIMEOUT_S = 10


async def push_to_web(recipient_id: str, text: str, env: Mapping[str, str] = os.environ) -> None:
    """Asks the Rasa server, which holds the page's socket, to send ``text`` to it (RASA_URL, RASA_AUTH_TOKEN)."""
    timeout = aiohttp.ClientTimeout(total=PUSH_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.post(rasa_endpoint.base_url(env) + PUSH_PATH,
                                headers=rasa_endpoint.auth_header(rasa_endpoint.token(env)),
                                json={"recipient_id": recipient_id, "text": text}) as reply:
            if reply.status == 409:
                raise CannotDeliver("the user's chat page is not open; they will not see this reply")
            if reply.status >= 400:
                raise RuntimeError(f"the Rasa server refused the message ({reply.status}: {reply.reason})")


async def send_text(channel: str, recipient_id: str, text: str, env: Mapping[str, str] = os.environ) -> None:
    """Sends ``text`` to a user of ``channel`` (split and rendered as that channel does for Rasa's answers).

    Raises ServiceWindowClosed when the platform's customer-service window has passed, CannotDeliver when the
    channel cannot reach the user now (the staff console shows both), KeyError when the channel is not
    configured, and the platform's errors otherwise."""
    if channel in WEB_CHANNELS:
        if not WEB_SESSION_ID.fullmatch(recipient_id):
            raise CannotDeliver("a REST client only gets answers to its own requests; this reply stays on the ticket")
        await push_to_web(recipient_id, text, env)
        return
    if channel not in registry.CHANNELS:
        raise KeyError(f"unknown channel {channel!r}")
    registry.require(channel, env)
    sender_id = _sender_id(channel, recipient_id)
    input_channel = registry.input_channel_class(channel).from_env(env)
    try:
        output = input_channel.get_output_channel()
        if not await output.window_open(sender_id):
            raise ServiceWindowClosed(f"{channel} no longer accepts messages to {sender_id} (customer-service window)")
        await output.send_text_message(sender_id, text)
    finally:
        await input_channel.aclose()


__all__ = ["CannotDeliver", "send_text", "service_window_open", "ServiceWindowClosed"]
