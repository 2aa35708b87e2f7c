"""Reads the facts in one free-text answer ("I earn 2.6M, master's from HKU, graduated 2019") as slot values.

Every message is read whole, clause by clause, so one message can fill several fields and a later message
can correct an earlier answer. Facts are taken only with a cue word ("earn", 「年薪」, "graduated",
「畢業」, "years of experience"...), except for the field just asked, where a bare answer ("2.6M", 「三年」,
"2019", "yes") is enough. The parsers are the rules module's (talentbot.core.eligibility.parse).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from talentbot.core.eligibility.parse import (
    ParseError,
    PartialDate,
    parse_chinese_number,
    parse_date,
    parse_degree,
    parse_money,
    parse_years,
)
from talentbot.core.eligibility.profile import degree_rank
from talentbot.core.eligibility.ruledata import load_rulebook
from talentbot.core.eligibility.schemes.techtas import technology_area_key
from talentbot.core.eligibility.universities import MatchStatus, default_matcher, normalise
from talentbot.core.eligibility_chat.slots import FIELD_SLOTS, NO, NONE, YES

MIN_BARE_INCOME_HKD = 1000
"""A bare number below this ("2.6") is not read as an income: it is a typo or meant millions; we ask again."""

MAX_AGE = 100
"""Numbers above this are not read as an age."""


@dataclass(frozen=True)
class Notice:
    """Something the user must be told about an answer that could not be taken as given."""

    kind: str  # "foreign_currency", "university_ambiguous", "university_not_found"
    params: Mapping[str, Any] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()  # university_ambiguous: English names to choose from


@dataclass
class Extraction:
    """Slot values read from one message, and notices to pass on."""

    values: dict[str, Any] = field(default_factory=dict)  # slot name -> value
    notices: list[Notice] = field(default_factory=list)

    def set(self, profile_field: str, value: Any) -> None:
        """The first value found wins, except that a higher degree beats a lower one ("a bachelor from
        Fudan and a master from LSE" is a master's)."""
        slot = FIELD_SLOTS[profile_field]
        if profile_field in ("degree", "hk_degree.level") and slot in self.values:
            if degree_rank(value) <= degree_rank(self.values[slot]):
                return
            del self.values[slot]
        self.values.setdefault(slot, value)


_CLAUSE_SPLIT = re.compile(r"(?<!\d)[.,](?!\d)|[;；。，、!！?？\n]|\s+(?:and|but|plus|also|then)\s+|"
                           r"同埋|而且|並且|并且|另外")
_CJK = re.compile(r"[\u3400-\u9fff]")

_INCOME_CUE = re.compile(r"earn|income|salary|make|making|paid|package|annual|"
                         r"年薪|收入|人工|賺|赚|挣|掙|月薪|工資|工资")
_MONTHLY = re.compile(r"a month|per month|monthly|/month|/mo\b|月薪|每月|每個月|每个月|一個月|一个月|個月人工")
_OFFER_CUE = re.compile(r"offer|聘用|聘書|聘书|錄用|录用")
_NO_OFFER = re.compile(
    r"\bno\b[^.]*offer|(?:don'?t|do not|haven'?t|didn'?t) (?:have|got|get)[^.]*offer|"
    r"without (?:a |an |any )?(?:job )?offer|not yet[^.]*offer|"
    r"(?:冇|沒有|没有|未有|無|无|仲未有|还没有|還沒有|暫時冇|暂时没有)(?:\s*(?:job|工作|香港|公司))?\s*(?:offer|聘用)")
_OFFER_NOT_STATED = re.compile(
    r"\b(?:if|whether|need|needs|needed|require|requires|required|requirement|must|necessary|have to|has to)\b|"
    r"會唔會|会不会|能不能|可唔可以|需要|需唔需要|需不需要|使唔使|使不使|要唔要|要不要|一定要|必須|必须")
"""An offer in a condition or a question about needing one ("do I need a job offer?", 「使唔使有offer？」) is not
the user saying they have one."""
_EXPERIENCE_CUE = re.compile(r"experience|\bexp\b|worked|working|work|career|"
                             r"經驗|经验|做咗|做了|工作|年資|年资|返工|上班")
_GRADUATION_CUE = re.compile(r"graduat|finished|completed|畢業|毕业|读完|讀完")
_AGO = re.compile(r"\bago\b|之前|以前|前$")
_AGE = re.compile(
    r"(?:\b(?:i'?m|i am|age|aged)\s+(?P<a>\d{1,3})\b"
    r"(?![.,]\d|\s*(?:years? (?:of|experience)|yrs? (?:of|exp)|k\b|m\b|%))|"
    r"\b(?P<b>\d{1,3})\s*(?:years? old|yrs? old|yo)\b|"
    r"(?P<c>\d{1,3}|[一二兩两三四五六七八九十]+)\s*(?:歲|岁))")
_BORN = re.compile(r"(?:born in|出世|出生)\D*(?P<y>(?:19|20)\d{2})|(?P<y2>(?:19|20)\d{2})\s*年?\s*(?:出世|出生)")
_YEARS = re.compile(
    r"(?P<n>\d+(?:\.\d+)?|[一二兩两三四五六七八九十]+(?:個半|个半)?|半)\s*\+?\s*"
    r"(?P<u>years?|yrs?|年半|年|個月|个月|months?)")
_MONEY = re.compile(
    r"(?P<m>(?:hk\$|us\$|s\$|a\$|[$¥£€]|hkd|rmb|cny|usd|gbp|eur|sgd|aud|cad|jpy)?\s*"
    r"(?:\d[\d,]*(?:\.\d+)?|[零〇一二两兩三四五六七八九十百千萬万億亿]+)\s*"
    r"(?:thousand|millions?|mil|mn|billion|bn|[kmb](?![a-z])|百萬|百万|萬|万|千|億|亿)?\s*"
    r"(?:hk\$|hkd|rmb|cny|usd|gbp|eur|sgd|aud|cad|jpy|港幣|港币|港元|港紙|蚊|元人民币|人民幣|人民币|美元|美金|"
    r"英鎊|英镑|歐元|欧元|日元|円|元|dollars?)?)")
_MONEY_MARK = re.compile(r"hk\$|us\$|[$¥£€]|hkd|rmb|cny|usd|gbp|eur|sgd|aud|cad|jpy|"
                         r"港幣|港币|港元|港紙|蚊|人民|美元|美金|英鎊|英镑|歐元|欧元|日元|円|元|dollar|"
                         r"\d\s*(?:k|m|mn|million|thousand|bn)\b|萬|万|百萬|百万|億|亿")
_DATE = re.compile(
    r"(?P<d>\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日號号])?|\d{4}-\d{1,2}(?:-\d{1,2})?|\d{1,2}/\d{4}|"
    r"(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2}\s+)?\d{4}|"
    r"(?<!\d)(?:19|20)\d{2}(?!\d))")
_LAST_YEAR = re.compile(r"last year|舊年|旧年|去年|上年")
_THIS_YEAR = re.compile(r"this year|今年")
_DEGREE_WORDS = re.compile(
    r"\b(?:phd|ph\.d|dphil|doctorate|doctoral|masters?|msc|mba|mphil|meng|llm|bachelors?|bsc|beng|bba|llb|"
    r"undergraduate|associate degree|higher diploma|diploma|no degree)\b|"
    r"博士|碩士|硕士|研究生|學士|学士|本科|副學士|副学士|高級文憑|高级文凭|文憑|文凭|大專|大专|專科|专科|"
    r"冇學位|沒有學位|没有学位|没有本科|冇大學學位")
_UNIVERSITY_PHRASE_LATIN = re.compile(
    r"((?:[a-z.&'-]+\s+){0,4}(?:university|univ\.?|college|institute|polytechnic)"
    r"(?:\s+(?:of|for|at)(?:\s+[a-z.&'-]+){1,4})?)")
_UNIVERSITY_PHRASE_CJK = re.compile(r"([\u3400-\u9fff]{2,12}?(?:大學|大学|學院|学院))")
_MAINLAND_NO = re.compile(r"not (?:a )?mainland|non-mainland|唔係內地|唔係大陸|不是内地|不是大陆|非內地|非内地")
_MAINLAND_YES = re.compile(r"mainland (?:chinese )?resident|mainland chinese|live in (?:the )?mainland|"
                           r"from the mainland|內地居民|内地居民|內地人|内地人|大陸人|大陆人|內地中國居民|内地中国居民")
_NATIONALITY_CUE = re.compile(r"citizen|passport|national|nationality|\bi'?m (?:a |an )?|\bi am (?:a |an )?|"
                              r"國籍|国籍|護照|护照|公民|人$|人，|係\S*人|是\S*人")
_CAMPUS_GBA = re.compile(r"\bgba\b|greater bay|guangzhou|shenzhen|dongguan|"
                         r"大灣區|大湾区|廣州|广州|深圳|東莞|东莞|內地校|内地校")
_CAMPUS_HK = re.compile(r"hong kong campus|in hong kong|\bhk campus|香港校|喺香港|在香港|本港")
_CAMPUS_CUE = re.compile(r"campus|校區|校区|校園|校园")

_YES_WORDS = frozenset({"yes", "yeah", "yep", "yup", "y", "sure", "correct", "right", "true", "i do", "i am", "i have",
                        "係", "係呀", "係啊", "有", "有呀", "啱", "是", "是的", "对", "對", "有的", "嗯", "对的"})
_NO_WORDS = frozenset({"no", "nope", "nah", "n", "not", "none", "i don't", "i do not", "i'm not", "i am not",
                       "i haven't", "not really", "冇", "冇呀", "無", "沒有", "没有", "唔係", "唔係呀", "不是",
                       "不", "否", "没", "未有", "冇喎", "不是的"})

_YES_NO_FIELDS = ("mainland_chinese_resident", "job_offer", "hk_degree")


def extract(
    text: str,
    requested: str | None = None,
    *,
    intent: str | None = None,
    answer: str | None = None,
    today: dt.date | None = None,
) -> Extraction:
    """Slot values found in `text`; `requested` is the profile field just asked (its bare answers count),
    `intent` the NLU intent (affirm/deny answer yes/no questions), `answer` a button's value."""
    today = today or dt.date.today()
    result = Extraction()
    if answer:
        _from_button(answer, requested, result)
        return result
    lowered = _normalise_text(text)
    if requested in _YES_NO_FIELDS:
        exact = _yes_no(lowered, None, exact=True)
        if exact is not None:
            result.set(requested, exact)
    for clause in _clauses(lowered):
        _read_clause(clause, requested, today, result)
    if requested is not None and not result.values and not result.notices:
        # "no job offer" answers the offer, not the Mainland question asked: the intent and a leading
        # yes/no count only when the message says nothing else.
        if requested in _YES_NO_FIELDS:
            yes_no = _yes_no(lowered, intent)
            if yes_no is not None:
                result.set(requested, yes_no)
        else:
            _read_bare(lowered, requested, today, result)
    return result


def _from_button(answer: str, requested: str | None, result: Extraction) -> None:
    if requested is None:
        return
    if requested == "university":
        match = default_matcher().match(answer)
        if match.status is MatchStatus.FOUND and match.university is not None:
            result.set("university", match.university.name())
        return
    if requested == "job_offer.technology_area" and answer == NO:
        result.set(requested, NONE)
        return
    result.set(requested, answer)


def _normalise_text(text: str) -> str:
    text = text.strip().lower().replace("’", "'").replace("＄", "$")
    return re.sub(r"\s+", " ", text)


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def _yes_no(text: str, intent: str | None, exact: bool = False) -> str | None:
    cleaned = re.sub(r"[\s,.!?，。！？~]+$", "", text).strip()
    if cleaned in _YES_WORDS or cleaned.rstrip("呀啊喎囉") in _YES_WORDS:
        return YES
    if cleaned in _NO_WORDS or cleaned.rstrip("呀啊喎囉") in _NO_WORDS:
        return NO
    if exact:
        return None
    if intent == "affirm":
        return YES
    if intent == "deny":
        return NO
    first = re.split(r"[\s,，]", cleaned, maxsplit=1)[0]
    if first in ("yes", "yeah", "yep", "係", "是", "有"):
        return YES
    if first in ("no", "nope", "nah", "冇", "没有", "沒有", "唔係", "不是"):
        return NO
    return None


def _read_clause(clause: str, requested: str | None, today: dt.date, result: Extraction) -> None:
    """Facts with a cue word in one clause."""
    offer_clause = bool(_OFFER_CUE.search(clause))
    if offer_clause:
        if _NO_OFFER.search(clause):
            result.set("job_offer", NO)
        elif not _OFFER_NOT_STATED.search(clause):
            result.set("job_offer", YES)
        _technology_area(clause, result)
    _mainland(clause, result)
    _degree(clause, requested, result)
    _university(clause, requested, result)
    _age(clause, today, result)
    _nationality(clause, requested, result)
    _campus(clause, requested, result)
    graduation_field = "hk_degree.graduation_date" if requested == "hk_degree.graduation_date" else "graduation_date"
    if _GRADUATION_CUE.search(clause):
        _graduation(clause, graduation_field, today, result, relative=True)
    elif _EXPERIENCE_CUE.search(clause) and not offer_clause:
        _experience(clause, result)
    if not offer_clause and (_INCOME_CUE.search(clause) or _money_marked(clause)):
        _income(clause, requested, result, cue=bool(_INCOME_CUE.search(clause)))


def _read_bare(text: str, requested: str, today: dt.date, result: Extraction) -> None:
    """The answer to the question just asked, without a cue word ("2.6M", "6 yrs", 「三年」, "2019")."""
    if requested == "annual_income_hkd":
        _income(text, requested, result, cue=True, bare=True)
    elif requested == "work_experience_years":
        _experience(text, result, bare=True)
    elif requested in ("graduation_date", "hk_degree.graduation_date"):
        _graduation(text, requested, today, result, relative=True)
    elif requested in ("degree", "hk_degree.level"):
        try:
            result.set(requested, parse_degree(text))
        except ParseError:
            pass
    elif requested == "university":
        _university(text, requested, result, whole_answer=True)
    elif requested == "age":
        number = _number(text)
        if number is not None and 0 < number <= MAX_AGE:
            result.set("age", int(number))
    elif requested == "nationality":
        _nationality(text, requested, result)
    elif requested == "hk_degree.campus":
        _campus(text, requested, result)
    elif requested == "job_offer.technology_area":
        if _yes_no(text, None) == NO:
            result.set(requested, NONE)
        elif not _technology_area(text, result):
            cleaned = re.sub(r"^(?:it'?s|it is|the job is|in|做|係|是)\s*", "", text).strip(" .。")
            if cleaned:
                result.set(requested, cleaned)


def _number(text: str) -> float | None:
    cleaned = re.sub(r"^(?:i'?m|i am|age|aged|我|今年|我今年)\s*", "", text.strip())
    cleaned = re.sub(r"\s*(?:years? old|yrs? old|歲|岁|了)$", "", cleaned).strip()
    if re.fullmatch(r"\d+", cleaned):
        return float(cleaned)
    try:
        return float(parse_chinese_number(cleaned))
    except ParseError:
        return None


def _money_marked(clause: str) -> bool:
    return bool(_MONEY_MARK.search(clause)) and not _DATE_ONLY.fullmatch(clause)


_DATE_ONLY = re.compile(r"\s*(?:19|20)\d{2}\s*年?\s*")


def _income(clause: str, requested: str | None, result: Extraction, cue: bool, bare: bool = False) -> None:
    monthly = bool(_MONTHLY.search(clause))
    for match in _MONEY.finditer(clause):
        candidate = match.group("m").strip()
        if not re.search(r"\d|[一二两兩三四五六七八九十百千萬万億亿]", candidate):
            continue
        if not cue and not _MONEY_MARK.search(candidate):
            continue
        if re.fullmatch(r"(?:19|20)\d{2}", candidate) and not _MONEY_MARK.search(candidate):
            continue  # a year, not an amount
        try:
            money = parse_money(candidate)
        except ParseError:
            continue
        if money.amount_hkd is None:
            result.notices.append(Notice("foreign_currency", {"currency": money.currency}))
            return
        amount = money.amount_hkd * (12 if monthly else 1)
        if amount < MIN_BARE_INCOME_HKD and money.currency_assumed:
            continue
        result.set("annual_income_hkd", round(amount, 2))
        return


def _experience(clause: str, result: Extraction, bare: bool = False) -> None:
    if _AGO.search(clause) or re.search(r"old|歲|岁", clause):
        return
    for match in _YEARS.finditer(clause):
        number = match.group("n")
        if re.fullmatch(r"\d{4}", number):
            continue  # 2019年 is a date
        try:
            years = parse_years(match.group(0))
        except ParseError:
            continue
        result.set("work_experience_years", years)
        return
    if bare:
        if re.search(r"less than a year|under a year|唔夠一年|不到一年|少過一年|少于一年|"
                     r"冇經驗|没有经验|沒有經驗|none", clause):
            result.set("work_experience_years", 0.0)
            return
        number = _number(clause)
        if number is not None and number <= 80:
            result.set("work_experience_years", number)


def _graduation(clause: str, profile_field: str, today: dt.date, result: Extraction, relative: bool) -> None:
    match = _DATE.search(clause)
    if match:
        try:
            result.set(profile_field, _as_date(parse_date(match.group("d")), profile_field, today).isoformat())
            return
        except ParseError:
            pass
    if not relative:
        return
    if _LAST_YEAR.search(clause):
        year = today.year - 1
    elif _THIS_YEAR.search(clause):
        year = today.year
    else:
        ago = re.search(r"(\d+|[一二兩两三四五六七八九十]+)\s*(?:years?|yrs?|年)\s*(?:ago|前|之前|以前)", clause)
        if not ago:
            return
        try:
            year = today.year - int(_to_int(ago.group(1)))
        except ParseError:
            return
    result.set(profile_field, _as_date(PartialDate(year), profile_field, today).isoformat())


def _to_int(token: str) -> int:
    return int(token) if token.isdigit() else parse_chinese_number(token)


def _as_date(date: PartialDate, profile_field: str, today: dt.date) -> dt.date:
    """The cautious day for a partly given date, never after today.

    TTPS counts graduation by year and limits experience to the time since graduation, so the latest
    possible day is the cautious one; IANG's six months run from graduation, so there the earliest is.
    """
    day = date.earliest() if profile_field == "hk_degree.graduation_date" else date.latest()
    return min(day, today)


def _degree(clause: str, requested: str | None, result: Extraction) -> None:
    if not _DEGREE_WORDS.search(clause):
        return
    try:
        level = parse_degree(clause)
    except ParseError:
        return
    result.set("hk_degree.level" if requested == "hk_degree.level" else "degree", level)


@functools.lru_cache(maxsize=1)
def _university_aliases() -> tuple[tuple[str, str, bool], ...]:
    """(normalised alias, text to match, is CJK) for every name and abbreviation on our list, longest first."""
    aliases: dict[str, tuple[str, bool]] = {}
    for university in default_matcher().universities:
        names = [n for names in university.names.values() for n in names] + list(university.abbreviations)
        for name in names:
            key = normalise(name)
            cjk = bool(_CJK.search(key))
            if key and (len(key) >= 2 if cjk else len(key) >= 3):
                aliases.setdefault(key, (name, cjk))
    return tuple(sorted(((k, n, c) for k, (n, c) in aliases.items()), key=lambda a: -len(a[0])))


def _find_alias(text: str) -> str | None:
    key = normalise(text)
    for alias, name, cjk in _university_aliases():
        if cjk:
            if alias in key.replace(" ", ""):
                return name
        elif re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", key):
            return name
    return None


def _university(clause: str, requested: str | None, result: Extraction, whole_answer: bool = False) -> None:
    if requested == "hk_degree.level" and not whole_answer:
        return
    candidate = _find_alias(clause)
    if candidate is None:
        phrase = (_UNIVERSITY_PHRASE_CJK if _CJK.search(clause) else _UNIVERSITY_PHRASE_LATIN).search(clause)
        if phrase:
            candidate = re.sub(r"^(?:the|a|an|from|at|in)\s+", "", phrase.group(1).strip())
            candidate = re.sub(r"^(?:我|喺|在|係|是|本科|碩士|硕士|博士|讀|读)+", "", candidate)
    if candidate is None and whole_answer:
        candidate = re.sub(r"^(?:i (?:studied|graduated|was) (?:at|from|in)|it'?s|it was|from|at|我喺|我在|喺|在)\s*",
                           "", clause).strip(" .。")
        candidate = re.sub(r"(?:讀嘅|读的|畢業|毕业|讀|读)$", "", candidate).strip()
        if not candidate or _DEGREE_WORDS.fullmatch(candidate):
            return
    if candidate is None:
        return
    match = default_matcher().match(candidate)
    if match.status is MatchStatus.FOUND and match.university is not None:
        result.set("university", match.university.name())
    elif match.status is MatchStatus.AMBIGUOUS:
        names = tuple(u.name() for u in match.candidates)
        result.notices.append(Notice("university_ambiguous", {"university": candidate}, names))
    else:
        result.set("university", candidate)
        result.notices.append(Notice("university_not_found", {"university": candidate}))


def _age(clause: str, today: dt.date, result: Extraction) -> None:
    born = _BORN.search(clause)
    if born:
        year = int(born.group("y") or born.group("y2"))
        if 0 < today.year - year <= MAX_AGE:
            result.set("age", today.year - year)
        return
    match = _AGE.search(clause)
    if not match:
        return
    token = match.group("a") or match.group("b") or match.group("c")
    try:
        age = _to_int(token)
    except (ParseError, ValueError):
        return
    if 0 < age <= MAX_AGE:
        result.set("age", age)


def _mainland(clause: str, result: Extraction) -> None:
    if _MAINLAND_NO.search(clause):
        result.set("mainland_chinese_resident", NO)
    elif _MAINLAND_YES.search(clause):
        result.set("mainland_chinese_resident", YES)


@functools.lru_cache(maxsize=1)
def _country_words() -> tuple[tuple[str, str, bool], ...]:
    """(word, ISO code, is CJK) for every country name and word in the texts file, longest first."""
    from talentbot.core.eligibility_chat.texts import load_texts

    words: dict[str, str] = {}
    for code, entry in (load_texts().data.get("countries") or {}).items():
        for word in [entry.get("en"), entry.get("zh-Hant"), entry.get("zh-Hans"), *(entry.get("words") or [])]:
            if word:
                words.setdefault(str(word).lower(), str(code))
    return tuple(sorted(((w, c, bool(_CJK.search(w))) for w, c in words.items()), key=lambda t: -len(t[0])))


def _nationality(clause: str, requested: str | None, result: Extraction) -> None:
    if requested != "nationality" and not _NATIONALITY_CUE.search(clause):
        return
    if requested != "nationality" and re.search(r"universit|college|大學|大学|studied|讀|读|work in|live in|喺|在",
                                                 clause):
        return
    for word, code, cjk in _country_words():
        found = word in clause if cjk else re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", clause)
        if found:
            result.set("nationality", code)
            return


def _campus(clause: str, requested: str | None, result: Extraction) -> None:
    if requested != "hk_degree.campus" and not _CAMPUS_CUE.search(clause):
        return
    if _CAMPUS_GBA.search(clause):
        result.set("hk_degree.campus", "gba")
    elif _CAMPUS_HK.search(clause) or (requested == "hk_degree.campus" and re.search(r"hong kong|香港|\bhk\b", clause)):
        result.set("hk_degree.campus", "hong_kong")


def _technology_area(clause: str, result: Extraction) -> bool:
    areas: Mapping[str, list[str]] = load_rulebook().scheme("TechTAS")["technology_areas"]
    for key, names in areas.items():
        for name in [key.replace("_", " "), *names]:
            word = str(name).lower()
            found = word in clause if _CJK.search(word) else re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", clause)
            if found:
                result.set("job_offer.technology_area", technology_area_key(word, areas) or key)
                return True
    return False


def scheme_entities(entities: Iterable[Mapping[str, Any]]) -> list[str]:
    """Scheme entity values of an NLU result, in order, without repeats."""
    return list(dict.fromkeys(str(e["value"]) for e in entities if e.get("entity") == "scheme" and e.get("value")))
