"""The handoff package's YAML data files, read once: the one place their paths are written. (Its texts are with
every other user-facing text under bot/texts, TEXTS_FILE.)"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

from talentbot.core import i18n

DATA = Path(__file__).with_name("data")
HOLIDAYS_FILE = DATA / "hk_public_holidays.yml"
POLICY_FILE = DATA / "policy.yml"
TEXTS_FILE = i18n.TEXTS_DIR / "handoff.yml"


@lru_cache(maxsize=None)
def load(path: Path) -> Dict[str, Any]:
    """Parsed YAML mapping; cached because the files are only edited between deployments."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data
