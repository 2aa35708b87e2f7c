"""The linear intent classifier gives scikit-learn's probabilities from a message's own features, discounted by the
share of its words never seen in training, and leaves a message with no features (empty, all spaces) or no known
word to the fallback instead of failing the turn or guessing."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from talentbot.core import paths
from talentbot.rasa_plugins.nlu.intent_classifier import LinearIntentClassifier

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey"],
    "thank": ["thanks", "thank you so much", "many thanks", "cheers"],
    "ask_processing_time": ["how long does it take", "how long to process", "processing time please",
                            "when will it be approved"],
    "request_human": ["talk to a person", "human please", "put me through to staff", "real agent"],
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Tuple[list, LinearIntentClassifier, LocalModelStorage]:
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    words = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                          Resource("words"), context)
    chars = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        storage, Resource("chars"), context)
    data = TrainingData([Message.build(text=t, intent=i) for i, texts in EXAMPLES.items() for t in texts])
    tokenizer.process_training_data(data)
    for featurizer in (words, chars):
        featurizer.train(data)
        featurizer.process_training_data(data)
    classifier = LinearIntentClassifier({**LinearIntentClassifier.get_default_config(), "C": 5.0}, "intents", storage,
                                        Resource("intents"))
    classifier.train(data)
    return [tokenizer, words, chars], classifier, storage


def featurised(stages: list, text: str) -> Message:
    message = Message.build(text=text)
    for stage in stages:
        stage.process([message])
    return message


@pytest.mark.parametrize("text", ["how long does it take", "hello there", "a real person please", "thanks staff"])
def test_probabilities_of_known_words_are_scikit_learns(pipeline: tuple, text: str) -> None:
    stages, classifier, _ = pipeline
    message = featurised(stages, text)
    expected = classifier.clf.predict_proba(classifier._create_X([message]))[0]
    classifier.process([message])
    by_name = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
    assert by_name == pytest.approx(dict(zip(classifier.clf.classes_, expected, strict=True)))
    assert message.get("intent")["name"] == classifier.clf.classes_[int(np.argmax(expected))]


@pytest.mark.parametrize("text, share", [("thanks qwzx", 0.5), ("hello vbnm plkj", 1 / 3)])
def test_unseen_words_discount_every_confidence_by_the_root_of_the_known_share(pipeline: tuple, text: str,
                                                                             share: float) -> None:
    stages, classifier, _ = pipeline
    message = featurised(stages, text)
    expected = classifier.clf.predict_proba(classifier._create_X([message]))[0] * share ** 0.5
    classifier.process([message])
    by_name = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
    assert by_name == pytest.approx(dict(zip(classifier.clf.classes_, expected, strict=True)))


def test_a_message_of_unseen_words_only_is_left_to_the_fallback(pipeline: tuple) -> None:
    stages, classifier, _ = pipeline
    message = featurised(stages, "kjhkjh")
    assert classifier.clf.predict_proba(classifier._create_X([message]))[0].max() > 0.3  # sure of itself, alone
    classifier.process([message])
    assert message.get("intent")["confidence"] == 0.0
    FallbackClassifier(FallbackClassifier.get_default_config()).process([message])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_the_ranking_is_best_first_and_cut_to_its_length(pipeline: tuple) -> None:
    stages, classifier, _ = pipeline
    message = featurised(stages, "how long does it take")
    classifier.process([message])
    confidences = [r["confidence"] for r in message.get("intent_ranking")]
    assert confidences == sorted(confidences, reverse=True)
    assert message.get("intent")["name"] == "ask_processing_time"
    assert len(confidences) == min(len(EXAMPLES), classifier.config["ranking_length"])


@pytest.mark.parametrize("text", ["", "   "])
def test_a_message_without_features_is_left_to_the_fallback(pipeline: tuple, text: str) -> None:
    stages, classifier, _ = pipeline
    message = featurised(stages, text)
    classifier.process([message])
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    assert message.get("intent_ranking") == []
    fallback = FallbackClassifier(FallbackClassifier.get_default_config())
    fallback.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_the_loaded_model_classifies_as_the_trained_one(pipeline: tuple) -> None:
    stages, classifier, storage = pipeline
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = LinearIntentClassifier.load({**LinearIntentClassifier.get_default_config(), "C": 5.0}, storage,
                                         Resource("intents"), context)
    texts: List[str] = ["hello", "talk to staff", "how long to process it qqzz"]
    for text in texts:
        one, two = featurised(stages, text), featurised(stages, text)
        classifier.process([one])
        loaded.process([two])
        assert one.get("intent_ranking") == two.get("intent_ranking")


def test_training_examples_keep_their_labels(pipeline: tuple) -> None:
    stages, classifier, _ = pipeline
    example = featurised(stages, "hello")
    example.set("intent", "thank")  # a label the classifier would not predict
    classifier.process_training_data(TrainingData([example]))
    assert example.get("intent") == "thank"


def test_loading_the_model_keeps_the_servers_root_logger() -> None:
    """In a fresh process (skops.io not imported yet), as the Rasa server loads the model."""
    code = ("import logging; logging.getLogger().setLevel(logging.INFO); "
            "from talentbot.rasa_plugins.nlu.intent_classifier import import_skops_keeping_the_root_logger as keep; "
            "keep(); import skops.io; root = logging.getLogger(); print(root.level, type(root).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.ROOT)
    assert done.stdout.strip() == f"{logging.INFO} RootLogger"
