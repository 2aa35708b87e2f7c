"""The review queue (talentbot.core.analytics.review) on SQLite and on the real PostgreSQL: which messages are misses,
the queue's groups, decisions on exactly the messages seen, conflicts, withdrawal, and what comes back later."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterator, List, Optional

import pytest

from talentbot.core.analytics import outcome
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.review import (
    CONTENT_GAP,
    CORE_FALLBACK,
    DISMISSED,
    NLU_FALLBACK,
    OFFER_NOT_TAKEN,
    PARAPHRASE,
    AlreadyDecided,
    NotFound,
    ReviewError,
    ReviewStore,
    Turn,
    domain_intents,
    miss_reason,
    targets,
)
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.qbank.loader import read_bank

SALT = b"review-test-salt" * 2  # not the other analytics tests' salt: their rows share the PostgreSQL database
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
PARSE_EXTRA = {"intent_ranking": [{"name": "nlu_fallback", "confidence": 0.5},
                                  {"name": "ask_dependants", "confidence": 0.31},
                                  {"name": "ask_living_info", "confidence": 0.2}],
               "question_bank": {"ranking": [{"id": "ttps.dependants", "score": 0.4, "similarity": 0.22}]}}


def event(sender: str, ts: float, text: str, intent: str = "nlu_fallback", language: str = "en",
          offer: Optional[Dict[str, Any]] = None, answer: Optional[str] = None,
          actions: Optional[List[str]] = None) -> Dict[str, Any]:
    stated: Dict[str, Any] = {}
    if offer:
        stated.update(outcome.offered(offer["kind"], offer["ids"]))
    if answer:
        stated.update(outcome.answered(outcome.ENTRY, answer))
    summary = {"v": 1, "language": language, "actions": actions or [], "outcome": stated}
    raw = {"sender_id": sender, "event": "user", "timestamp": ts, "text": text, "input_channel": "rest",
           "parse_data": {"intent": {"name": intent, "confidence": 0.5}, **PARSE_EXTRA}}
    made = message_row(raw, summary, SALT, NOW)
    assert made is not None
    return made


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[ReviewStore]:
    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}" if request.param == "sqlite" \
        else request.getfixturevalue("postgres_url")
    analytics = AnalyticsStore.from_url(url)
    with analytics.engine.begin() as connection:  # the PostgreSQL database is shared by the run's tests
        connection.exec_driver_sql("DELETE FROM review_members")
        connection.exec_driver_sql("DELETE FROM review_decisions")
        connection.exec_driver_sql("DELETE FROM analytics_messages")
    review = ReviewStore(analytics.engine)
    yield review
    with analytics.engine.begin() as connection:  # leaves the shared database as it found it
        connection.exec_driver_sql("DELETE FROM review_members")
        connection.exec_driver_sql("DELETE FROM review_decisions")
        connection.exec_driver_sql("DELETE FROM analytics_messages")
    analytics.close()


def ids(store: ReviewStore) -> Dict[str, int]:
    """text -> row id."""
    with store.engine.connect() as connection:
        return {t: i for i, t in connection.exec_driver_sql("SELECT id, text FROM analytics_messages").all() if t}


# --- what a miss is ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("turn, following, reason", [
    (Turn(1, nlu_fallback=True), None, NLU_FALLBACK),
    (Turn(1, core_fallback=True), Turn(2), CORE_FALLBACK),
    (Turn(1, did_you_mean="asked_first", offered=("a", "b")), Turn(2, answer="b"), None),  # taken
    (Turn(1, did_you_mean="asked_first", offered=("a", "b")), Turn(2, answer="c"), OFFER_NOT_TAKEN),
    (Turn(1, did_you_mean="asked_first", offered=("a", "b")), Turn(2, nlu_fallback=True), OFFER_NOT_TAKEN),
    (Turn(1, did_you_mean="asked_first", offered=("a",)), None, None),  # the conversation ended there
    (Turn(1, did_you_mean="after_answer", offered=("a",)), Turn(2, answer="z"), None),  # moved on
    (Turn(1, did_you_mean="after_answer", offered=("a",)), Turn(2, nlu_fallback=True), OFFER_NOT_TAKEN),
    (Turn(1, did_you_mean="after_answer", offered=("a",)), Turn(2, handoff=True), OFFER_NOT_TAKEN),
    (Turn(1), Turn(2, nlu_fallback=True), None),  # answered, no offer
])
def test_what_counts_as_a_miss(turn: Turn, following: Optional[Turn], reason: Optional[str]) -> None:
    assert miss_reason(turn, following) == reason


def test_rows_keep_text_and_guesses_for_fallbacks_and_offers_only() -> None:
    fell_back = event("a", 1.0, "can i bring my dog? call [phone]")
    offered = event("a", 2.0, "how long", intent="ask_processing_time",
                    offer={"kind": "asked_first", "ids": ["ttps.processing_time"]})
    answered = event("a", 3.0, "my number is 9123 4567", intent="ask_scheme_info")
    assert fell_back["text"] == "can i bring my dog? call [phone]"
    assert fell_back["guesses"] == {"intents": [["ask_dependants", 0.31], ["ask_living_info", 0.2]],
                                    "entries": [["ttps.dependants", 0.4, 0.22]]}
    assert offered["text"] == "how long" and offered["guesses"] is not None
    assert answered["text"] is None and answered["guesses"] is None


# --- the queue and decisions -------------------------------------------------------------------------------------


def _fill(store: ReviewStore) -> None:
    AnalyticsStore(store.engine).add([
        event("a", 1.0, "Can I bring my dog to Hong Kong?"),
        event("b", 1.0, "can i move to hk with my dog", language="en"),
        event("c", 1.0, "可唔可以帶隻狗嚟香港", language="zh-Hant"),
        event("d", 1.0, "asdfgh"),
        # an offer not taken (the next message asked something else), and one taken
        event("e", 1.0, "how long for it", intent="ask_processing_time",
              offer={"kind": "asked_first", "ids": ["ttps.processing_time", "qmas.processing_time"]}),
        event("e", 2.0, "never mind, what about fees", intent="ask_how_to_apply", answer="fees.application_fee"),
        event("f", 1.0, "how long does it take", intent="ask_processing_time",
              offer={"kind": "asked_first", "ids": ["ttps.processing_time", "qmas.processing_time"]}),
        event("f", 2.0, "/ask", intent="ask_processing_time", answer="ttps.processing_time"),
        event("g", 1.0, "I earn 3 million, can I apply?", intent="check_eligibility"),  # understood: no text
    ])


def test_the_queue_groups_the_misses_and_says_why(store: ReviewStore) -> None:
    _fill(store)
    queue = store.queue()
    texts = [[m.text for m in g.group.members] for g in queue.groups]
    assert texts[0] == ["Can I bring my dog to Hong Kong?", "can i move to hk with my dog", "可唔可以帶隻狗嚟香港"]
    assert sorted(t for group in texts[1:] for t in group) == ["asdfgh", "how long for it"]
    assert queue.misses == 5 and queue.decided == 0
    dogs = queue.groups[0]
    assert dogs.reasons == {NLU_FALLBACK: 3} and dogs.group.languages == {"en": 2, "zh-Hant": 1}
    assert dogs.group.guesses[0].id == "ttps.dependants"
    offer = next(g for g in queue.groups if g.group.representative == "how long for it")
    assert offer.reasons == {OFFER_NOT_TAKEN: 1}
    assert {g.id for g in offer.group.guesses} >= {"ttps.processing_time", "qmas.processing_time"}


def test_a_decision_covers_the_messages_seen_and_new_ones_come_back_with_it(store: ReviewStore) -> None:
    _fill(store)
    dogs = store.queue().groups[0].group
    decision = store.decide(dogs.id, dogs.keys, PARAPHRASE, "sue", NOW, "intent", "ask_living_info")
    assert (decision.status, decision.target_id, decision.members, decision.signature) == \
        (PARAPHRASE, "ask_living_info", 3, dogs.signature)
    assert decision.languages == {"en": 2, "zh-Hant": 1}
    queue = store.queue()
    assert all(g.group.members[0].text != dogs.representative for g in queue.groups) and queue.decided == 3
    # the same question again, later: a new open group, shown with the earlier decision
    AnalyticsStore(store.engine).add([event("h", 5.0, "can I bring my dog when I move to Hong Kong?"),
                                      event("i", 5.0, "bring my dog to hk?")])
    again = store.queue().groups[0]
    assert again.group.size == 2 and again.group.id != dogs.id
    assert again.earlier is not None and again.earlier.id == decision.id


def test_a_message_is_decided_once(store: ReviewStore) -> None:
    _fill(store)
    dogs = store.queue().groups[0].group
    store.decide(dogs.id, dogs.keys, DISMISSED, "sue", NOW)
    with pytest.raises(AlreadyDecided):
        store.decide(dogs.id, dogs.keys[:1], CONTENT_GAP, "tom", NOW, note="pets")
    assert len(store.decisions()) == 1


def test_withdrawing_sends_the_messages_back(store: ReviewStore) -> None:
    _fill(store)
    dogs = store.queue().groups[0].group
    decision = store.decide(dogs.id, dogs.keys, CONTENT_GAP, "sue", NOW, note="Pets: import permits (AFCD)")
    withdrawn = store.withdraw(decision.id, "tom", NOW + dt.timedelta(hours=1))
    assert withdrawn.withdrawn_by == "tom" and store.decisions() == []
    assert [d.id for d in store.decisions(include_withdrawn=True)] == [decision.id]
    assert store.queue().groups[0].group.keys == dogs.keys
    with pytest.raises(ReviewError):
        store.withdraw(decision.id, "tom", NOW)
    with pytest.raises(NotFound):
        store.withdraw(999999, "tom", NOW)


def test_accepted_items_with_excluded_members(store: ReviewStore) -> None:
    _fill(store)
    known = ids(store)
    dogs = store.queue().groups[0].group
    excluded = [known["可唔可以帶隻狗嚟香港"]]
    store.decide(dogs.id, dogs.keys, PARAPHRASE, "sue", NOW, "entry", "ttps.dependants", excluded=excluded)
    [(decision, examples)] = store.accepted()
    assert decision.target_kind == "entry"
    assert [(e.text, e.accepted) for e in examples] == [("Can I bring my dog to Hong Kong?", True),
                                                        ("can i move to hk with my dog", True),
                                                        ("可唔可以帶隻狗嚟香港", False)]


@pytest.mark.parametrize("status, kind, target, note, message", [
    ("approved", None, None, None, "status must be"),
    (PARAPHRASE, None, None, None, "needs its target"),
    (PARAPHRASE, "topic", "housing", None, "needs its target"),
    (CONTENT_GAP, None, None, "  ", "needs a note"),
    (CONTENT_GAP, None, None, "x" * 2001, "over 2000"),
])
def test_impossible_decisions_are_refused(store: ReviewStore, status: str, kind: Optional[str],
                                          target: Optional[str], note: Optional[str], message: str) -> None:
    _fill(store)
    dogs = store.queue().groups[0].group
    with pytest.raises(ReviewError, match=message):
        store.decide(dogs.id, dogs.keys, status, "sue", NOW, kind, target, note)


def test_messages_not_in_the_queue_cannot_be_decided(store: ReviewStore) -> None:
    _fill(store)
    with pytest.raises(NotFound):
        store.decide("g0", [123456789], DISMISSED, "sue", NOW)
    with pytest.raises(ReviewError):
        store.decide("g0", [], DISMISSED, "sue", NOW)


def test_the_version_moves_with_new_texts_and_decisions(store: ReviewStore) -> None:
    _fill(store)
    before = store.version()
    dogs = store.queue().groups[0].group
    store.decide(dogs.id, dogs.keys, DISMISSED, "sue", NOW)
    after = store.version()
    assert after != before
    AnalyticsStore(store.engine).add([event("z", 9.0, "another miss")])
    assert store.version() != after


def test_targets_are_the_domains_intents_and_the_banks_entries() -> None:
    intents = domain_intents()
    assert "ask_living_info" in intents and "nlu_fallback" not in intents
    bank, _ = read_bank()
    found = targets(intents, bank.entries)
    entry = next(t for t in found if t.id == "daily.sim_card")
    assert entry.kind == "entry" and entry.intent == "ask_living_info" and entry.labels["en"]
    assert found[0].kind == "intent"
