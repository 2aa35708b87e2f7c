"""What one conversation turn counts for in the metrics: its language, its fallbacks, its "Did you mean" offers.

Read from what the turn left in the conversation, after it was stored: the intent of the user's message
(`nlu_fallback` when the NLU could not place it, after the question bank's corrections), the actions run
(`action_default_fallback` when no rule applied) and the bot's messages. A "Did you mean" offer is the message
`action_answer` sends with the heading of talentbot.core.qbank.render.render_choices: `did_you_mean` when it asks
before answering (the same question of several schemes), `did_you_mean_instead` when it offers the other close
entries after answering the best guess. The headings are the content's own phrases, so they are recognised in every
language and whatever their wording becomes.
"""

from __future__ import annotations

from typing import Collection, Dict, Iterable, Mapping, NamedTuple, Optional, Tuple

from talentbot.core.observability.metrics import language_label

NLU_FALLBACK = "nlu_fallback"
CORE_FALLBACK = "action_default_fallback"
"""The two kinds of fallback: the NLU's intent, and Rasa's action when no rule applies."""

ASKED_FIRST = "asked_first"
AFTER_ANSWER = "after_answer"
"""The two kinds of "Did you mean" offer."""

HEADING_KINDS = {"did_you_mean": ASKED_FIRST, "did_you_mean_instead": AFTER_ANSWER}
"""The content phrases (bot/content/ui.yml) that head an offer, and the kind of offer each heads."""


def offer_headings(phrases: Mapping[str, Mapping[str, str]]) -> Dict[str, str]:
    """Every language's text of each offer heading, mapped to the kind of offer it heads."""
    return {text: kind for name, kind in HEADING_KINDS.items() for text in phrases.get(name, {}).values() if text}


class TurnSummary(NamedTuple):
    language: str  # a label value: en, zh-Hant, zh-Hans, unknown or other
    fallbacks: Tuple[str, ...] = ()  # NLU_FALLBACK and/or CORE_FALLBACK
    offers: Tuple[str, ...] = ()  # ASKED_FIRST and/or AFTER_ANSWER


def summarize(language: Optional[str], intent: Optional[str], actions: Collection[str], bot_texts: Iterable[str],
              headings: Mapping[str, str]) -> TurnSummary:
    """The turn's language (the conversation's `language` slot after it), fallbacks and offers."""
    fallbacks: Tuple[str, ...] = (NLU_FALLBACK,) if intent == NLU_FALLBACK else ()
    if CORE_FALLBACK in actions:
        fallbacks += (CORE_FALLBACK,)
    offers = tuple(headings[text] for text in bot_texts if text in headings)
    return TurnSummary(language_label(language), fallbacks, offers)
