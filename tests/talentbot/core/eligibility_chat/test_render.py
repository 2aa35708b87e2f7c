"""The result and the questions as the user sees them, in three languages."""

from __future__ import annotations

import pytest

from talentbot.core.eligibility import evaluate, parse_profile
from talentbot.core.eligibility.wording import money
from talentbot.core.eligibility_chat.render import MAX_MESSAGE_CHARS, render_question, render_reason, render_result
from talentbot.core.eligibility_chat.texts import load_texts
from talentbot.core.language import LANGUAGES
from tests.talentbot.core.eligibility.figures import rule

TEXTS = load_texts()
THRESHOLD = money(rule("TTPS", "category_a_min_income_hkd"))
PROFILE = {"as_of": "2025-03-01", "annual_income_hkd": 2_600_000, "degree": "master",
           "university": "University of Hong Kong", "graduation_date": "2019-07-01", "work_experience_years": 5,
           "mainland_chinese_resident": False, "job_offer": None, "hk_degree": None}


def result_texts(language: str, profile: dict = PROFILE, schemes=None) -> list[str]:
    return [m.text for m in render_result(evaluate(parse_profile(profile), schemes), language, TEXTS)]


@pytest.mark.parametrize(
    "language, fits, does_not_fit, decides",
    [
        ("en", "TTPS (Top Talent Pass Scheme) (Category A)", "GEP (General Employment Policy)",
         "the Immigration Department decides"),
        ("zh-Hant", "高才通計劃（A類）", "一般就業政策", "都由入境處決定"),
        ("zh-Hans", "高才通计划（A类）", "一般就业政策", "均由入境处决定"),
    ],
)
def test_fitting_schemes_come_first_then_the_others_then_who_decides(
    language: str, fits: str, does_not_fit: str, decides: str
) -> None:
    messages = result_texts(language)
    joined = "\n".join(messages)
    assert joined.index(fits) < joined.index(does_not_fit)
    assert decides in messages[-1]
    assert "https://www.immd.gov.hk/eng/services/visas/TTPS.html" in joined  # how to apply


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_fit_a_chat_screen(language: str) -> None:
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in result_texts(language))


@pytest.mark.parametrize("language, word", [("en", "approved"), ("zh-Hant", "一定批"), ("zh-Hans", "保证")])
def test_approval_is_never_promised(language: str, word: str) -> None:
    assert word not in "\n".join(result_texts(language)).replace("not every application", "")


def test_one_scheme_asked_about_is_the_only_one_in_the_result() -> None:
    joined = "\n".join(result_texts("en", schemes=["TTPS"]))
    assert "TTPS" in joined and "QMAS" not in joined and "GEP" not in joined


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", f"Category A: annual income of HK$1,000,000 is below the {THRESHOLD} threshold."),
        ("zh-Hant", f"A類：你嘅年收入HK$1,000,000未夠{THRESHOLD}。"),
        ("zh-Hans", f"A类：您的年收入HK$1,000,000低于{THRESHOLD}的门槛。"),
    ],
)
def test_reasons_are_rendered_from_their_code(language: str, expected: str) -> None:
    result = evaluate(parse_profile({"annual_income_hkd": 1_000_000, "degree": "none"}), ["TTPS"]).get("TTPS")
    assert render_reason(result.reasons[0], language, TEXTS) == expected


@pytest.mark.parametrize("profile", [PROFILE, {"as_of": "2023-06-01", "nationality": "NP", "degree": "bachelor",
                                                "university": "Jiao Tong University", "age": 17,
                                                "job_offer": {"technology_area": "baking"},
                                                "hk_degree": {"level": "master", "campus": "gba"}}])
def test_the_english_reply_is_the_json_sentence_and_every_language_renders(profile: dict) -> None:
    for result in evaluate(parse_profile(profile)).results:
        for reason in result.reasons:
            assert render_reason(reason, "en", TEXTS) == str(reason)
            for language in LANGUAGES:
                text = render_reason(reason, language, TEXTS)
                assert text and "{" not in text and "}" not in text


def test_a_plain_string_reason_is_shown_as_it_is() -> None:
    assert render_reason("Some new reason.", "zh-Hant", TEXTS) == "Some new reason."


def test_still_unknown_fields_are_named() -> None:
    joined = "\n".join(result_texts("zh-Hant", {"as_of": "2025-03-01", "annual_income_hkd": 2_600_000}))
    assert "要知道" in joined and "年齡" in joined


@pytest.mark.parametrize(
    "field, language, titles",
    [
        ("degree", "zh-Hant", ["博士", "碩士", "學士", "副學士／文憑", "冇學位", "跳過"]),
        ("job_offer", "en", ["Yes", "No", "Skip"]),
        ("mainland_chinese_resident", "zh-Hans", ["是", "不是／没有", "跳过"]),
    ],
)
def test_questions_have_answer_buttons(field: str, language: str, titles: list[str]) -> None:
    assert [b.title for b in render_question(field, language, TEXTS).buttons] == titles


def test_yes_no_buttons_send_affirm_and_deny_so_no_text_changes_the_language() -> None:
    payloads = [b.payload for b in render_question("job_offer", "zh-Hant", TEXTS).buttons]
    assert payloads == ["/affirm", "/deny", '/inform{"elig_answer": "skipped"}']


def test_ambiguous_university_is_asked_with_a_button_per_candidate() -> None:
    message = render_question("university", "zh-Hans", TEXTS,
                              ["Shanghai Jiao Tong University", "Xi'an Jiaotong University"])
    assert [b.payload for b in message.buttons][:2] == [
        '/inform{"elig_answer": "Shanghai Jiao Tong University"}',
        '/inform{"elig_answer": "Xi\'an Jiaotong University"}']
    assert message.buttons[0].title == "上海交通大学"


def test_the_one_line_reason_of_category_b_is_the_category_not_the_university_check() -> None:
    profile = {**PROFILE, "annual_income_hkd": 800_000}
    joined = "\n".join(result_texts("zh-Hant", profile, ["TTPS"]))
    assert "✅ 高才通計劃（B類）" in joined and "B類：合資格大學學位" in joined and "名單上" not in joined
