"""The python-telegram-bot ``Bot`` pointed at the configured API server, and the setWebhook call."""
from __future__ import annotations

import os
from typing import Mapping, Optional

from telegram import Bot

from connectors import registry
from connectors.telegram.protocol import ALLOWED_UPDATES

DEFAULT_API_BASE_URL = "https://api.telegram.org"
"""Production Bot API; ``TELEGRAM_API_BASE_URL`` points at a local fake (tests) or a self-hosted Bot API server."""

WEBHOOK_PATH = "/webhooks/telegram/webhook"
"""Our route (interfaces.md §4), appended to the public base URL given to setWebhook."""


def make_bot(token: str, api_base_url: Optional[str] = None) -> Bot:
    """A Bot whose every request goes to ``<api_base_url>/bot<token>/<method>``."""
    root = (api_base_url or DEFAULT_API_BASE_URL).rstrip("/")
    return Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot")


def webhook_url(public_base_url: str) -> str:
    """The URL Telegram must post updates to, for the assistant reachable at ``public_base_url``."""
    return public_base_url.rstrip("/") + WEBHOOK_PATH


async def set_webhook(public_base_url: str, env: Mapping[str, str] = os.environ) -> None:
    """Registers our webhook with Telegram, with the secret token it must send back in every request.
    For ``talentbot telegram set-webhook``; ``public_base_url`` is the HTTPS address of the assistant."""
    settings = registry.require("telegram", env)
    async with make_bot(settings["TELEGRAM_TOKEN"], settings.get("TELEGRAM_API_BASE_URL")) as bot:
        await bot.set_webhook(
            url=webhook_url(public_base_url),
            secret_token=settings["TELEGRAM_SECRET_TOKEN"],
            allowed_updates=list(ALLOWED_UPDATES),
        )
