"""MultilingualTokenizer: Rasa tokenizer for English, Traditional/Cantonese and Simplified Chinese in one pipeline.

Thin adapter around `talentbot.core.segmentation`. The Jieba user dictionary is read at training time and stored
inside the model archive, so a trained model does not depend on the working directory it is run from.

With `mask_entities`, every name the training data teaches (schemes, topics, places, languages) becomes one token
whose lemma is a placeholder such as `__scheme__`; the featurizers (which read lemmas) then learn intents from the
words around names. Without it, 「申請內地專才嘅程序」 looked like a question about the scheme because of the name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from talentbot.core.gazetteer import Gazetteer
from talentbot.core.segmentation import mask_spans, segment
from talentbot.rasa_plugins.nlu.names import entries_from_training_data

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

USER_DICT_FILE = "jieba_userdict.txt"
NAMES_FILE = "names.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MultilingualTokenizer(Tokenizer):
    """Latin words on their edges, Han runs by Jieba with our user dictionary; no whitespace tokens."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "dictionary_path": None,  # a Jieba user dictionary file (`word freq tag` lines)
            "mask_entities": True,  # names from lookups/synonyms/annotations become placeholder lemmas
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        user_dict: Optional[str] = None,
        names: Optional[Gazetteer] = None,
    ) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._user_dict = user_dict
        self._names = names
        self._jieba = jieba.Tokenizer()
        if user_dict:
            for line in user_dict.splitlines():
                parts = line.split()
                if parts:
                    freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                    tag = parts[2] if len(parts) > 2 else None
                    self._jieba.add_word(parts[0], freq, tag)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MultilingualTokenizer":
        path = config.get("dictionary_path")
        user_dict = Path(path).read_text(encoding="utf-8") if path and Path(path).is_file() else None
        if path and user_dict is None:
            logger.warning("Jieba user dictionary %s not found; segmenting without it.", path)
        return cls(config, model_storage, resource, user_dict)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "MultilingualTokenizer":
        user_dict, names = None, None
        try:
            with model_storage.read_from(resource) as directory:
                file = Path(directory) / USER_DICT_FILE
                if file.is_file():
                    user_dict = file.read_text(encoding="utf-8")
                file = Path(directory) / NAMES_FILE
                if file.is_file():
                    names = Gazetteer.from_entries(json.loads(file.read_text(encoding="utf-8")))
        except ValueError:
            logger.debug("Nothing stored for %s.", resource.name)
        return cls(config, model_storage, resource, user_dict, names)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the user dictionary and the names to mask in the model."""
        if self._config.get("mask_entities"):
            self._names = Gazetteer(entries_from_training_data(training_data))
        with self._model_storage.write_to(self._resource) as directory:
            if self._user_dict:
                (Path(directory) / USER_DICT_FILE).write_text(self._user_dict, encoding="utf-8")
            if self._names is not None:
                rows = json.dumps(self._names.to_entries(), ensure_ascii=False)
                (Path(directory) / NAMES_FILE).write_text(rows, encoding="utf-8")
        return self._resource

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        words = segment(text, self._jieba.cut)
        if self._names is not None:
            spans = [(m.start, m.end, f"__{m.entity}__") for m in self._names.find(text)]
            tokens = [Token(w, start, lemma=label) for w, start, label in mask_spans(words, text, spans)]
        else:
            tokens = [Token(word, start) for word, start in words]
        if not tokens:
            # Messages with no word at all (emoji, punctuation) still need one token for the featurizers.
            stripped = text.strip()
            tokens = [Token(stripped, text.find(stripped))] if stripped else []
        return self._apply_token_pattern(tokens)
