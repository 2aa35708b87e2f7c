"""Grouping misunderstood messages (talentbot.core.analytics.grouping): the review queue's test set grouped with a
measured pairwise precision and recall, and the rules behind it."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from talentbot.core.analytics.grouping import (
    ENTRY,
    INTENT,
    Guess,
    Miss,
    background_from,
    combined_guesses,
    concepts_in,
    group_id,
    group_misses,
    pairwise_scores,
    prepared,
    signature,
)
from tools.bench.review_data import Example, examples, misses, parsed


def _scores(half: Optional[str], with_guesses: bool = True) -> tuple[float, float, int]:
    items = [e for e in examples() if half is None or e.group is None or e.half == half]
    groups = group_misses(misses(items, with_guesses))
    truth: Dict[int, Optional[str]] = {e.key: e.group for e in items}
    precision, recall = pairwise_scores([g.keys for g in groups], truth)
    return precision, recall, len(groups)


def test_the_test_set_is_as_described() -> None:
    items = examples()
    by_group: Dict[str, List[Example]] = {}
    for item in items:
        if item.group:
            by_group.setdefault(item.group, []).append(item)
    assert len(by_group) >= 12
    for name, members in by_group.items():
        assert 9 <= len(members) <= 11, name
        assert {m.language for m in members} == {"en", "zh-Hant", "zh-Hans"}, name
    assert sum(1 for item in items if item.group is None) >= 30
    assert len({item.text for item in items}) == len(items)
    assert set(parsed()) == {item.text for item in items}, "rerun python -m tools.bench.review_data"


# Measured figures (README, "Reviewing what the assistant did not understand"); the bounds sit a little below them.
@pytest.mark.parametrize("half, min_precision, min_recall", [
    (None, 0.78, 0.72),    # all 14 questions and 32 singletons: P 0.820, R 0.759
    ("tune", 0.80, 0.80),  # the 7 questions the thresholds were chosen on: P 0.827, R 0.842
    ("test", 0.80, 0.64),  # the 7 others, never tuned on: P 0.844, R 0.682
])
def test_paraphrased_misses_are_grouped_with_measured_precision_and_recall(
        half: Optional[str], min_precision: float, min_recall: float) -> None:
    precision, recall, _ = _scores(half)
    assert precision >= min_precision and recall >= min_recall, (precision, recall)


def test_without_the_assistants_guesses_the_grouping_still_holds() -> None:
    precision, recall, _ = _scores(None, with_guesses=False)
    assert precision >= 0.78 and recall >= 0.68, (precision, recall)


def test_traditional_cantonese_and_simplified_wordings_meet() -> None:
    groups = group_misses([Miss(1, "電子簽證唔小心刪咗點算", "zh-Hant"), Miss(2, "电子签证不小心删了怎么办", "zh-Hans"),
                           Miss(3, "今日天氣好好", "zh-Hant")])
    assert sorted(g.keys for g in groups) == [(1, 2), (3,)]
    both = next(g for g in groups if g.size == 2)
    assert both.languages == {"zh-Hans": 1, "zh-Hant": 1}


def test_english_and_chinese_groups_of_one_question_are_joined_through_concepts() -> None:
    groups = group_misses([
        Miss(1, "Can I bring my dog to Hong Kong?", "en"), Miss(2, "can i move to hk with my dog", "en"),
        Miss(3, "可唔可以帶隻狗嚟香港", "zh-Hant"), Miss(4, "可以带狗去香港吗", "zh-Hans"),
        Miss(5, "How do I convert my driving licence?", "en"), Miss(6, "驾照点样换", "zh-Hant"),
    ])
    assert sorted(g.keys for g in groups) == [(1, 2, 3, 4), (5, 6)]
    assert groups[0].languages == {"en": 2, "zh-Hans": 1, "zh-Hant": 1}


def test_no_bridge_when_asked_not_to() -> None:
    groups = group_misses([Miss(1, "Can I bring my dog?", "en"), Miss(2, "can i bring my dog along", "en"),
                           Miss(3, "可唔可以帶隻狗嚟", "zh-Hant"), Miss(4, "可以带狗吗", "zh-Hans")],
                          bridge_threshold=None)
    assert sorted(g.keys for g in groups) == [(1, 2), (3, 4)]


@pytest.mark.parametrize("first, second", [
    ("call me on [phone]", "my address is [phone] thanks"),
    ("send it to [email]", "[email] belongs to my wife"),
    ("我收入[number]萬", "申請編號[number]"),
    ("[number]", "[number] [number]"),
])
def test_masked_personal_data_does_not_make_messages_alike(first: str, second: str) -> None:
    assert "[" not in prepared(first) and "number" not in prepared(first)
    groups = group_misses([Miss(1, first, "en"), Miss(2, second, "en")])
    assert [g.keys for g in groups] == [(1,), (2,)]


def test_scheme_names_are_cut_out_so_they_neither_join_nor_split() -> None:
    assert prepared("Can I vote on TTPS? 高才通可唔可以投票") == prepared("Can I vote on QMAS? 優才可唔可以投票")
    groups = group_misses([Miss(1, "拎高才通可唔可以投票", "zh-Hant"), Miss(2, "拎高才通可唔可以請工人", "zh-Hant")])
    assert [g.keys for g in groups] == [(1,), (2,)]


def test_concepts_cross_languages_and_whole_words_only() -> None:
    assert concepts_in(prepared("My dog and my driver's licence")) == ["pet", "driving"]
    assert concepts_in(prepared("可唔可以帶隻狗同埋揸車")) == ["pet", "driving"]
    assert concepts_in(prepared("dogma")) == []


def test_group_ids_are_stable_as_new_members_join() -> None:
    first = group_misses([Miss(10, "how do i tip taxi drivers", "en"), Miss(12, "tipping taxi drivers in hk?", "en")])
    later = group_misses([Miss(10, "how do i tip taxi drivers", "en"), Miss(12, "tipping taxi drivers in hk?", "en"),
                          Miss(30, "should i tip taxi drivers", "en")])
    assert first[0].id == later[0].id == group_id(10)
    assert later[0].keys == (10, 12, 30) and first[0].signature != later[0].signature
    assert later[0].signature == signature([30, 12, 10])


def test_largest_group_first_with_its_most_typical_member_as_representative() -> None:
    groups = group_misses([
        Miss(1, "asdf", "en"),
        Miss(2, "can i bring my cat to hong kong", "en"), Miss(3, "bring my cat to hk?", "en"),
        Miss(4, "can i bring my cat with me to hong kong when i move", "en"),
    ])
    assert [g.size for g in groups] == [3, 1]
    assert groups[0].representative == "can i bring my cat to hong kong"
    assert 0 < groups[0].cohesion <= 1


def test_combined_guesses_average_over_members_entries_first() -> None:
    members = [Miss(1, "a", guesses=(Guess(ENTRY, "daily.sim_card", 0.8), Guess(INTENT, "ask_living_info", 0.8))),
               Miss(2, "b", guesses=(Guess(ENTRY, "daily.sim_card", 0.4), Guess(ENTRY, "bank.fps", 0.2)))]
    guessed = combined_guesses(members)
    assert [(g.kind, g.id, g.score, g.members) for g in guessed] == [
        (ENTRY, "daily.sim_card", 0.6, 2), (INTENT, "ask_living_info", 0.4, 1), (ENTRY, "bank.fps", 0.1, 1)]


def test_agreeing_guesses_raise_but_never_make_similarity() -> None:
    same = (Guess(ENTRY, "x.y", 1.0),)
    groups = group_misses([Miss(1, "weather today", "en", same), Miss(2, "lottery numbers", "en", same)])
    assert [g.keys for g in groups] == [(1,), (2,)]


def test_nothing_to_group() -> None:
    assert group_misses([]) == []
    assert [g.keys for g in group_misses([Miss(5, "", None)])] == [(5,)]
    assert group_misses([Miss(5, "", None)])[0].languages == {"unknown": 1}


def test_a_background_of_ordinary_questions_is_optional() -> None:
    background = background_from(["how do i apply", "how long does it take", "can i bring my family"])
    assert background.documents == 3
    groups = group_misses([Miss(1, "can i bring my dog", "en"), Miss(2, "bringing my dog to hk", "en")],
                          background=background)
    assert [g.keys for g in groups] == [(1, 2)]


def test_pairwise_scores() -> None:
    truth: Dict[int, Optional[str]] = {1: "a", 2: "a", 3: "a", 4: "b", 5: "b", 6: None}
    assert pairwise_scores([[1, 2, 3], [4, 5], [6]], truth) == (1.0, 1.0)
    precision, recall = pairwise_scores([[1, 2], [3, 4, 5, 6]], truth)
    assert precision == pytest.approx(2 / 7) and recall == pytest.approx(2 / 4)
