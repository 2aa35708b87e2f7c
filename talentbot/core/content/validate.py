"""Checks a content editor's files: every language, a source, an as-of date, chat-sized, full coverage."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from talentbot.core.content.limits import MAX_MORE_CHARS, MAX_SUMMARY_CHARS
from talentbot.core.content.model import (
    ANSWER_INTENTS,
    ANY_SCHEME,
    ASK_CONTACT_OFFICE,
    ASK_LIVING_INFO,
    ASK_SCHEME_INFO,
    FOLLOW_UP_INTENTS,
    LANGUAGES,
    SCHEMES,
    TOPICS,
    Content,
    Entry,
    Localized,
)

#: Labels and templates render.py needs from ui.yml, each in every language.
REQUIRED_PHRASES: tuple[str, ...] = (
    "source", "as_of", "more_button", "changes", "scheme_heading",
    "office_confirmed", "office_unverified", "office_covers", "office_website",
    "did_you_mean", "did_you_mean_instead", "no_changes", "check_offer_button",
)
#: What an answer must say where the reference marks a fact UNVERIFIED: tell the user to confirm it
#: with the authority (../shared/reference/README.md), naming it. Each pair: (verb, authorities).
CONFIRM_WORDING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("confirm",), ("Immigration Department", "hkengage.gov.hk")),
    "zh-Hant": (("確認", "查詢"), ("入境事務處", "hkengage.gov.hk")),
    "zh-Hans": (("确认", "查询"), ("入境事务处", "hkengage.gov.hk")),
}
OFFICE_TEAMS = ("confirmed", "unverified")
OFFICE_REGIONS = ("mainland", "overseas")


def validate(content: Content) -> list[str]:
    """Every problem found, as sentences naming the entry; empty when the content may be served."""
    problems: list[str] = []
    keys = Counter([e.key for e in content.entries] + [o.key for o in content.offices])
    problems += [f"{key}: key used {n} times" for key, n in keys.items() if n > 1]
    for entry in content.entries:
        problems += [f"{entry.key}: {p}" for p in _entry_problems(entry)]
    problems += _office_problems(content)
    problems += _phrase_problems(content)
    problems += _coverage_problems(content)
    problems += _cue_problems(content)
    if sorted(content.scheme_menu) != sorted(SCHEMES):
        problems.append(f"scheme_menu must list each of {', '.join(SCHEMES)} once")
    return problems


def _cue_problems(content: Content) -> list[str]:
    """Cue lists, when given, must cover every language: a missing one would leave its speakers out."""
    problems = []
    for name, cues in (("overview_cues", content.overview_cues), ("more_cues", content.more_cues)):
        if cues:
            problems += [f"{name}: no cues for {lang}" for lang in LANGUAGES if not cues.get(lang)]
    return problems


def says_to_confirm(text: str, language: str) -> bool:
    """Whether `text` tells the user to confirm with an authority (the UNVERIFIED wording)."""
    verbs, authorities = CONFIRM_WORDING[language]
    return any(v in text for v in verbs) and any(a in text for a in authorities)


def _missing_languages(texts: Localized | None) -> list[str]:
    return [lang for lang in LANGUAGES if not (texts or {}).get(lang, "").strip()]


def _entry_problems(entry: Entry) -> Iterable[str]:
    if entry.intent not in ANSWER_INTENTS:
        yield f"unknown intent {entry.intent!r}"
    if entry.scheme not in (None, ANY_SCHEME, *SCHEMES):
        yield f"unknown scheme {entry.scheme!r}"
    if entry.topic not in (None, *TOPICS):
        yield f"unknown topic {entry.topic!r}"
    if entry.menu not in (None, "scheme", "topic"):
        yield f"unknown menu {entry.menu!r}"
    for part, texts in (("summary", entry.summary), ("more", entry.more), ("title", entry.title)):
        if part == "summary" or texts is not None:
            missing = _missing_languages(texts)
            if missing:
                yield f"{part} lacks {', '.join(missing)}"
    for change in entry.changed:
        if _missing_languages(change.note):
            yield f"change of {change.date} lacks {', '.join(_missing_languages(change.note))}"
    if entry.changed and entry.more is None:
        yield "has `changed` notes but no `more` part to show them with"
    if not entry.source:
        yield "has no source"
    yield from (f"source {s!r} is not a URL" for s in entry.source if not s.startswith("http"))
    for language in LANGUAGES:
        summary = entry.summary.get(language, "")
        if len(summary) > MAX_SUMMARY_CHARS[language]:
            yield (
                f"{language} summary has {len(summary)} characters (limit "
                f"{MAX_SUMMARY_CHARS[language]}): move the rest to `more`"
            )
        more = (entry.more or {}).get(language, "")
        if len(more) > MAX_MORE_CHARS[language]:
            yield f"{language} `more` has {len(more)} characters (limit {MAX_MORE_CHARS[language]})"
        if entry.unverified and not says_to_confirm(summary + "\n" + more, language):
            yield f"{language} states UNVERIFIED facts without telling the user to confirm them"


def _office_problems(content: Content) -> Iterable[str]:
    places: Counter[str] = Counter()
    for office in content.offices:
        if office.team not in OFFICE_TEAMS:
            yield f"{office.key}: team must be one of {OFFICE_TEAMS}"
        if office.region not in OFFICE_REGIONS:
            yield f"{office.key}: region must be one of {OFFICE_REGIONS}"
        if _missing_languages(office.name):
            yield f"{office.key}: name lacks {', '.join(_missing_languages(office.name))}"
        if office.covers is not None and _missing_languages(office.covers):
            yield f"{office.key}: covers lacks {', '.join(_missing_languages(office.covers))}"
        if not office.source:
            yield f"{office.key}: has no source"
        places.update(p.casefold() for p in office.places)
    yield from (f"place {p!r} is listed under {n} offices" for p, n in places.items() if n > 1)


def _phrase_problems(content: Content) -> Iterable[str]:
    for name in REQUIRED_PHRASES:
        missing = _missing_languages(content.phrases.get(name))
        if missing:
            yield f"ui.yml: phrase {name!r} lacks {', '.join(missing)}"


def _coverage_problems(content: Content) -> Iterable[str]:
    """Every intent × entity value has an answer, so no question falls through to silence."""
    def has(intent: str, scheme: str | None = None, topic: str | None = None) -> bool:
        return any(
            e.intent == intent and e.topic == topic
            and (e.scheme == scheme or e.scheme == ANY_SCHEME)
            for e in content.entries
        )

    for intent in ANSWER_INTENTS:
        if not has(intent):
            yield f"no general answer for {intent}"
    for intent in (ASK_SCHEME_INFO, *FOLLOW_UP_INTENTS):
        yield from (f"no answer for {intent} × {s}" for s in SCHEMES if not has(intent, scheme=s))
    yield from (f"no answer for {ASK_LIVING_INFO} × {t}" for t in TOPICS if not has(ASK_LIVING_INFO, topic=t))
    if not content.offices:
        yield f"no offices for {ASK_CONTACT_OFFICE}"
