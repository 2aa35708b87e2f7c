"""Language detection: which language and script each message is answered in."""

import pytest

from talentbot.core.language import (
    EN,
    ZH_HANS,
    ZH_HANT,
    Verdict,
    choose_reply_language,
    detect,
    normalise_language_code,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Am I eligible for TTPS?", EN),
        ("hi", EN),
        ("Bonjour", EN),  # Latin script we cannot tell apart: answered in English
        ("高才通要咩條件？", ZH_HANT),
        ("我可唔可以帶埋老婆嚟？", ZH_HANT),
        ("高才通申请条件是什么？", ZH_HANS),
        ("请用普通话回答", ZH_HANS),
        ("TTPS要幾多income", ZH_HANT),  # mixed text counts as Chinese
        ("TTPS申请要多少income", ZH_HANS),
        ("點樣申請優才", ZH_HANT),
        ("我想了解优才计划", ZH_HANS),
        ("香港的交通怎么样？", ZH_HANS),  # 样 is also in HKSCS: plain Big5 decides Simplified-only
        ("国家学车门", ZH_HANS),
        ("佢哋可唔可以嚟", ZH_HANT),  # only Cantonese markers, script-neutral characters
        ("台灣公里皇后", ZH_HANT),  # characters valid in both scripts do not count as Simplified
        ("I work in 深圳 as an engineer", EN),  # a Chinese place name in an English sentence
        ("ＴＴＰＳ係咩", ZH_HANT),  # full-width Latin
    ],
)
def test_detects_language_and_script(text: str, expected: str) -> None:
    assert detect(text, current=EN).language == expected


@pytest.mark.parametrize("current", [ZH_HANT, ZH_HANS])
@pytest.mark.parametrize("text", ["你好", "香港", "好", "屋企人"])
def test_script_neutral_chinese_keeps_the_current_script(text: str, current: str) -> None:
    detection = detect(text, current=current)
    assert detection.language == current
    assert detection.script_guessed


def test_script_neutral_chinese_after_english_defaults_to_traditional() -> None:
    assert detect("你好", current=EN).language == ZH_HANT


@pytest.mark.parametrize("text", ["年薪要多少才可以", "哪些人可以", "可不可以工作", "年收入要多少"])
@pytest.mark.parametrize("current", [None, EN])
def test_script_neutral_mandarin_with_no_earlier_script_is_simplified(text: str, current: str) -> None:
    assert detect(text, current=current).language == ZH_HANS


@pytest.mark.parametrize("text", ["年薪要多少才可以", "哪些人可以"])
def test_script_neutral_mandarin_keeps_an_earlier_traditional_script(text: str) -> None:
    assert detect(text, current=ZH_HANT).language == ZH_HANT


@pytest.mark.parametrize("text", ["年薪要幾多先得", "佢可唔可以嚟", "申請要幾多錢"])
def test_cantonese_words_are_traditional(text: str) -> None:
    assert detect(text).language == ZH_HANT


@pytest.mark.parametrize("text", ["", "   ", "👍", "🇭🇰🙏", "12345", "???", "\x00\x07", None])
def test_messages_without_words_say_nothing(text: str) -> None:
    assert detect(text, current=ZH_HANS).verdict is Verdict.NEUTRAL


@pytest.mark.parametrize(
    "text", ["/ask_scheme_info{\"scheme\": \"TTPS\"}", "EXTERNAL: handoff_resumed", "/greet"]
)
def test_commands_and_injected_intents_do_not_change_language(text: str) -> None:
    assert detect(text, current=ZH_HANT).verdict is Verdict.NEUTRAL


@pytest.mark.parametrize("text", ["Привет, как дела?", "مرحبا", "こんにちは", "高才通について教えて", "안녕하세요"])
def test_other_scripts_are_unsupported(text: str) -> None:
    assert detect(text, current=EN).verdict is Verdict.UNSUPPORTED


def test_long_message_is_detected() -> None:
    assert detect("高才通要咩條件？" * 1250, current=EN).language == ZH_HANT


@pytest.mark.parametrize(
    "code, expected",
    [
        ("zh_CN", ZH_HANS),
        ("zh-Hans", ZH_HANS),
        ("zh-HK", ZH_HANT),
        ("zh_TW", ZH_HANT),
        ("zh-Hant-TW", ZH_HANT),
        ("yue", ZH_HANT),
        ("en-GB", EN),
        ("en", EN),
        ("fr", None),
        ("zh", None),
        ("", None),
        (None, None),
    ],
)
def test_normalises_platform_locales(code, expected) -> None:
    assert normalise_language_code(code) == expected


class TestChooseReplyLanguage:
    def test_a_requested_language_wins_over_the_message(self) -> None:
        assert choose_reply_language("高才通要咩條件？", EN, requested=EN).language == EN

    def test_the_message_wins_over_the_channel_hint(self) -> None:
        assert choose_reply_language("what is TTPS", ZH_HANS, hint="zh_CN").language == EN

    def test_the_hint_decides_script_neutral_chinese_on_a_first_turn(self) -> None:
        assert choose_reply_language("你好", EN, hint="zh_CN").language == ZH_HANS

    def test_the_hint_does_not_override_the_ongoing_chinese_script(self) -> None:
        assert choose_reply_language("你好", ZH_HANT, hint="zh_CN").language == ZH_HANT

    def test_the_hint_answers_content_free_messages(self) -> None:
        assert choose_reply_language("👍", EN, hint="zh-HK").language == ZH_HANT

    def test_unsupported_text_is_reported(self) -> None:
        assert choose_reply_language("Привет", ZH_HANT).verdict is Verdict.UNSUPPORTED
