"""Telegram channel (credentials.yml key ``connectors.telegram.TelegramInput``)."""
from connectors.telegram.channel import TelegramInput, TelegramOutput
from connectors.telegram.client import set_webhook

__all__ = ["TelegramInput", "TelegramOutput", "set_webhook"]
