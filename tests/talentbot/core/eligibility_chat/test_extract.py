"""Reading answers: several facts in one message, bare answers to the question asked, in three languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from talentbot.core.eligibility_chat.extract import extract

TODAY = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "text, requested, expected",
    [
        # several facts in one message
        ("I earn 2.6M, master's from HKU, graduated 2019", None,
         {"elig_income": 2_600_000, "elig_degree": "master", "elig_university": "University of Hong Kong",
          "elig_graduation": "2019-12-31"}),
        ("我年薪二百六十萬港紙，港大碩士，2019年畢業", None,
         {"elig_income": 2_600_000, "elig_degree": "master", "elig_university": "University of Hong Kong",
          "elig_graduation": "2019-12-31"}),
        ("年收入250万港币，清华本科，工作五年了", None,
         {"elig_income": 2_500_000, "elig_degree": "bachelor", "elig_university": "Tsinghua University",
          "elig_experience": 5.0}),
        # the highest degree counts; any degree from a listed university is what TTPS B/C needs
        ("i have a bachelor from fudan and a master from lse", None,
         {"elig_degree": "master", "elig_university": "Fudan University"}),
        ("no job offer yet, and i'm a mainland resident", None, {"elig_job_offer": "no", "elig_mainland": "yes"}),
        ("I have an offer from a hk company paying 900k", None, {"elig_job_offer": "yes"}),
        ("我冇offer", None, {"elig_job_offer": "no"}),
        ("我係英國人，三十四歲", None, {"elig_nationality": "GB", "elig_age": 34}),
        ("我1990年出生的", None, {"elig_age": 36}),
        ("graduated 3 years ago", None, {"elig_graduation": "2023-12-31"}),
        ("i make around 50k a month", None, {"elig_income": 600_000}),
        ("我月薪五萬左右", None, {"elig_income": 600_000}),
        ("我做咗五年嘢", None, {"elig_experience": 5.0}),
        ("I studied at imperial college london", None, {"elig_university": "Imperial College London"}),
        # bare answers count only for the question just asked
        ("HK$2.5M", "annual_income_hkd", {"elig_income": 2_500_000}),
        ("2,500,000", "annual_income_hkd", {"elig_income": 2_500_000}),
        ("250萬", "annual_income_hkd", {"elig_income": 2_500_000}),
        ("两百五十万", "annual_income_hkd", {"elig_income": 2_500_000}),
        ("6 yrs", "work_experience_years", {"elig_experience": 6.0}),
        ("三年", "work_experience_years", {"elig_experience": 3.0}),
        ("less than a year", "work_experience_years", {"elig_experience": 0.0}),
        ("2019", "graduation_date", {"elig_graduation": "2019-12-31"}),
        ("June 2020", "graduation_date", {"elig_graduation": "2020-06-30"}),
        ("2025年11月", "hk_degree.graduation_date", {"elig_hk_graduation": "2025-11-01"}),
        ("master", "degree", {"elig_degree": "master"}),
        ("博士", "degree", {"elig_degree": "doctorate"}),
        ("碩士", "hk_degree.level", {"elig_hk_level": "master"}),
        ("Oxford", "university", {"elig_university": "University of Oxford"}),
        ("mit", "university", {"elig_university": "Massachusetts Institute of Technology"}),
        ("34", "age", {"elig_age": 34}),
        ("british", "nationality", {"elig_nationality": "GB"}),
        ("the guangzhou campus", "hk_degree.campus", {"elig_hk_campus": "gba"}),
        ("香港校園", "hk_degree.campus", {"elig_hk_campus": "hong_kong"}),
        ("it's in fintech", "job_offer.technology_area", {"elig_tech_area": "financial_technologies"}),
        ("no", "job_offer.technology_area", {"elig_tech_area": "none"}),
        # yes/no questions: words in three languages
        ("yes", "job_offer", {"elig_job_offer": "yes"}),
        ("唔係", "mainland_chinese_resident", {"elig_mainland": "no"}),
        ("没有", "hk_degree", {"elig_hk_degree": "no"}),
        ("係呀", "hk_degree", {"elig_hk_degree": "yes"}),
        ("yes I am", "mainland_chinese_resident", {"elig_mainland": "yes"}),
        # another fact answers its own field, not the yes/no question asked
        ("no job offer", "mainland_chinese_resident", {"elig_job_offer": "no"}),
        ("I'm 2.6M a year", "annual_income_hkd", {"elig_income": 2_600_000}),
    ],
)
def test_facts_are_read(text: str, requested: str | None, expected: dict[str, Any]) -> None:
    assert extract(text, requested, today=TODAY).values == expected


@pytest.mark.parametrize(
    "text, requested",
    [
        ("2019", None),  # a bare year says nothing without the question
        ("6 yrs", None),
        ("2.6", "annual_income_hkd"),  # too small to be an income: asked again
        ("am I eligible for TTPS?", None),
        ("三年", "graduation_date"),  # a duration is not a date
    ],
)
def test_nothing_is_guessed(text: str, requested: str | None) -> None:
    assert extract(text, requested, today=TODAY).values == {}


@pytest.mark.parametrize("intent, expected", [("affirm", "yes"), ("deny", "no")])
def test_yes_no_intent_answers_a_yes_no_question(intent: str, expected: str) -> None:
    assert extract("/affirm" if intent == "affirm" else "/deny", "job_offer", intent=intent).values == {
        "elig_job_offer": expected}


def test_a_button_answer_fills_the_question_asked() -> None:
    assert extract("/inform", "degree", answer="master").values == {"elig_degree": "master"}


def test_income_in_another_currency_is_not_converted() -> None:
    found = extract("3 million RMB", "annual_income_hkd", today=TODAY)
    assert found.values == {}
    assert [(n.kind, n.params["currency"]) for n in found.notices] == [("foreign_currency", "CNY")]


def test_an_ambiguous_university_gives_candidates_not_a_guess() -> None:
    found = extract("jiao tong", "university", today=TODAY)
    assert found.values == {}
    assert found.notices[0].kind == "university_ambiguous"
    assert set(found.notices[0].candidates) == {"Shanghai Jiao Tong University", "Xi'an Jiaotong University"}


@pytest.mark.parametrize("text", ["Foo Bar University", "火星大學"])
def test_a_university_not_on_our_list_is_kept_as_written_and_flagged(text: str) -> None:
    found = extract(text, "university", today=TODAY)
    assert found.values == {"elig_university": text.lower()}
    assert found.notices[0].kind == "university_not_found"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("actually I have a master's", {"elig_degree": "master"}),
        ("其實我係碩士", {"elig_degree": "master"}),
        ("其实我是博士", {"elig_degree": "doctorate"}),
    ],
)
def test_a_correction_while_another_question_is_asked_fills_its_own_field(text: str, expected: dict) -> None:
    assert extract(text, "university", today=TODAY).values == expected


@pytest.mark.parametrize("text", [
    "is a job offer required for QMAS?",
    "do I have to find an offer before applying",
    "does GEP need an offer from a local company",
    "讀完碩士使唔使搵到offer先可以留低？",
    "申请专才一定要有公司聘用吗",
    "if I get an offer later, can I switch?",
])
def test_asking_about_an_offer_is_not_having_one(text: str) -> None:
    assert "elig_job_offer" not in extract(text, None, today=TODAY).values


@pytest.mark.parametrize(
    "text", ["I've got an offer from a bank in Central", "我收到香港公司嘅offer", "拿到了录用通知和offer"]
)
def test_saying_you_have_an_offer_still_counts(text: str) -> None:
    assert extract(text, None, today=TODAY).values.get("elig_job_offer") == "yes"
