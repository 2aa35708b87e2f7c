"""Matches a university named in free text (English, 繁, 简, abbreviations, small typos) to our partial list."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import opencc
from rapidfuzz import fuzz, process

from talentbot.core.eligibility.ruledata import RuleBook, load_rulebook

FUZZY_ACCEPT = 88.0
"""Minimum similarity (rapidfuzz ratio, 0-100) of both the whole name and its distinctive words.
Chosen on the test tables: "Standford" scores 94 against Stanford, "Kyoto University" only 60 against
Tokyo's distinctive word, so a typo passes and a different university does not."""

AMBIGUITY_MARGIN = 4.0
"""Two different universities scoring within this many points of each other are reported as candidates."""

MIN_FUZZY_LATIN = 6
"""Latin-script queries shorter than this (letters, spaces removed) match exactly only: short abbreviations
such as "MIT" or "UCL" are one typo away from another institution's."""

MIN_FUZZY_CJK = 4
"""Chinese queries shorter than this match exactly only (港大, 北大, 清华 are aliases, not fuzzy hits)."""

MAX_CANDIDATES = 5
"""A partial name that fits more universities than this (e.g. "Beijing") is treated as not found."""

_GENERIC_WORDS = ("university", "college", "institute", "school", "universite", "universidad", "universitat")
"""Words that carry no identity; a small typo in them ("Univeristy") still counts as generic."""
_FILLER_WORDS = frozenset({"of", "the", "and", "in", "at", "for", "de", "di", "la", "le", "del"})
_ABBREVIATIONS = {"univ": "university", "uni": "university", "inst": "institute", "coll": "college"}
_CJK_SUFFIXES = ("大学", "学院")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NON_WORD = re.compile(r"[^\w\u3400-\u9fff]+")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


class MatchStatus(str, enum.Enum):
    """How a name resolved."""

    FOUND = "found"  # exactly one university
    AMBIGUOUS = "ambiguous"  # ask which of `candidates` is meant (one candidate: "did you mean")
    NOT_FOUND = "not_found"  # not on our partial list; never guessed onto it


@dataclass(frozen=True)
class University:
    """One institution of the TTPS aggregate list as we hold it."""

    id: str
    names: Mapping[str, tuple[str, ...]]  # en / zh-Hant / zh-Hans
    abbreviations: tuple[str, ...]
    lists: tuple[str, ...]  # list versions it is confirmed on
    added: str | None  # list version it was added in: earlier versions certainly lack it
    removed: str | None  # list version it was removed in: from then on certainly off
    note: str | None
    source: str

    def name(self, language: str = "en") -> str:
        """The main name in a language, falling back to English."""
        names = self.names.get(language) or self.names["en"]
        return names[0]

    def on_list(self, version_id: str) -> bool | None:
        """True: confirmed on that list version; False: confirmed off; None: our copy cannot tell."""
        if version_id in self.lists:
            return True
        if self.removed is not None and version_id >= self.removed:
            return False
        if self.added is not None and version_id < self.added:
            return False
        return None


