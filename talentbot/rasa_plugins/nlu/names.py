"""The names (surface form → canonical value) that the training data teaches, for the gazetteer."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData


def entries_from_training_data(
    training_data: TrainingData, entities: Optional[List[str]] = None
) -> Dict[Tuple[str, str], str]:
    """(entity, surface form) → canonical value, from lookup tables, synonyms and annotated examples."""
    synonyms = {str(k).lower(): str(v) for k, v in training_data.entity_synonyms.items()}
    wanted = set(entities) if entities else None
    entries: Dict[Tuple[str, str], str] = {}
    for example in training_data.nlu_examples:
        text = example.get(TEXT) or ""
        for entity in example.get(ENTITIES) or []:
            name = entity["entity"]
            if wanted is None or name in wanted:
                surface = text[entity["start"] : entity["end"]]
                entries[(name, surface)] = str(entity.get("value", surface))
    for table in training_data.lookup_tables:
        name = table["name"]
        if wanted is not None and name not in wanted:
            continue
        elements = table["elements"]
        if isinstance(elements, str):
            elements = [line.strip() for line in elements.splitlines() if line.strip()]
        for surface in elements:
            entries.setdefault((name, surface), synonyms.get(surface.lower(), surface))
    return entries
