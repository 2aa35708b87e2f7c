"""GazetteerEntityExtractor: Rasa entity extractor over the names in our lookup tables, synonyms and annotations.

Thin adapter around `talentbot.core.gazetteer`. It learns every surface form from the training data (lookup tables
named after the entity, `synonym` blocks, and the annotated examples) and emits canonical values directly, so
no separate synonym mapping is needed and no entity depends on token boundaries.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from talentbot.core.gazetteer import Gazetteer
from talentbot.rasa_plugins.nlu.names import entries_from_training_data

logger = logging.getLogger(__name__)

ENTRIES_FILE = "gazetteer.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds scheme, topic, location and language names in three languages and scripts."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": None}  # restrict to these entity names; None: every lookup table and annotation

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        gazetteer: Optional[Gazetteer] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._gazetteer = gazetteer or Gazetteer({})

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "GazetteerEntityExtractor":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._gazetteer = Gazetteer(entries_from_training_data(training_data, self._config.get("entities")))
        with self._model_storage.write_to(self._resource) as directory:
            rows = self._gazetteer.to_entries()
            (Path(directory) / ENTRIES_FILE).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        logger.debug("Gazetteer trained with %d surface forms.", len(self._gazetteer))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "GazetteerEntityExtractor":
        try:
            with model_storage.read_from(resource) as directory:
                rows = json.loads((Path(directory) / ENTRIES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("GazetteerEntityExtractor has no trained entries; it will find no entities.")
            rows = []
        return cls(config, model_storage, resource, Gazetteer.from_entries(rows))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = [
                {"entity": m.entity, "value": m.value, "start": m.start, "end": m.end, "confidence_entity": 1.0}
                for m in self._gazetteer.find(message.get(TEXT) or "")
            ]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
