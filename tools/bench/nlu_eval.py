"""Intent macro-F1 per language on the held-out development set (../shared/dev/nlu), never trained on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Dict, List, Tuple

from talentbot.core import paths

DEV_FILES = {"en": "en.yml", "zh-Hant": "zh-Hant.yml", "zh-Hans": "zh-Hans.yml"}


def dev_examples(dev_dir: Path = paths.DEV_SET / "nlu") -> Dict[str, List[Tuple[str, str]]]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = {}
    for language, name in DEV_FILES.items():
        data = load_data(str(dev_dir / name))
        examples[language] = [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return examples


def macro_f1(gold: List[str], predicted: List[str]) -> float:
    """Macro-averaged F1 over the gold labels (a wrongly predicted extra label counts against precision)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0))


def evaluate(model: Path) -> Dict[str, Dict]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's structured debug log would print every parse
    agent = Agent.load(str(model))
    report = {}
    for language, examples in dev_examples().items():
        gold, predicted, errors = [], [], []
        for text, intent in examples:
            parsed = asyncio.run(agent.parse_message(text))
            guess = parsed["intent"]["name"]
            gold.append(intent)
            predicted.append(guess)
            if guess != intent:
                errors.append({"text": text, "gold": intent, "predicted": guess,
                               "confidence": round(parsed["intent"]["confidence"], 3)})
        report[language] = {
            "examples": len(gold),
            "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4),
            "macro_f1": round(macro_f1(gold, predicted), 4),
            "errors": errors,
        }
    return report
