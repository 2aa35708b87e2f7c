"""Skip, stop and correction phrases in English, Cantonese and Simplified Chinese."""

from __future__ import annotations

import pytest

from talentbot.core.eligibility_chat.commands import Command, detect_command, is_correction


@pytest.mark.parametrize(
    "text, expected",
    [
        ("skip", Command.SKIP), ("Skip this", Command.SKIP), ("don't know", Command.SKIP),
        ("I don't know", Command.SKIP), ("not sure", Command.SKIP), ("跳過", Command.SKIP),
        ("跳过", Command.SKIP), ("唔知", Command.SKIP), ("唔知呀", Command.SKIP), ("不知道", Command.SKIP),
        ("stop", Command.STOP), ("cancel", Command.STOP), ("Stop please!", Command.STOP),
        ("never mind", Command.STOP), ("唔使喇", Command.STOP), ("不用了", Command.STOP), ("算了", Command.STOP),
        ("取消", Command.STOP),
        ("no", None), ("I earn 2.6M", None), ("stop asking about income, I earn 3M", None), ("唔係", None),
    ],
)
def test_commands(text: str, expected: Command | None) -> None:
    assert detect_command(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("actually I have a master's", True), ("sorry, I meant 2018", True), ("其實我係碩士", True),
        ("其实我是博士", True), ("我講錯咗，係2018年", True), ("I have a master's", False), ("我係碩士", False),
    ],
)
def test_corrections(text: str, expected: bool) -> None:
    assert is_correction(text) is expected
