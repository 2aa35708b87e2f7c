"""The language of one of the assistant's replies, as Rasa hands it over with the reply: the connectors never detect
it again from the text (the `language` slot, set by the LanguagePolicy, decided it once).

Rasa 3.6 gives an output channel each reply as ``send_response(recipient_id, message)``, ``message`` being
``BotUttered.message()``: the text, buttons and the like, with every other key of the reply (the event's
``metadata``) flattened in. ``OutputChannel.send_response`` passes those keys on as keyword arguments of
``send_text_message``, ``send_text_with_buttons``, ``send_custom_json``... Two kinds of replies reach a channel:

- a custom action's message (actions/replies.py: ``dispatcher.utter_message(..., metadata={"language": ...})``)
  arrives with ``metadata={"language": "zh-Hant"}``;
- a domain response (``utter_*``: from a rule or story, or an action's ``response=``) arrives with
  ``utter_action`` and the chosen variation's own keys. Rasa picks the variation whose ``condition`` matches the
  `language` slot, so its ``condition=[{"type": "slot", "name": "language", "value": "zh-Hant"}]`` names the
  language; the variation without one is the English one (bot/domain: one variation per language, tests/bot).

Anything else states no language (the connectors' own notes, a staff reply): None.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from talentbot.core.language import EN, LANGUAGES

LANGUAGE_KEY = "language"
"""The key of the language in a custom action's message metadata, and the name of the slot domain responses are
conditioned on."""


def reply_language(reply: Mapping[str, Any]) -> Optional[str]:
    """The language Rasa states for a reply, from the keyword arguments of an OutputChannel send method (or
    ``BotUttered.message()`` itself); None when it states none."""
    metadata = reply.get("metadata")
    if isinstance(metadata, Mapping):
        stated = metadata.get(LANGUAGE_KEY)
        if stated in LANGUAGES:
            return stated
    if reply.get("utter_action"):
        return _variation_language(reply.get("condition"))
    return None


def _variation_language(conditions: Any) -> Optional[str]:
    """The `language` slot value a domain response variation was chosen for: its condition's, or English for the
    variation without one."""
    for condition in conditions or ():
        if isinstance(condition, Mapping) and condition.get("type") == "slot" \
                and condition.get("name") == LANGUAGE_KEY:
            value = condition.get("value")
            return value if value in LANGUAGES else None
    return EN
