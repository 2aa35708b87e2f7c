"""Where the project's Rasa inputs live: the one place the CLI, `make` and the tests take them from.

The top-level `domain.yml`, `data/`, `endpoints.yml` and `credentials.yml` are symlinks to these, so plain
`rasa train`, `rasa shell`, `rasa test` and `rasa data validate` work from the project root too.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config.yml"
DOMAIN = ROOT / "bot" / "domain"
DIALOGUE_DATA = ROOT / "bot" / "data"
NLU_DATA = ROOT / "nlu_data"
CONTENT = ROOT / "bot" / "content"
QUESTIONS = ROOT / "bot" / "questions"
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
ENDPOINTS_PRODUCTION = ROOT / "bot" / "endpoints.production.yml"
CREDENTIALS = ROOT / "bot" / "credentials.yml"
TEST_STORIES = ROOT / "tests" / "stories"
MODELS = ROOT / "models"
VAR = ROOT / "var"
DEV_SET = ROOT.parent / "shared" / "dev"

TRAINING_INPUTS = (
    CONFIG, DOMAIN, DIALOGUE_DATA, NLU_DATA, QUESTIONS,
    ROOT / "talentbot" / "rasa_plugins" / "nlu", ROOT / "talentbot" / "rasa_plugins" / "policies",
    ROOT / "talentbot" / "core" / "qbank", ROOT / "talentbot" / "core" / "gazetteer.py",
    ROOT / "talentbot" / "core" / "segmentation.py",
)
"""Everything a trained model depends on: a change in any of these means training again."""
