"""Language and script detection for user messages: en, zh-Hant (incl. written Cantonese) or zh-Hans.

Pure and fast (no model, no I/O): it runs inside the Rasa server on every user turn, so it must cost
microseconds. Script is told from the characters themselves: a character in the Big5-HKSCS character set but
not in GB2312 is Traditional-only (Cantonese 嘅, 喺 included); one in GB2312 but not in plain Big5 is
Simplified-only (HKSCS also holds a few hundred Simplified forms such as 国, 学, 样, so it cannot be the test).
Characters common to both (你好, 香港, 台, 里) say nothing, and the caller keeps the conversation's script.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Optional

from talentbot.core.i18n import EN as EN
from talentbot.core.i18n import LANGUAGES as LANGUAGES
from talentbot.core.i18n import ZH_HANS as ZH_HANS
from talentbot.core.i18n import ZH_HANT as ZH_HANT

DEFAULT_CHINESE = ZH_HANT
"""Script chosen for script-neutral Chinese when the conversation has none yet: we are a Hong Kong service."""

CANTONESE_MARKERS = frozenset("咩嘅喺啲冇咗嚟㗎佢哋乜嘢噉啱畀俾睇嘥揾搵咁嗰嘞喇囉啩吖嘛唔")
"""Characters of written Cantonese. Most are script-neutral, so they decide between Traditional and Simplified only
when nothing else does (a Hong Kong user writing 「佢可唔可以嚟」 writes Traditional)."""

MANDARIN_WORDS = ("多少", "哪", "什么", "怎么", "是不是", "能不能", "要不要", "可不可以", "有没有", "干什么",
                  "才可以", "才能")
"""Words of Mandarin (Putonghua) questions written with characters common to both scripts (「年薪要多少才可以」). A
Cantonese speaker writes 幾多、邊啲、咩、係咪 instead; with no script-specific character and no earlier script in the
conversation, these words decide for Simplified Chinese."""

COMMAND_PREFIXES = ("/", "EXTERNAL:")
"""Button payloads (`/intent{...}`) and Rasa's `trigger_intent` texts are not written by the user: they say nothing
about the user's language (see rasa-platform-notes.md, pitfall 5)."""

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_KANA = re.compile(r"[\u3040-\u30ff]")
_OTHER_SCRIPT = re.compile(
    r"[\u0370-\u03ff\u0400-\u052f\u0590-\u05ff\u0600-\u06ff\u0900-\u0dff\u0e00-\u0e7f\u1100-\u11ff\uac00-\ud7af]"
)


class Verdict(str, Enum):
    """What a message says about its language."""

    LANGUAGE = "language"  # a supported language was recognised
    NEUTRAL = "neutral"  # nothing to go on (emoji, digits, empty, a command): keep the current language
    UNSUPPORTED = "unsupported"  # written in a script we do not answer in (Cyrillic, Arabic, kana, Hangul...)


@dataclass(frozen=True)
class Detection:
    """Result of `detect`: `language` is set only when the verdict is LANGUAGE."""

    verdict: Verdict
    language: Optional[str] = None
    script_guessed: bool = False  # Chinese whose characters are common to both scripts: the script was kept/defaulted


@lru_cache(maxsize=65536)
def _script_of(char: str) -> int:
    """+1 for a Traditional-only character, -1 for a Simplified-only one, 0 when it is in both sets or neither."""
    in_gb = _encodable(char, "gb2312")
    traditional = _encodable(char, "big5hkscs") and not in_gb
    simplified = in_gb and not _encodable(char, "big5")
    return int(traditional) - int(simplified)


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def chinese_script(text: str) -> Optional[str]:
    """zh-Hant or zh-Hans from the characters of `text`, or None when they are common to both scripts."""
    score = sum(_script_of(c) for c in text if _HAN.match(c))
    if score > 0:
        return ZH_HANT
    if score < 0:
        return ZH_HANS
    if any(c in CANTONESE_MARKERS for c in text) and not any(_script_of(c) < 0 for c in text):
        return ZH_HANT
    return None


def detect(text: Optional[str], current: Optional[str] = None) -> Detection:
    """Detects the language of one message, given the conversation's current language.

    Mixed text counts as Chinese when it has at least as many Han characters as Latin words
    (「TTPS要幾多income」 is Chinese; "I work in 深圳" is English). Script-neutral Chinese keeps the current
    Chinese script, or takes DEFAULT_CHINESE after an English turn.
    """
    if not text:
        return Detection(Verdict.NEUTRAL)
    text = unicodedata.normalize("NFKC", text).strip()
    if not text or text.startswith(COMMAND_PREFIXES):
        return Detection(Verdict.NEUTRAL)
    han = len(_HAN.findall(text))
    latin_words = len(_LATIN_WORD.findall(text))
    if han and han >= latin_words and not _KANA.search(text):
        script = chinese_script(text)
        if script is None:
            return Detection(Verdict.LANGUAGE, _neutral_script(text, current), script_guessed=True)
        return Detection(Verdict.LANGUAGE, script)
    if _KANA.search(text) or len(_OTHER_SCRIPT.findall(text)) > latin_words:
        return Detection(Verdict.UNSUPPORTED)
    if latin_words:
        return Detection(Verdict.LANGUAGE, EN)
    return Detection(Verdict.NEUTRAL)


def _neutral_script(text: str, current: Optional[str]) -> str:
    """Script for Chinese written only with characters common to both: the conversation's, else Mandarin words
    decide (Cantonese ones already did, in `chinese_script`), else DEFAULT_CHINESE."""
    if current in (ZH_HANT, ZH_HANS):
        return current
    if any(word in text for word in MANDARIN_WORDS):
        return ZH_HANS
    return DEFAULT_CHINESE


def normalise_language_code(code: Optional[str]) -> Optional[str]:
    """Maps platform locales (zh_CN, zh-HK, en-GB, zh-Hant-TW...) to our three codes, or None for others."""
    if not code:
        return None
    parts = code.replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return EN
    if parts[0] not in ("zh", "yue"):
        return None
    rest = set(parts[1:])
    if parts[0] == "yue" or rest & {"hant", "hk", "tw", "mo"}:
        return ZH_HANT
    if rest & {"hans", "cn", "sg", "my"}:
        return ZH_HANS
    return None


def choose_reply_language(
    text: Optional[str],
    current: Optional[str],
    requested: Optional[str] = None,
    hint: Optional[str] = None,
) -> Detection:
    """The language to answer this message in.

    A language the user asked for (change_language) wins; then what the message itself shows; then the
    channel's hint (a platform locale) for messages that show nothing; else the current language stays.
    """
    if requested in LANGUAGES:
        return Detection(Verdict.LANGUAGE, requested)
    detection = detect(text, current)
    hinted = normalise_language_code(hint)
    if detection.verdict is Verdict.NEUTRAL and hinted:
        return Detection(Verdict.LANGUAGE, hinted)
    if detection.script_guessed and current not in (ZH_HANT, ZH_HANS) and hinted in (ZH_HANT, ZH_HANS):
        return Detection(Verdict.LANGUAGE, hinted)
    return detection
