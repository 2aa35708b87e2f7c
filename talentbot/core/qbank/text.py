"""What the ranker compares: a message folded to one form and cut into word and character features.

Chinese is compared in one script (OpenCC t2s), so a Cantonese paraphrase and a Mainland one share every
character they have in common; Han text gives character 1-3-grams (no segmenter to disagree with itself),
Latin text gives lightly stemmed words and word pairs. Scheme names are cut out by the caller (`Masker`): which
scheme a question is about is matched separately from what it asks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Callable

import opencc
import yaml

Masker = Callable[[str], tuple[str, tuple[str, ...]]]
"""text -> (text with scheme names blanked out, schemes named in order)."""

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:['’][a-z]+)?")
#: English words too common to say what is asked; kept inside word pairs ("how long", "do i").
STOP_WORDS = frozenset(
    "a an the to of in on at for and or is are am be been was were i my me we our us you your it its this that "
    "there here with as by from so if but just any some hi hello please thanks thank".split()
)
#: Words every question has: they say that something is asked, not what; kept only beside a word that says what.
QUESTION_WORDS = frozenset(
    "what how when where who which why whether can could do does did will would should must may might "
    "have has had get need like know tell".split()
)
_FUNCTION_WORDS = STOP_WORDS | QUESTION_WORDS


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


SEVERAL_SCHEMES = "s:several"
"""Feature of a text naming two or more schemes: once the names are cut out, a comparison would look like a
question about one scheme."""
SYNONYMS_FILE = Path(__file__).resolve().parent / "data" / "synonyms.yml"


def fold(text: str) -> str:
    """Width, case and script folded: 「ＴＴＰＳ續簽」 and 「ttps续签」 become the same string."""
    folded: str = _t2s().convert(unicodedata.normalize("NFKC", text).casefold())  # (OpenCC's convert is unannotated)
    return folded


@lru_cache(maxsize=1)
def _synonyms() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every synonym (longest first) and its canonical form."""
    data = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or {}
    canonical: dict[str, str] = {}
    for language in ("en", "zh"):
        for target, words in (data.get(language) or {}).items():
            for word in words:
                canonical.setdefault(fold(str(word)), fold(str(target)))
    parts = []
    for word in sorted(canonical, key=len, reverse=True):
        body = re.escape(word)
        if _LATIN_WORD.fullmatch(word.split()[0]):
            body = r"(?<![a-z0-9])" + body + r"(?![a-z0-9])"
        parts.append(body)
    return re.compile("|".join(parts) or r"(?!)"), canonical


CATEGORY_EXTRA = 2
"""Extra counts of a TTPS category word: one letter tells Category B's requirements from the extension's, against
many shared characters (「高才通B類要咩條件」)."""
_CATEGORY = re.compile(r"(?<![a-z0-9])(?:category|categories|cat|class)\.?\s*([abc])(?![a-z0-9])|"
                       r"(?<![a-z0-9])([abc])\s*类")
"""TTPS categories ("Category A", "cat. B", 「C類」): one word each, so the letter is not lost as the article "a"."""


def normalise(folded: str) -> str:
    """Synonyms (data/synonyms.yml) replaced by their canonical word; category letters made words of their own."""
    pattern, canonical = _synonyms()
    folded = _CATEGORY.sub(lambda m: f" category{m.group(1) or m.group(2)} ", folded)
    return pattern.sub(lambda m: canonical[m.group(0)], folded)


def stem(word: str) -> str:
    """A light English stemmer: enough that "extend", "extends", "extending" and "extended" meet."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ied"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def features(folded: str) -> list[str]:
    """Features of an already folded text: "c:" Han character n-grams, "w:" words, "b:" word pairs."""
    out: list[str] = []
    for run in _HAN_RUN.findall(folded):
        for n in (1, 2, 3):
            out.extend("c:" + run[i:i + n] for i in range(len(run) - n + 1))
    words = [stem(w) for w in _LATIN_WORD.findall(folded)]
    out.extend("w:" + w for w in words if w not in _FUNCTION_WORDS)
    out.extend("w:" + w for w in words if w.startswith("category") for _ in range(CATEGORY_EXTRA))
    out.extend(f"b:{a}_{b}" for a, b in pairwise(words) if a not in _FUNCTION_WORDS or b not in _FUNCTION_WORDS)
    return out


def analyse(text: str, mask: Masker | None = None) -> tuple[list[str], tuple[str, ...]]:
    """Features of a raw message, and the schemes it names (when a masker is given)."""
    schemes: tuple[str, ...] = ()
    if mask is not None:
        text, schemes = mask(text)
    return unnamed_features(text, schemes), schemes


def unnamed_features(unnamed: str, schemes: tuple[str, ...]) -> list[str]:
    """Features of a message whose scheme names were already masked (`schemes`: the ones it named)."""
    feats = features(normalise(fold(unnamed)))
    if len(schemes) > 1:
        feats.append(SEVERAL_SCHEMES)  # "TTPS or QMAS?" asks to compare, unlike "how do I apply for TTPS?"
    return feats


def fold_phrase(text: str) -> str:
    """Case, width, script, spaces and punctuation removed: for comparing whole phrases and cues."""
    folded = fold(text)
    return "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch)[0] in "PSZ"))