@dataclass(frozen=True)
class UniversityMatch:
    """The outcome of matching one free-text name."""

    query: str
    status: MatchStatus
    university: University | None = None  # set when FOUND
    candidates: tuple[University, ...] = ()  # set when AMBIGUOUS
    score: float = 0.0


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Lower case, Simplified script, no accents, punctuation or "the", "Univ." spelt out."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    if _CJK.search(text):
        text = _t2s().convert(text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    tokens = [_ABBREVIATIONS.get(t, t) for t in _NON_WORD.sub(" ", text).split()]
    text = " ".join(t for t in tokens if t != "the")
    return _CJK_SPACE.sub("", text)


def _is_generic(token: str) -> bool:
    return token in _FILLER_WORDS or any(
        token == word or (len(token) >= 6 and fuzz.ratio(token, word) >= 85) for word in _GENERIC_WORDS
    )


def core(key: str) -> str:
    """The distinctive part of a normalised name: generic words and Chinese 大学/学院 suffixes removed."""
    if _CJK.search(key):
        for suffix in _CJK_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                return key[: -len(suffix)]
        return key
    return " ".join(t for t in key.split() if not _is_generic(t))


def _is_cjk(key: str) -> bool:
    return bool(_CJK.search(key))


class UniversityMatcher:
    """Resolves names against a fixed set of universities; build once, match many times."""

    def __init__(self, universities: Iterable[University]) -> None:
        self.universities = tuple(universities)
        self._exact: dict[str, set[int]] = {}
        self._keys: list[str] = []  # normalised full names (no abbreviations), for fuzzy matching
        self._cores: list[str] = []
        self._owner: list[int] = []
        seen: set[tuple[str, int]] = set()
        for index, uni in enumerate(self.universities):
            for abbreviation in uni.abbreviations:
                self._exact.setdefault(normalise(abbreviation), set()).add(index)
            for names in uni.names.values():
                for name in names:
                    key = normalise(name)
                    self._exact.setdefault(key, set()).add(index)
                    if (key, index) not in seen:
                        seen.add((key, index))
                        self._keys.append(key)
                        self._cores.append(core(key))
                        self._owner.append(index)

    def match(self, text: str) -> UniversityMatch:
        """One university, the close candidates, or not found; see MatchStatus."""
        key = normalise(text or "")
        if not key:
            return UniversityMatch(text, MatchStatus.NOT_FOUND)
        exact = self._exact.get(key)
        if exact:
            return self._result(text, sorted(exact), 100.0)
        cjk = _is_cjk(key)
        letters = len(key.replace(" ", ""))
        if letters < (MIN_FUZZY_CJK if cjk else MIN_FUZZY_LATIN):
            return self._partial(text, key, cjk) if cjk else UniversityMatch(text, MatchStatus.NOT_FOUND)
        query_core = core(key)
        if not query_core:
            return UniversityMatch(text, MatchStatus.NOT_FOUND)
        best: dict[int, float] = {}
        for _, full_score, position in process.extract(
            key, self._keys, scorer=fuzz.ratio, score_cutoff=FUZZY_ACCEPT, limit=None
        ):
            alias_core = self._cores[position]
            score = min(full_score, fuzz.ratio(query_core, alias_core)) if alias_core else full_score
            owner = self._owner[position]
            if score >= FUZZY_ACCEPT and score > best.get(owner, 0.0):
                best[owner] = score
        if best:
            top = max(best.values())
            close = sorted((i for i, s in best.items() if s >= top - AMBIGUITY_MARGIN), key=lambda i: -best[i])
            return self._result(text, close, top)
        return self._partial(text, key, cjk)

    def _partial(self, text: str, key: str, cjk: bool) -> UniversityMatch:
        """A name that is a contiguous part of one or a few longer names ("Jiao Tong", 交大): ask, never pick.
        Contiguous, so "University of Sydney" is not taken for "University of Technology Sydney"."""
        owners: list[int] = []
        if cjk:
            if len(key) >= 2:
                owners = [o for k, o in zip(self._keys, self._owner, strict=True) if key in k and _is_cjk(k)]
        else:
            words = core(key).split()
            if words and all(len(w) >= 3 for w in words):
                padded = f" {key} "
                owners = [o for k, o in zip(self._keys, self._owner, strict=True) if padded in f" {k} "]
        unique = sorted(set(owners))
        if not unique or len(unique) > MAX_CANDIDATES:
            return UniversityMatch(text, MatchStatus.NOT_FOUND)
        return UniversityMatch(
            text, MatchStatus.AMBIGUOUS, candidates=tuple(self.universities[i] for i in unique), score=0.0
        )

    def _result(self, text: str, owners: list[int], score: float) -> UniversityMatch:
        if len(owners) == 1:
            return UniversityMatch(text, MatchStatus.FOUND, university=self.universities[owners[0]], score=score)
        return UniversityMatch(
            text, MatchStatus.AMBIGUOUS, candidates=tuple(self.universities[i] for i in owners), score=score
        )


def universities_from_data(data: Mapping[str, Any]) -> list[University]:
    """Build University records from the parsed universities.yml."""
    result = []
    for entry in data["universities"]:
        result.append(
            University(
                id=entry["id"],
                names={lang: tuple(names or ()) for lang, names in entry["names"].items()},
                abbreviations=tuple(entry.get("abbreviations") or ()),
                lists=tuple(str(v) for v in entry.get("lists") or ()),
                added=entry.get("added"),
                removed=entry.get("removed"),
                note=entry.get("note"),
                source=entry["source"],
            )
        )
    return result


_MATCHERS: dict[str, UniversityMatcher] = {}


def matcher_for(book: RuleBook) -> UniversityMatcher:
    """The matcher over a rule book's university list, built once per data version."""
    matcher = _MATCHERS.get(book.content_hash)
    if matcher is None:
        matcher = _MATCHERS[book.content_hash] = UniversityMatcher(universities_from_data(book.universities))
    return matcher


def default_matcher() -> UniversityMatcher:
    """The matcher over our data file, built once per process."""
    return matcher_for(load_rulebook())


def match_university(text: str) -> UniversityMatch:
    """Match a free-text university name against our partial copy of the TTPS list."""
    return default_matcher().match(text)


def list_version_id(book: RuleBook, day: dt.date) -> str | None:
    """The id of the list version in force on `day` (None before the TTPS list existed)."""
    version = book.university_list_version(day)
    return None if version is None else str(version["id"])


__all__ = [
    "MatchStatus", "University", "UniversityMatch", "UniversityMatcher", "match_university",
    "default_matcher", "matcher_for", "normalise", "core", "list_version_id",
]
