"""The ranker finds the entry a question asks for, in each language, with scheme names matched apart."""

from __future__ import annotations

import numpy as np
import pytest

from talentbot.core.qbank.choose import entries_of
from talentbot.core.qbank.index import Index, documents_from
from talentbot.core.qbank.model import Bank
from talentbot.core.qbank.validate import default_masker


@pytest.fixture()
def index(bank: Bank) -> Index:
    return Index(documents_from(bank.entries), default_masker())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("is there any cap on the number of top talent passes?", "ttps.quota"),
        ("my parents want to move with me, is that allowed?", "dependants.parents"),
        ("who has to pay the stamp duty on my lease", "housing.tenancy_stamping"),
        ("高才通一年有幾多個名額", "ttps.quota"),
        ("我想帶阿媽過嚟香港住，得唔得？", "dependants.parents"),
        ("租约要不要打厘印", "housing.tenancy_stamping"),
        ("带爸妈一起去香港可以吗", "dependants.parents"),
    ],
)
def test_the_entry_asked_for_ranks_first(index: Index, text: str, expected: str) -> None:
    candidates, _ = index.rank(text)
    assert candidates[0].id == expected


def test_scheme_names_are_matched_apart_from_the_question(index: Index) -> None:
    candidates, schemes = index.rank("how long does the top talent pass take?")
    assert schemes == ("TTPS",)
    scores = {c.id: c.similarity for c in candidates}
    # With the scheme name cut out, both schemes' processing-time entries ask the same thing.
    assert scores["ttps.processing_time"] == pytest.approx(scores["gep.processing_time"], abs=0.05)


def test_entries_of_the_scheme_named_are_candidates_however_low_they_rank(bank: Bank, index: Index) -> None:
    text = "who has to pay the stamp duty on my lease, and how long does it take for GEP?"
    first, schemes = index.rank(text, k=1)
    assert schemes == ("GEP",) and [c.id for c in first] == ["housing.tenancy_stamping"]
    widened, _ = index.rank(text, k=1, also=entries_of(bank, schemes))
    assert [c.id for c in widened] == ["housing.tenancy_stamping", "gep.processing_time"]


def test_unrelated_text_scores_low(index: Index) -> None:
    candidates, _ = index.rank("what is the weather like on the moon")
    assert not candidates or candidates[0].similarity < 0.3


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "?!"])
def test_text_without_words_ranks_nothing(index: Index, text: str) -> None:
    assert index.rank(text)[0] == []


def test_a_huge_message_is_ranked_on_its_start_quickly(index: Index) -> None:
    candidates, _ = index.rank("高才通有冇名額？" + "高才通" * 100_000)
    assert candidates[0].id == "ttps.quota"


@pytest.mark.parametrize(
    "text", ["can my parents come with me under TTPS or QMAS?", "parents parents parents visa", "租约要不要打厘印"]
)
def test_a_message_is_weighted_and_scored_as_scikit_learn_would(bank: Bank, index: Index, text: str) -> None:
    """The index weighs a message itself (sklearn's transform and sparse-times-dense product were most of a turn's
    time); its similarities and naive Bayes posteriors must stay those of TfidfVectorizer and MultinomialNB."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB

    from talentbot.core.qbank.index import NB_ALPHA, TEMPERATURE, _identity
    from talentbot.core.qbank.text import analyse

    rows = [analyse(q, default_masker())[0] for document in documents_from(bank.entries) for q in document.questions]
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2", min_df=1)
    matrix = vectorizer.fit_transform(rows)
    query = vectorizer.transform([analyse(text, default_masker())[0]])
    similarity = index.best_per_entry((matrix @ query.T).toarray().ravel())
    classifier = MultinomialNB(alpha=NB_ALPHA).fit(matrix, index.owners)
    log_posterior = np.asarray(query @ classifier.feature_log_prob_.T).ravel() + classifier.class_log_prior_
    posterior = np.exp((log_posterior - log_posterior.max()) / TEMPERATURE)
    posterior /= posterior.sum()
    ranked = {c.id: c for c in index.rank(text, k=len(index.ids))[0]}
    for number, entry in enumerate(index.ids):
        if entry in ranked:
            assert ranked[entry].similarity == pytest.approx(similarity[number], abs=1e-4)
            assert ranked[entry].score == pytest.approx(posterior[number], abs=1e-4)
        else:
            assert similarity[number] == 0

