"""How an action's message tells the channels its language: in the message's metadata, which Rasa hands to the
output channel with the message (BotUttered metadata, passed as keyword arguments of the send methods). The channels
then word their own prompts around it ("Reply with a number") in that language, without detecting it again from the
text (connectors/reply_language.py reads it)."""

from __future__ import annotations

from typing import Dict

LANGUAGE_KEY = "language"
"""The key connectors/reply_language.py reads (the actions may not import the connectors, nor they the actions)."""


def reply_metadata(language: str) -> Dict[str, str]:
    """The ``metadata`` of a message in `language`: ``dispatcher.utter_message(..., metadata=reply_metadata(lang))``."""
    return {LANGUAGE_KEY: language}
