"""University matching: one entry, close candidates, or not on our list — never a guess."""

from __future__ import annotations

import pytest

from talentbot.core.eligibility.universities import MatchStatus, match_university


@pytest.mark.parametrize(
    ("text", "university"),
    [
        ("MIT", "mit"), ("mit", "mit"), ("Massachusetts Institute of Technology", "mit"), ("牛津", "oxford"),
        ("University of Oxford", "oxford"), ("Oxford University", "oxford"), ("清华", "tsinghua"),
        ("清華", "tsinghua"), ("清華大學", "tsinghua"), ("清华大学", "tsinghua"), ("Tsinghua Univ.", "tsinghua"),
        ("HKU", "hku"), ("港大", "hku"), ("The University of Hong Kong", "hku"), ("香港大學", "hku"),
        ("Univ. of Tokyo", "tokyo"), ("the university of tokyo", "tokyo"), ("Standford", "stanford"),
        ("Standford University", "stanford"), ("史丹福大學", "stanford"), ("斯坦福大学", "stanford"),
        ("Univeristy of Oxford", "oxford"), ("Peking Universty", "peking"), ("北大", "peking"),
        ("北京師范大学", "bnu"), ("University of São Paulo", "sao_paulo"), ("University of Sao Paulo", "sao_paulo"),
        ("ETH Zürich", "eth_zurich"), ("UCL", "ucl"), ("UCLA", "ucla"), ("哈工大", "hit"),
        ("University of Massachusetts", "umass"),
    ],
)
def test_found(text: str, university: str) -> None:
    match = match_university(text)
    assert match.status is MatchStatus.FOUND, match
    assert match.university is not None and match.university.id == university


@pytest.mark.parametrize(
    "text",
    [
        "Kyoto University",  # one typo-distance from "Tokyo University", a different institution
        "Harvard Extension School",  # extension schools are not accepted
        "香港大學專業進修學院",  # HKU SPACE, a continuing-education arm
        "Oxford Brookes University",
        "Tokyo Institute of Technology",
        "University of Sydney",  # not "University of Technology Sydney"
        "香港中文大學",  # not confirmed in our copy
        "中大",
        "Southern Cross University",
        "University",
        "MIX",  # short: abbreviations match exactly only
        "UCLX",
        "",
        "   ",
        "Hong Kong University of Science and Technology",
    ],
)
def test_not_found(text: str) -> None:
    match = match_university(text)
    assert match.status is MatchStatus.NOT_FOUND, match
    assert match.university is None


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("Jiao Tong University", {"sjtu", "xjtu"}),
        ("交大", {"sjtu", "xjtu"}),
        ("Massachusetts", {"mit", "umass"}),
        ("University of California", {"uc_berkeley", "ucla"}),
        ("Beijing", {"peking", "beihang", "bit", "bnu"}),
        ("Queen Mary", {"qmul"}),  # one candidate: "did you mean", not a silent pick
    ],
)
def test_ambiguous_returns_candidates(text: str, candidates: set[str]) -> None:
    match = match_university(text)
    assert match.status is MatchStatus.AMBIGUOUS, match
    assert {u.id for u in match.candidates} == candidates
