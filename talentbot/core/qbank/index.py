"""The lexical ranker: which bank entries a message asks for, over the TF-IDF space of `text.features`.

Two views of the same paraphrases (each paraphrase of each entry is a row):
- a multinomial naive Bayes classifier (one class per entry) orders the entries: it weighs the words that tell
  entries apart, so a long question with personal context still finds its entry. Its posterior, softened by a
  temperature, is the candidate's `score` (what the scheme fit multiplies and "Did you mean" compares);
- the cosine of the message to the entry's nearest paraphrase is its `similarity`: an absolute measure of how
  close the wording is, for "is any entry close enough at all".
On our evaluation set (bench/eval, 548 turns) naive Bayes put an entry carrying the right fact first for 85-86%
of turns, nearest-paraphrase cosine 76%, logistic regression 85% (but 5 minutes to fit), a linear SVM 78%.
Fitting takes about a second, so the index is rebuilt from the stored paraphrases when a model loads instead of
pickling scikit-learn objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

from talentbot.core.qbank.text import Masker, analyse

#: Naive Bayes smoothing: with about 17,000 paraphrases 0.03 ranked best on the evaluation set (top-1 .790 against
#: .777 at 0.01 and .788 at 0.1).
NB_ALPHA = 0.03
#: Entries of the scheme a message names that join the candidates even when they rank below the first k: the
#: classifier compares what is asked with scheme names cut out, so 「TechTAS對畢業院校有咩要求？」 found ten TTPS and
#: QMAS entries first and TechTAS's own question about universities not at all.
NAMED_EXTRA = 3
#: Temperature on naive Bayes log-posteriors: raw posteriors are all-or-nothing; softened, the runner-up's share
#: says how close a call is, and the scheme fit can still overturn a small lead.
TEMPERATURE = 10.0


@dataclass(frozen=True)
class Candidate:
    """An entry, how strongly the classifier picks it (`score`, 0..1) and how close the wording is (`similarity`,
    cosine to its nearest paraphrase, 0..1)."""

    id: str
    score: float
    similarity: float = 0.0


@dataclass(frozen=True)
class Document:
    """What the index is built from: an entry id and the ways its question is asked (any language)."""

    id: str
    questions: tuple[str, ...]


class Index:
    """Nearest-paraphrase ranking of bank entries."""

    def __init__(self, documents: Sequence[Document], mask: Masker | None = None) -> None:
        self._mask = mask
        documents = [d for d in documents if d.questions]
        self.ids: tuple[str, ...] = tuple(d.id for d in documents)
        self._numbers = {entry: number for number, entry in enumerate(self.ids)}
        rows: list[list[str]] = []
        owners: list[int] = []
        starts: list[int] = []
        for number, document in enumerate(documents):
            starts.append(len(rows))
            for question in document.questions:
                rows.append(analyse(question, mask)[0])
                owners.append(number)
        self.starts = np.asarray(starts, dtype=np.int64)  # first row of each entry (rows are grouped by entry)
        vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2", min_df=1)
        self.matrix = vectorizer.fit_transform(rows) if rows else None
        # A message is weighted here rather than by `vectorizer.transform` (its input checks cost more than the
        # arithmetic), and compared through the feature-major copy, of which it reads only its own features' rows.
        self._vocabulary: dict[str, int] = dict(getattr(vectorizer, "vocabulary_", {}))
        self._idf = np.asarray(getattr(vectorizer, "idf_", ()), dtype=np.float64)
        self._by_feature = self.matrix.T.tocsr() if self.matrix is not None else None
        self.owners = np.asarray(owners, dtype=np.int64)  # row -> entry number
        # Only what ranking needs is kept: the weights one row per feature, contiguous and in float32 (scikit-learn's
        # predict multiplied by the transposed matrix and copied it on every call, 160 ms a message with 17,000
        # paraphrases; the fitted classifier itself holds two 393 x 110,000 float64 matrices, 330 MiB each).
        self._weights: np.ndarray | None = None
        if len(starts) > 1:
            # Every entry equally likely before the message is read: a prior from the paraphrase counts made an entry
            # that editors gave more wordings win every question it shares with its siblings ("how long is the
            # first visa valid?" answered for TTPS instead of asking which scheme).
            classifier = MultinomialNB(alpha=NB_ALPHA, fit_prior=False).fit(self.matrix, self.owners)
            self._weights = np.ascontiguousarray(classifier.feature_log_prob_.T, dtype=np.float32)
            self._prior = classifier.class_log_prior_
            self._classes = classifier.classes_

    def rank(self, text: str, k: int = 10, also: Sequence[str] = ()) -> tuple[list[Candidate], tuple[str, ...]]:
        """The k best entries for `text`, best first, and the schemes the text names."""
        feats, schemes = analyse(text, self._mask)
        return self.rank_features(feats, k, also), schemes

    def rank_features(self, feats: list[str], k: int = 10, also: Sequence[str] = ()) -> list[Candidate]:
        """The k best entries, then the NAMED_EXTRA best of `also` (the entries of a scheme the message names) that
        were not among them."""
        if self.matrix is None or not feats:
            return []
        columns, weights = self._weigh(feats)
        if not len(columns):
            return []
        assert self._by_feature is not None
        similarity = self.best_per_entry(self._by_feature[columns].T @ weights)
        score = self._posterior(columns, weights) if self._weights is not None else similarity
        order = list(np.argsort(-score, kind="stable")[:k])
        numbers = np.fromiter((self._numbers[e] for e in also if e in self._numbers), dtype=np.int64)
        if len(numbers):
            chosen = set(order)
            order += [i for i in numbers[np.argsort(-score[numbers], kind="stable")] if i not in chosen][:NAMED_EXTRA]
        return [
            Candidate(self.ids[i], round(float(score[i]), 4), round(float(similarity[i]), 4))
            for i in order if similarity[i] > 0
        ]

    def _weigh(self, feats: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The message's known features and their TF-IDF weights, as the index's rows were weighted (sublinear
        term frequency times idf, unit length); features the bank never uses are dropped."""
        counts: dict[int, int] = {}
        for feat in feats:
            column = self._vocabulary.get(feat)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[columns]
        norm = np.linalg.norm(weights)
        return columns, (weights / norm if norm else weights)

    def _posterior(self, columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
        assert self._weights is not None
        # The joint log-likelihood differs from the log-posterior by a constant, which the max below removes.
        # Only the message's own features' rows are read (a sparse-times-dense product made scipy upcast the
        # whole float32 matrix to float64 first: a 340 MiB copy, 75 ms a message).
        joint = weights @ self._weights[columns].astype(np.float64) + self._prior
        log_posterior = np.full(len(self.ids), -np.inf)
        log_posterior[self._classes] = joint
        scaled = np.exp((log_posterior - log_posterior.max()) / TEMPERATURE)
        return scaled / scaled.sum()

    def best_per_entry(self, sims: np.ndarray) -> np.ndarray:
        """Per entry, the best of its rows' similarities (last axis: rows)."""
        return np.maximum.reduceat(sims, self.starts, axis=-1)


def _identity(feats: list[str]) -> list[str]:
    return feats


def documents_from(entries: Iterable[object]) -> list[Document]:
    """Documents of bank entries (every language's questions)."""
    return [
        Document(e.id, tuple(q for qs in e.questions.values() for q in qs))  # type: ignore[attr-defined]
        for e in entries
    ]
