"""Rasa input channels of talentbot (web page, and later WeChat, Telegram, WhatsApp)."""
