"""What the user wants done with the form: skip a question or stop (the whole-message phrases of
bot/texts/commands.yml, shared with the staff queue), or correct an earlier answer (cue words anywhere in the
message, a pattern rather than a phrase list, so it stays here)."""

from __future__ import annotations

import enum
import re

from talentbot.core.commands import SKIP, STOP, load_commands


class Command(str, enum.Enum):
    """A request about the check itself rather than an answer."""

    SKIP = "skip"  # leave this question unknown and go on
    STOP = "stop"  # end the check


_CORRECTION = re.compile(
    r"\b(?:actually|sorry,? i meant|i meant|correction|let me correct|not \w+ but|i mean)\b|"
    r"其實|其实|更正|改一改|講錯|讲错|說錯|说错|搞錯|搞错|應該係|应该是|我意思係"
)


def detect_command(text: str) -> Command | None:
    """SKIP or STOP when the whole message is one of those phrases ("skip", 「跳過」, "stop", 「唔使喇」)."""
    phrases = load_commands()
    for name, command in ((STOP, Command.STOP), (SKIP, Command.SKIP)):
        if phrases[name].matches(text):
            return command
    return None


def is_correction(text: str) -> bool:
    """Whether the message corrects an earlier answer ("actually I have a master's", 「其實我係碩士」)."""
    return bool(_CORRECTION.search(text.lower()))
