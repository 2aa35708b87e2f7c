"""QuestionBankRanker: Rasa NLU component that finds the question-bank entries a message asks for.

Thin adapter around `talentbot.core.qbank`: at training it stores the bank's questions (bot/questions/) and the scheme
names of the training data in the model; at run time it ranks the entries for each message, puts the ranking in
the parse data under `question_bank` (read by action_answer, shown by /model/parse), and lets the pure
`arbitrate` correct the intent where the bank clearly knows better. It runs after FallbackClassifier, so a question
the classifier could not place can still be answered.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from talentbot.core.eligibility_chat.extract import extract
from talentbot.core.gazetteer import Gazetteer
from talentbot.core.nlu_output import QUESTION_BANK_KEY
from talentbot.core.qbank.arbitrate import FACTS_MATTER, arbitrate, asks_since_when, best_of
from talentbot.core.qbank.choose import Context, entries_of, weigh
from talentbot.core.qbank.cues import load_cues
from talentbot.core.qbank.index import Document, Index
from talentbot.core.qbank.loader import read_bank
from talentbot.core.qbank.model import Bank
from talentbot.core.qbank.schemes import SCHEME_ENTITY, masker
from talentbot.core.qbank.text import unnamed_features
from talentbot.rasa_plugins.nlu.names import entries_from_training_data

logger = logging.getLogger(__name__)

BANK_FILE = "question_bank.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class QuestionBankRanker(GraphComponent):
    """Ranks question-bank entries for each message and arbitrates the intent with them."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"questions_path": "bot/questions", "ranking_length": 10}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The bank's files are not Rasa training data: their bytes make Rasa retrain this component."""
        digest = hashlib.sha256()
        folder = Path(config.get("questions_path") or cls.get_default_config()["questions_path"])
        for path in sorted(p for p in folder.glob("*.yml") if p.is_file()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        stored: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._stored = stored or {"entries": [], "schemes": []}
        self._setup()

    def _setup(self) -> None:
        entries = self._stored["entries"]
        self._intents = {e["id"]: e["intent"] for e in entries}
        self._bank = _skeleton_bank(entries)
        self._mask = masker(Gazetteer.from_entries(self._stored["schemes"]))
        self._index = Index([Document(e["id"], tuple(e["questions"])) for e in entries], self._mask)
        self._cues = load_cues()
        self._named: Dict[Tuple[str, ...], Tuple[str, ...]] = {}  # schemes named -> their entries

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionBankRanker":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "QuestionBankRanker":
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((Path(directory) / BANK_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("QuestionBankRanker has no trained bank; no question will be answered from it.")
            stored = None
        return cls(config, model_storage, resource, stored)

    def train(self, training_data: TrainingData) -> Resource:
        bank, problems = read_bank(Path(self._config["questions_path"]))
        for problem in problems:
            logger.warning("question bank: %s", problem)
        names = entries_from_training_data(training_data, [SCHEME_ENTITY])
        self._stored = {
            "entries": [
                {"id": e.id, "intent": e.intent, "schemes": list(e.schemes),
                 "questions": [q for qs in e.questions.values() for q in qs]}
                for e in bank.entries
            ],
            "schemes": Gazetteer(names).to_entries(),
        }
        self._setup()
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / BANK_FILE).write_text(json.dumps(self._stored, ensure_ascii=False), encoding="utf-8")
        logger.debug("Question bank trained with %d entries.", len(bank))
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        unnamed, schemes = self._mask(text)  # once: the ranking, the facts and the arbitration all read it
        if schemes not in self._named:
            self._named[schemes] = entries_of(self._bank, schemes)
        candidates = self._index.rank_features(unnamed_features(unnamed, schemes), self._config["ranking_length"],
                                               self._named[schemes])
        weighed = weigh(self._bank, candidates, Context(named=schemes))
        similarity = {c.id: c.similarity for c in candidates}
        best = best_of([(entry.id, score) for entry, score in weighed], similarity, self._intents)
        intent = message.get(INTENT) or {}
        name = str(intent.get("name") or "")
        # only for these do the user's own facts matter (extracting them is the costly part)
        facts = name in FACTS_MATTER and bool(extract(unnamed).values)
        since_when = asks_since_when(text, self._cues)
        rewritten = arbitrate(name, text, best, self._cues, names_scheme=bool(schemes), unnamed=unnamed, facts=facts,
                              since_when=since_when)
        if rewritten is not None:
            confidence = best.similarity if best is not None and best.intent == rewritten else 1.0
            message.set(INTENT, {"name": rewritten, "confidence": confidence}, add_to_output=True)
        message.set(
            QUESTION_BANK_KEY,
            {
                "ranking": [{"id": c.id, "score": c.score, "similarity": c.similarity} for c in candidates],
                "schemes": list(schemes),
                "rewritten_from": intent.get("name") if rewritten is not None else None,
                "since_when": since_when,
            },
            add_to_output=True,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _skeleton_bank(entries: List[Dict[str, Any]]) -> Bank:
    """Entries with just what ranking needs (id, intent, schemes): answers live in the action server."""
    from datetime import date

    from talentbot.core.qbank.model import QuestionEntry

    return Bank(tuple(
        QuestionEntry(id=e["id"], intent=e["intent"], questions={}, answer={}, source=(), as_of=date.min,
                      schemes=tuple(e["schemes"]))
        for e in entries
    ))
