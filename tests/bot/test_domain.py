"""The domain: every intent of the interface spec is known and handled, every response speaks three languages."""

import re
from typing import Dict, List, Set

import pytest
import yaml
from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.domain import Domain
from rasa.shared.core.slots import CategoricalSlot

from talentbot.core import paths
from talentbot.core.spec import ENTITIES, INTENTS, LANGUAGES

SPEC = paths.ROOT.parent / "shared" / "spec" / "interfaces.md"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN))


def dialogue_steps() -> List[dict]:
    steps: List[dict] = []
    for file in sorted(paths.DIALOGUE_DATA.glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for flow in (data.get("rules") or []) + (data.get("stories") or []):
            steps.extend(flow.get("steps") or [])
    return steps


@pytest.mark.skipif(not SPEC.exists(), reason="shared/spec not beside the checkout")
def test_intent_list_matches_the_interface_spec() -> None:
    section = SPEC.read_text(encoding="utf-8").split("## 2.")[1].split("## 3.")[0]
    assert set(re.findall(r"^\| `(\w+)`", section, re.M)) == INTENTS


def test_domain_declares_exactly_the_spec_intents_and_entities(domain: Domain) -> None:
    assert INTENTS <= set(domain.intents)
    assert set(domain.intents) - INTENTS - set(DEFAULT_INTENTS) == set()
    assert ENTITIES <= set(domain.entities)


def test_language_slot_takes_exactly_the_three_codes(domain: Domain) -> None:
    slot = next(s for s in domain.slots if s.name == "language")
    assert isinstance(slot, CategoricalSlot)
    # Rasa lowercases categorical values for featurisation only; the slot holds the codes as set.
    assert set(slot.values) - {"__other__"} == {code.lower() for code in LANGUAGES}


@pytest.mark.parametrize("intent", sorted(set(INTENTS) | {"nlu_fallback"}))
def test_every_intent_has_a_rule_or_story(intent: str) -> None:
    assert any(step.get("intent") == intent for step in dialogue_steps()), f"no rule or story handles {intent}"


def variation_languages(variations: List[Dict]) -> Set[str]:
    languages = set()
    for variation in variations:
        conditions = variation.get("condition") or []
        language = [c["value"] for c in conditions if c.get("name") == "language"]
        languages.add(language[0] if language else "en")
    return languages


def test_every_response_has_all_three_languages(domain: Domain) -> None:
    missing = {
        name: sorted(set(LANGUAGES) - variation_languages(variations))
        for name, variations in domain.responses.items()
        if set(LANGUAGES) - variation_languages(variations)
    }
    assert missing == {}


def test_chinese_variations_are_in_their_own_script(domain: Domain) -> None:
    from talentbot.core.language import chinese_script

    wrong = []
    for name, variations in domain.responses.items():
        for variation in variations:
            language = next((c["value"] for c in variation.get("condition") or [] if c.get("name") == "language"), "en")
            script = chinese_script(variation.get("text") or "")
            chinese = language in ("zh-Hant", "zh-Hans")
            if name != "utter_language_unsupported" and chinese and script not in (None, language):
                wrong.append((name, language))
    assert wrong == []
