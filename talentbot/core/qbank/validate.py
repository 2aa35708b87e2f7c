"""Checks an editor's question bank: every language, a source and date, chat-sized answers, no duplicate
questions, and no two entries about the same schemes whose questions cannot be told apart."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from typing import Iterable

import numpy as np

from talentbot.core.qbank.index import Index, documents_from
from talentbot.core.qbank.model import ANSWER_INTENTS, LANGUAGES, SCHEMES, TOPICS, Bank, QuestionEntry
from talentbot.core.qbank.text import Masker, fold_phrase

MIN_QUESTIONS = 4
MAX_ANSWER = {"en": 500, "zh-Hant": 250, "zh-Hans": 250}
MAX_MORE = {"en": 1200, "zh-Hant": 600, "zh-Hans": 600}
MAX_LABEL = {"en": 70, "zh-Hant": 30, "zh-Hans": 30}
MAX_CHANGE_NOTE = {"en": 200, "zh-Hant": 100, "zh-Hans": 100}
#: Two entries clash when most of one's questions are closer to the other (left-one-out nearest neighbour)...
CLASH_SHARE = 0.5
#: ... or when a question of one is nearly the same text as a question of the other.
NEAR_DUPLICATE = 0.95
_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
#: What an answer must say where the reference marks a fact UNVERIFIED: to confirm it with the office that knows
#: (../shared/reference/README.md). A verb, and an office named or linked (any gov.hk page).
CONFIRM_VERBS = {
    "en": ("confirm", "check", "ask"),
    "zh-Hant": ("確認", "查詢", "查核", "問"),
    "zh-Hans": ("确认", "查询", "查核", "问"),
}
OFFICES = {
    "en": ("gov.hk", "Immigration Department", "ImmD", "Talent Engage", "Inland Revenue", "IRD", "MPF",
           "Education Bureau", "EDB", "Hospital Authority", "Department of Health", "Transport Department",
           "Labour Department", "Housing", "Rating and Valuation", "Estate Agents Authority", "HKMA", "bank"),
    "zh-Hant": ("gov.hk", "入境事務處", "入境處", "人才服務辦公室", "稅務局", "積金局", "強積金", "教育局",
                "醫院管理局", "醫管局", "衞生署", "衛生署", "運輸署", "勞工處", "房屋", "差餉物業估價署",
                "地產代理監管局", "金管局", "銀行"),
    "zh-Hans": ("gov.hk", "入境事务处", "入境处", "人才服务办公室", "税务局", "积金局", "强积金", "教育局",
                "医院管理局", "医管局", "卫生署", "运输署", "劳工处", "房屋", "差饷物业估价署", "地产代理监管局",
                "金管局", "银行"),
}


def says_to_confirm(text: str, language: str) -> bool:
    """Whether `text` tells the user to confirm with an office (named or linked)."""
    folded = text.casefold()
    return any(v.casefold() in folded for v in CONFIRM_VERBS[language]) and any(
        o.casefold() in folded for o in OFFICES[language])


def validate(bank: Bank, mask: Masker | None = None, today: dt.date | None = None,
             check_clashes: bool = True) -> list[str]:
    """Every problem found, each naming the entry; empty when the bank may be served. The clash check (a few
    seconds: every question ranked against the rest) is for `talentbot validate`; a server starting from a bank
    that passed it can skip it."""
    today = today or dt.date.today()
    problems: list[str] = []
    counts = Counter(e.id for e in bank.entries)
    problems += [f"{i}: id used {n} times" for i, n in counts.items() if n > 1]
    for entry in bank.entries:
        problems += [f"{entry.file}: {entry.id}: {p}" for p in _entry_problems(entry, bank, today)]
    problems += _duplicate_questions(bank)
    if check_clashes:
        problems += clashes(bank, mask if mask is not None else default_masker())
    return problems


def default_masker() -> Masker:
    from talentbot.core import paths
    from talentbot.core.qbank.schemes import gazetteer_from_lookup, masker

    return masker(gazetteer_from_lookup(paths.NLU_DATA / "lookups" / "scheme.yml"))


def _entry_problems(entry: QuestionEntry, bank: Bank, today: dt.date) -> Iterable[str]:
    if not _ID.fullmatch(entry.id):
        yield "id must be lowercase <area>.<what> ([a-z0-9_.])"
    if entry.intent not in ANSWER_INTENTS:
        yield f"unknown intent {entry.intent!r}"
    yield from (f"unknown scheme {s!r}" for s in entry.schemes if s not in SCHEMES)
    if entry.topic is not None and entry.topic not in TOPICS:
        yield f"unknown topic {entry.topic!r}"
    yield from (f"related entry {r!r} does not exist" for r in entry.related if bank.get(r) is None)
    if not entry.source:
        yield "no source"
    yield from (f"source {s!r} is not an https URL" for s in entry.source if not s.startswith("https://"))
    if entry.as_of > today:
        yield f"as_of {entry.as_of} is in the future"
    for change in entry.changed:
        if not change.source:
            yield f"change of {change.date} has no source"
        if change.date > today:
            yield f"change of {change.date} is in the future: say it in the answer until it takes effect"
    for lang in LANGUAGES:
        questions = entry.questions.get(lang) or ()
        if len(questions) < MIN_QUESTIONS:
            yield f"{len(questions)} {lang} question(s); at least {MIN_QUESTIONS} needed"
        elif len(questions[0]) > MAX_LABEL[lang]:
            yield f"first {lang} question (the button label) longer than {MAX_LABEL[lang]} characters"
        answer = entry.answer.get(lang, "").strip()
        if not answer:
            yield f"no {lang} answer"
        elif len(answer) > MAX_ANSWER[lang]:
            yield f"{lang} answer has {len(answer)} characters; at most {MAX_ANSWER[lang]} (move detail to `more`)"
        if entry.more is not None:
            more = entry.more.get(lang, "").strip()
            if not more:
                yield f"no {lang} `more` text"
            elif len(more) > MAX_MORE[lang]:
                yield f"{lang} `more` has {len(more)} characters; at most {MAX_MORE[lang]}"
        for change in entry.changed:
            note = change.note.get(lang, "").strip()
            if not note:
                yield f"change of {change.date} has no {lang} note"
            elif len(note) > MAX_CHANGE_NOTE[lang]:
                yield (f"{lang} note of the change of {change.date} has {len(note)} characters; "
                       f"at most {MAX_CHANGE_NOTE[lang]}")
        if entry.unverified and answer:
            said = answer + " " + ((entry.more or {}).get(lang) or "")
            if not says_to_confirm(said, lang):
                yield f"marks facts unverified but the {lang} text does not ask to confirm with the authority"


def _duplicate_questions(bank: Bank) -> list[str]:
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in bank.entries:
        for questions in entry.questions.values():
            for question in questions:
                owners[fold_phrase(question)].add(entry.id)
    return [
        f"question {key!r} is given by {', '.join(sorted(ids))}" for key, ids in owners.items() if len(ids) > 1 and key
    ]


def comparable(a: QuestionEntry, b: QuestionEntry) -> bool:
    """Whether only the question's words can tell a and b apart (the scheme named cannot)."""
    sa, sb = set(a.schemes), set(b.schemes)
    return sa == sb or bool(sa & sb)


