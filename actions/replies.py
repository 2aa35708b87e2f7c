"""How an action's message tells the channels its language: in the message's metadata, which Rasa hands to the output
channel with the message (BotUttered metadata, passed as keyword arguments of the send methods). The channels
then word their own prompts around it ("Reply with a number") in that language, without detecting it again from the
text (connectors/reply_language.py reads it).

Beside the language, a message may state its outcome for analysis (what it answered, what it offered, how the
eligibility check ended, which queue ticket was opened: talentbot.core.analytics.outcome); the channels ignore it."""

from __future__ import annotations

from typing import Any, Dict, Optional

from talentbot.core.analytics.outcome import OUTCOME_KEY, Outcome

LANGUAGE_KEY = "language"
"""The key connectors/reply_language.py reads (the actions may not import the connectors, nor they the actions)."""


def reply_metadata(language: str, outcome: Optional[Outcome] = None) -> Dict[str, Any]:
    """The ``metadata`` of a message in `language`: ``dispatcher.utter_message(..., metadata=reply_metadata(lang))``,
    with the message's `outcome` when it has one."""
    if outcome:
        return {LANGUAGE_KEY: language, OUTCOME_KEY: outcome}
    return {LANGUAGE_KEY: language}
