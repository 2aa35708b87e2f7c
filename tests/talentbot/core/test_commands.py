"""talentbot.core.commands: one list per whole-message command for the whole assistant (form and staff queue)."""

from __future__ import annotations

import pytest

from talentbot.core.commands import SKIP, STOP, load_commands, parse_commands

COMMANDS = load_commands()


@pytest.mark.parametrize("text", ["Stop.", "please stop", "stop please", "停了", "算了吧", "不用了，谢谢", "唔該唔使喇",
                                  "I'm done", "never mind!"])
def test_a_stop_phrase_with_one_polite_word_is_stop(text):
    assert COMMANDS[STOP].matches(text)


@pytest.mark.parametrize("text", ["", "please", "了", "算了，我想搵真人", "never mind, can I talk to a person?",
                                  "stop asking", "please please stop now now"])
def test_anything_more_than_the_phrase_is_a_message(text):
    assert not COMMANDS[STOP].matches(text)


def test_skip_and_stop_do_not_overlap():
    assert not (COMMANDS[STOP].phrases & COMMANDS[SKIP].phrases)


def test_a_command_without_phrases_in_a_language_is_refused():
    data = {"stop": {"en": ["stop"], "zh-Hant": ["停"]},
            "skip": {"en": ["skip"], "zh-Hant": ["跳過"], "zh-Hans": ["跳过"]}}
    with pytest.raises(ValueError, match="stop has no phrases in zh-Hans"):
        parse_commands(data)