def clashes(bank: Bank, mask: Masker | None) -> list[str]:
    """Pairs of comparable entries whose questions are too alike: most of one's questions (each left out of the
    index in turn) are nearer the other, or a question of one is nearly a question of the other."""
    entries = [e for e in bank.entries if any(e.questions.values())]
    if len(entries) < 2:
        return []
    index = Index(documents_from(entries), mask)
    matrix, owners = index.matrix, index.owners
    if matrix is None:
        return []
    alike = np.array([[comparable(a, b) and a is not b for b in entries] for a in entries])
    nearer: Counter[tuple[int, int]] = Counter()
    duplicates: set[tuple[int, int]] = set()
    for start in range(0, matrix.shape[0], 512):
        block = (matrix[start:start + 512] @ matrix.T).toarray()
        rows = np.arange(start, start + block.shape[0])
        block[rows - start, rows] = -1.0  # each question left out of its own entry
        best = index.best_per_entry(block)
        own = owners[rows]
        own_best = best[rows - start, own]
        beaten = (best > own_best[:, None]) & alike[own]
        for offset in np.flatnonzero(beaten.any(axis=1)):
            nearer[(int(own[offset]), int(np.argmax(np.where(beaten[offset], best[offset], -2.0))))] += 1
        for offset, other in zip(*np.nonzero((best >= NEAR_DUPLICATE) & alike[own]), strict=True):
            duplicates.add((min(int(own[offset]), int(other)), max(int(own[offset]), int(other))))
    asked = Counter(owners.tolist())
    problems = [
        f"{entries[own].id}: {n} of its {asked[own]} questions are nearer {entries[other].id}; "
        "reword them or merge the entries"
        for (own, other), n in sorted(nearer.items()) if n / asked[own] > CLASH_SHARE
    ]
    problems += [
        f"{entries[a].id} and {entries[b].id}: a question of one is nearly a question of the other"
        for a, b in sorted(duplicates)
    ]
    return problems
