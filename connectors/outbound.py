"""Proactive sending (a staff reply later, not in answer to a user message) through the channels' own connectors."""
from __future__ import annotations

import os
from typing import Mapping

from connectors import registry
from connectors.senders import channel_of, namespaced
from connectors.window import ServiceWindowClosed


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


async def send_text(channel: str, recipient_id: str, text: str, env: Mapping[str, str] = os.environ) -> None:
    """Sends ``text`` to a user of ``channel`` (split and rendered as that channel does for Rasa's answers).

    Raises ServiceWindowClosed when the platform's customer-service window has passed (the staff console shows
    it), KeyError when the channel is not configured, and the platform's errors otherwise."""
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


__all__ = ["send_text", "service_window_open", "ServiceWindowClosed"]
