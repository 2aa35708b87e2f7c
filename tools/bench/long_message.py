"""How long one 10,000-character message takes through the trained NLU pipeline (tokenizer, featurizers, intent
classifier, gazetteer, question-bank ranker).

The channels and Rasa's HTTP API cap a message at 2,000 characters (connectors/inbound.py,
talentbot/rasa_plugins/rasa_api_input.py), but every NLU component must still stay linear in the length, the cap being
no excuse
for a step that blows up: in issue 12 the gazetteer's overlap removal and the tokenizer's name masking were
quadratic, and 「高才通」×5,000 took 27 s.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict

LENGTH = 10_000
"""Characters per message: five times the channels' cap."""

MESSAGES = {
    "scheme names (高才通…)": ("高才通" * LENGTH)[:LENGTH],  # thousands of overlapping-candidate names
    "zh-Hant question": ("我想問下高才通同優才有咩分別？喺香港讀完書可唔可以留低搵工？" * LENGTH)[:LENGTH],
    "en question": ("How long does the QMAS application take if I work in London? " * LENGTH)[:LENGTH],
}
"""The worst case of issue 12 and two ordinary long pastes."""


def parse_ms(agent: Any, text: str) -> float:
    """Milliseconds one `agent.parse_message(text)` takes (the NLU pipeline alone, no dialogue)."""
    started = time.perf_counter()
    asyncio.run(agent.parse_message(text))
    return round((time.perf_counter() - started) * 1000, 1)


def measure(model: Path) -> Dict[str, float]:
    """Parse time (ms) of each long message, after a warm-up parse."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    parse_ms(agent, "hello")
    return {name: parse_ms(agent, text) for name, text in MESSAGES.items()}
