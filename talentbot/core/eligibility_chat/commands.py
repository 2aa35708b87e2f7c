"""Skip, stop and correction phrases in the three languages: what the user wants done with the form."""

from __future__ import annotations

import enum
import re


class Command(str, enum.Enum):
    """A request about the check itself rather than an answer."""

    SKIP = "skip"  # leave this question unknown and go on
    STOP = "stop"  # end the check


_SKIP = re.compile(
    r"^(?:skip(?: (?:this|it|that))?|pass|next(?: question)?|no idea|not sure|unsure|i(?: do|')?n'?t know|"
    r"dunno|idk|don'?t know|i'?d rather not say|prefer not to say|"
    r"跳過|跳过|下一題|下一题|唔知|唔知道|唔清楚|唔肯定|不知道|不清楚|不确定|不確定|不知|唔想講|不想说|不想說|略過|略过)"
    r"(?:喇|啦|呀|啊|了|吧|住)?$"
)
_STOP = re.compile(
    r"^(?:(?:please )?(?:stop|cancel|quit|exit|abort|end)(?: (?:it|this|the check|now|please))?|"
    r"never ?mind|forget it|i'?m done|that'?s enough|enough|"
    r"唔使喇|唔使啦|唔使了|唔駛喇|唔要喇|唔做喇|停|停止|取消|算喇|算啦|算數|"
    r"不用了|不用啦|不要了|算了|停止吧|取消吧|结束|結束|退出|不测了|不做了)"
    r"(?:喇|啦|呀|啊|了|吧|唔該|谢谢|謝謝|thanks|thank you)?$"
)
_CORRECTION = re.compile(
    r"\b(?:actually|sorry,? i meant|i meant|correction|let me correct|not \w+ but|i mean)\b|"
    r"其實|其实|更正|改一改|講錯|讲错|說錯|说错|搞錯|搞错|應該係|应该是|我意思係"
)
_PUNCTUATION = re.compile(r"[\s,.!?，。！？、~…]+")


def _clean(text: str) -> str:
    return _PUNCTUATION.sub(" ", text.strip().lower()).strip()


def detect_command(text: str) -> Command | None:
    """SKIP or STOP when the whole message is one of those phrases ("skip", 「跳過」, "stop", 「唔使喇」)."""
    cleaned = _clean(text)
    for pattern, command in ((_STOP, Command.STOP), (_SKIP, Command.SKIP)):
        if pattern.match(cleaned) or pattern.match(cleaned.replace(" ", "")):
            return command
    return None


def is_correction(text: str) -> bool:
    """Whether the message corrects an earlier answer ("actually I have a master's", 「其實我係碩士」)."""
    return bool(_CORRECTION.search(text.lower()))
