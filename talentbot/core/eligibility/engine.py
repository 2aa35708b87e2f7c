"""Evaluates a profile against every scheme (interfaces §3) and says which questions are still worth asking."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from talentbot.core.eligibility.profile import Profile
from talentbot.core.eligibility.result import SCHEMES, Evaluation, SchemeResult
from talentbot.core.eligibility.ruledata import RuleBook, load_rulebook
from talentbot.core.eligibility.schemes import employment, iang, qmas, techtas, ttps
from talentbot.core.eligibility.schemes.common import FIELD_PRIORITY, Context
from talentbot.core.eligibility.universities import matcher_for

Assessor = Callable[[Profile, Context], SchemeResult]

ASSESSORS: dict[str, Assessor] = {
    "TTPS": ttps.assess,
    "GEP": employment.assess_gep,
    "ASMTP": employment.assess_asmtp,
    "QMAS": qmas.assess,
    "TechTAS": techtas.assess,
    "IANG": iang.assess,
}


def _selected(schemes: Iterable[str] | None) -> tuple[str, ...]:
    if schemes is None:
        return SCHEMES
    wanted = set(schemes)
    unknown = wanted - set(SCHEMES)
    if unknown:
        raise ValueError(f"unknown scheme {sorted(unknown)[0]!r}; schemes: {', '.join(SCHEMES)}")
    return tuple(s for s in SCHEMES if s in wanted)


def evaluate(profile: Profile, schemes: Iterable[str] | None = None, book: RuleBook | None = None) -> Evaluation:
    """Every scheme's result (or only `schemes`, still in the order TTPS, GEP, ASMTP, QMAS, TechTAS, IANG),
    using the rules in force on `profile.as_of`."""
    book = book or load_rulebook()
    ctx = Context(book=book, matcher=matcher_for(book), day=profile.as_of)
    results = tuple(ASSESSORS[name](profile, ctx) for name in _selected(schemes))
    return Evaluation(as_of=profile.as_of, rules_version=book.rules_version(profile.as_of), results=results)


def _given(profile: Profile, field: str) -> bool:
    """Whether the profile already answers a field (asking again would not help)."""
    if field == "job_offer":
        return profile.job_offer_given
    if field == "hk_degree":
        return profile.hk_degree_given
    if field.startswith("job_offer."):
        offer = profile.job_offer
        if offer is None:
            return profile.job_offer_given
        return offer.technology_area_given if field.endswith("technology_area") else (
            getattr(offer, field.split(".", 1)[1]) is not None)
    if field.startswith("hk_degree."):
        degree = profile.hk_degree
        return degree is None and profile.hk_degree_given or (
            degree is not None and getattr(degree, field.split(".", 1)[1]) is not None)
    return getattr(profile, field, None) is not None


def next_questions(profile: Profile, schemes: Sequence[str] | None = None) -> list[str]:
    """Profile fields still needed to settle the undecided schemes, most decisive first.

    A field needed by more undecided schemes comes first; ties follow FIELD_PRIORITY. Fields the profile
    already answers are left out (e.g. a university not in our partial copy: asking again changes nothing).
    An empty list means every requested scheme is settled, so the form can stop asking.
    """
    evaluation = evaluate(profile, schemes)
    counts: dict[str, int] = {}
    for result in evaluation.results:
        if result.status != "unknown":
            continue
        for field in result.missing:
            if not _given(profile, field):
                counts[field] = counts.get(field, 0) + 1
    rank = {name: i for i, name in enumerate(FIELD_PRIORITY)}
    return sorted(counts, key=lambda f: (-counts[f], rank.get(f, len(rank))))
