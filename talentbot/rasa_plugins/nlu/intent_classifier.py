"""Intents by logistic regression over the count-vector features: Rasa's `LogisticRegressionClassifier`, with a
message that has no features left unclassified, as DIET leaves it.

Why not DIET: with the question bank deciding the answer among a topic's entries, the intent only has to pick the
kind of turn (a question of a topic, an answer, small talk, a request for a person), and a linear model on the same
word and character n-grams does that nearly as well (figures in config.yml) for far less CPU per message: DIET's
TensorFlow call was a fifth of the Rasa server's busy time. It fits in seconds instead of minutes.

Rasa's component turns an empty or all-spaces message (no features at all) into a zero-width row and scikit-learn
refuses it, so the turn failed with no reply. Here such a message gets no intent, with confidence 0: FallbackClassifier
then predicts nlu_fallback and the user is asked to rephrase, as with DIET.

A linear model is also sure of itself on words it never saw: on their characters alone "kjhkjh" was `affirm` at
0.66 (a "yes" to the form's question) and 「哈哈哈」 `greet` at 0.96, where DIET's similarities fell to the fallback.
So every confidence is multiplied by the square root of the share of the message's words seen in training (by the
word featurizer): a message of unseen words falls to the fallback, "sdkfj 2024" (one word of two) from 0.60 to 0.42,
under the fallback threshold, and a question with one typo among ten words barely moves. (The share itself, not its
root, cost two more FAQ-style questions in the live replay.)
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH


def sentence_row(message: Message) -> Optional[scipy.sparse.csr_matrix]:
    """The message's sentence features as one sparse row, columns in the order Rasa's `get_sparse_features` puts
    them (the featurizers' blocks side by side, as the classifier was trained on); None if some are dense.

    Rasa's own way deep-copies and stacks the blocks twice per message; this is the same row at a tenth of the cost.
    """
    sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    if any(f.is_dense() for f in sentence):
        return None
    blocks = [f.features for f in sentence]
    if not blocks:  # an empty or all-spaces message: the featurizers added nothing
        return scipy.sparse.csr_matrix((1, 0))
    return scipy.sparse.hstack(blocks, format="csr") if len(blocks) > 1 else scipy.sparse.csr_matrix(blocks[0])


def known_share(message: Message) -> float:
    """The share of the message's words the first featurizer knows: its per-word rows (the word count vectorizer's,
    first in config.yml) are empty for a word it never saw in training. 1.0 when there is nothing to tell by."""
    rows = [f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SEQUENCE and f.is_sparse()]
    if not rows or rows[0].shape[0] == 0:
        return 1.0
    words = scipy.sparse.csr_matrix(rows[0])
    return float(np.count_nonzero(words.getnnz(axis=1))) / words.shape[0]


def import_skops_keeping_the_root_logger() -> None:
    """Imports skops.io (which Rasa's component uses to save and load the model) without losing the server's logs.

    The first import of skops.io walks every scikit-learn module; one imports numpy.distutils, whose log module turns
    the root logger into distutils' own (its class swapped: it prints instead of calling handlers) and sets it to
    WARNING. In the Rasa server every INFO line after the model loaded ("Rasa server is up and running" among them)
    was dropped, and with TALENTBOT_LOG_FORMAT=json the root logger's own lines came out as plain text.
    """
    root = logging.getLogger()
    kind, level = root.__class__, root.level
    try:
        import skops.io  # noqa: F401
    finally:
        root.__class__ = kind
        root.setLevel(level)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression with its regularisation (`C`) configurable, featureless messages unclassified,
    a message scored from its non-zero features only and its confidences discounted by its unseen words."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(self, config: Dict[Text, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.clf.set_params(C=float(self.config["C"]))
        self._weights: Optional[np.ndarray] = None

    def persist(self) -> None:
        import_skops_keeping_the_root_logger()
        super().persist()

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LogisticRegressionClassifier:
        import_skops_keeping_the_root_logger()
        return super().load(config, model_storage, resource, execution_context, **kwargs)

    def _feature_weights(self) -> Optional[np.ndarray]:
        """Features × intents, contiguous by feature, so a message reads only its own features' rows.

        scikit-learn's `predict_proba` multiplies the sparse row by the transposed coefficients, and scipy first
        copies that whole transposed matrix (features × intents) for every message: most of the time it took.
        Only for a multinomial model (more than two intents), where the probabilities are the softmax of the scores.
        """
        if self._weights is None and hasattr(self.clf, "coef_") and len(self.clf.classes_) > 2:
            self._weights = np.ascontiguousarray(self.clf.coef_.T)
        return self._weights

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Unchanged. Rasa's component classifies every training example here, overwriting each example's intent
        label with its prediction (and no later component reads either)."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            row = sentence_row(message)
            if row is None:
                super().process([message])  # dense features: Rasa's way
            elif row.nnz == 0:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            else:
                self._classify(message, row)
        return messages

    def _classify(self, message: Message, row: scipy.sparse.csr_matrix) -> None:
        weights = self._feature_weights()
        if weights is None:  # a model of two intents (not ours): Rasa's way, without the discount
            super().process([message])
            return
        scores = row.data @ weights[row.indices] + self.clf.intercept_
        probabilities = softmax(scores) * known_share(message) ** 0.5
        order = np.argsort(-probabilities, kind="stable")
        ranking = [{"name": str(self.clf.classes_[i]), "confidence": float(probabilities[i])} for i in order]
        message.set(INTENT, ranking[0], add_to_output=True)
        if self.config[RANKING_LENGTH] > 0:
            ranking = ranking[: self.config[RANKING_LENGTH]]
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
