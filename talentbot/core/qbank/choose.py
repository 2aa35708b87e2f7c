"""Which entry answers the question: the ranker's candidates weighed by the scheme the user means.

A close call between different questions is answered with the best guess and the others offered after it: asking
first made the user answer a question before getting any fact, and the guess is usually right (on our evaluation
set 6 of 10 such turns). Only the same question of several schemes, with no scheme known, is asked first: there the
guess would give another scheme's figures.

Pure: candidates, the bank and the conversation's context in; a decision out. The ranker compares what is asked
with scheme names cut out; here the scheme decides between entries that ask the same thing of different schemes
("how long does it take?" after talking about GEP is GEP's processing time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from talentbot.core.qbank.index import Candidate
from talentbot.core.qbank.model import Bank, QuestionEntry

#: Below this cosine to its nearest paraphrase the best entry is not close enough: the intent-level answer stays.
MIN_SIMILARITY = 0.12
#: A runner-up whose weighed score is within this ratio of the best is "close": ask which one was meant...
CLOSE_RATIO = 0.98
#: ... unless the best entry's wording is this close to the message (then it is plainly that question).
SURE_SIMILARITY = 0.80
#: A message worded (almost) exactly like one of an entry's questions is that question, whatever the classifier
#: prefers (it weighs shared words such as 「要咩條件」 over the one word that differs, 「B類」).
EXACT_SIMILARITY = 0.95
#: Of entries too close to call on the classifier's score, one whose wording is this much closer to the message (cosine
#: to its nearest paraphrase) than the others' is answered instead of asking.
CLEAR_SIMILARITY_LEAD = 0.05
#: A "since when?" that is this close to an entry other than the one just answered asks that entry's question.
OWN_QUESTION_SIMILARITY = 0.6
#: At most this many choices in a "Did you mean".
MAX_CHOICES = 3
#: With no scheme named or remembered, the same question for other schemes ("ttps.first_stay", "gep.first_stay")
#: within this ratio of the best is offered instead of guessing the scheme.
SIBLING_RATIO = 0.8
#: A follow-up ("and since when?") most likely asks about what was just answered, or a question next to it.
PREVIOUS_BOOST = 1.5
RELATED_BOOST = 1.2


@dataclass(frozen=True)
class Context:
    """What the conversation says about the scheme meant."""

    named: tuple[str, ...] = ()  # schemes named in this message
    remembered: str | None = None  # the scheme talked about earlier (slot `scheme`)
    previous: QuestionEntry | None = None  # the entry answered last (slot `answer_question`)


@dataclass(frozen=True)
class Decision:
    """`answer` an entry (with `alternatives` to offer after it on a close call), or `choices` to offer ("Did you
    mean"); neither when nothing is close."""

    answer: QuestionEntry | None = None
    choices: tuple[QuestionEntry, ...] = ()
    alternatives: tuple[QuestionEntry, ...] = ()
    scores: tuple[tuple[str, float], ...] = ()  # weighed scores, best first (for logs and the bench)


def scheme_fit(entry: QuestionEntry, context: Context, own: frozenset[str] = frozenset()) -> float:
    """How well the entry's schemes fit the scheme the user means (a factor on the text score). `own`: the
    questions (`<what>` of the ids) the named schemes have entries of their own for."""
    schemes = set(entry.schemes)
    if context.named:
        if schemes & set(context.named):
            return 1.0
        if schemes:
            return 0.45
        # A general entry: second choice where the named scheme has its own entry for the same question
        # ("extension.processing_time" for "TTPS processing time"), a good one where it has none ("parents").
        return 0.7 if _what(entry) in own else 0.85
    if context.remembered:
        if context.remembered in schemes:
            return 1.0
        return 0.95 if not schemes else 0.8
    return 1.0 if not schemes else 0.92


def topic_fit(entry: QuestionEntry, context: Context) -> float:
    """A boost for the entry answered last and the entries it names as related."""
    if context.previous is None:
        return 1.0
    if entry.id == context.previous.id:
        return PREVIOUS_BOOST
    return RELATED_BOOST if entry.id in context.previous.related else 1.0


def weigh(bank: Bank, candidates: Sequence[Candidate], context: Context) -> list[tuple[QuestionEntry, float]]:
    """Candidates still in the bank, with the scheme and topic fit applied, best first."""
    own = (frozenset(_what(e) for e in bank.entries if set(e.schemes) & set(context.named)) if context.named
           else frozenset())
    weighed = []
    for candidate in candidates:
        entry = bank.get(candidate.id)
        if entry is not None:
            weighed.append((entry, candidate.score * scheme_fit(entry, context, own) * topic_fit(entry, context)))
    weighed.sort(key=lambda pair: -pair[1])
    return weighed


def decide(bank: Bank, candidates: Sequence[Candidate], context: Context) -> Decision:
    """Answer the best entry (offering the others when two or three are too close to call); ask which scheme when
    the same question of several schemes is close and none is known; nothing when none is close."""
    weighed = weigh(bank, candidates, context)
    scores = tuple((e.id, round(s, 4)) for e, s in weighed)
    similarity = {c.id: c.similarity for c in candidates}
    exact = [e for e, _ in weighed if similarity[e.id] >= EXACT_SIMILARITY and scheme_fit(e, context) == 1.0]
    if exact:
        return Decision(answer=max(exact, key=lambda e: similarity[e.id]), scores=scores)
    if not weighed or similarity[weighed[0][0].id] < MIN_SIMILARITY:
        return Decision(scores=scores)
    best_entry, best = weighed[0]
    if not context.named and not context.remembered:
        siblings = [e for e, s in weighed[1:] if s >= best * SIBLING_RATIO and _siblings(e, best_entry)]
        general = [e for e, s in weighed[1:MAX_CHOICES + 1] if s >= best * SIBLING_RATIO and not e.schemes]
        if siblings and general:  # a close entry for every scheme answers without asking which one
            return Decision(answer=general[0], scores=scores)
        if siblings:
            return Decision(choices=(best_entry, *siblings[:MAX_CHOICES - 1]), scores=scores)
    close = [e for e, s in weighed[1:MAX_CHOICES] if s >= best * CLOSE_RATIO and not _same_answer(e, best_entry)]
    if close and similarity[best_entry.id] < SURE_SIMILARITY:
        nearest = sorted((best_entry, *close), key=lambda e: -similarity[e.id])
        if similarity[nearest[0].id] - similarity[nearest[1].id] >= CLEAR_SIMILARITY_LEAD:
            return Decision(answer=nearest[0], scores=scores)
        return Decision(answer=best_entry, alternatives=tuple(close), scores=scores)
    return Decision(answer=best_entry, scores=scores)


def entries_of(bank: Bank, schemes: Sequence[str]) -> tuple[str, ...]:
    """The entries about any of these schemes (ids): a message naming the scheme ranks them whatever the others."""
    wanted = set(schemes)
    return tuple(e.id for e in bank.entries if wanted & set(e.schemes)) if wanted else ()


def asks_about_previous(previous: QuestionEntry | None, candidates: Sequence[Candidate],
                        named: Sequence[str] = ()) -> bool:
    """Whether a "since when?" message asks about the entry just answered: no other scheme named, and no other
    entry worded (almost) like it ("When was TTPS launched?" after a quota answer has an entry of its own)."""
    if previous is None:
        return False
    if named and not set(named) & set(previous.schemes):
        return False
    return not any(c.id != previous.id and c.similarity >= OWN_QUESTION_SIMILARITY for c in candidates)


def _siblings(a: QuestionEntry, b: QuestionEntry) -> bool:
    """The same question asked of two different schemes (ids "<scheme>.<what>" with the same <what>)."""
    return (len(a.schemes) == 1 and len(b.schemes) == 1 and a.schemes != b.schemes
            and _what(a) == _what(b))


def _what(entry: QuestionEntry) -> str:
    """What an entry asks, whatever it asks it of: "processing_time" for "ttps.processing_time"."""
    return entry.id.split(".", 1)[-1]


def _same_answer(a: QuestionEntry, b: QuestionEntry) -> bool:
    return a.answer == b.answer
