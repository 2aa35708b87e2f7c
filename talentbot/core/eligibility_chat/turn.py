"""One turn of the eligibility check: what a user message changes, what to say, and what to ask next."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from talentbot.core.eligibility import Evaluation, ProfileError, evaluate, next_questions, parse_profile
from talentbot.core.eligibility_chat.commands import Command, detect_command, is_correction
from talentbot.core.eligibility_chat.extract import Extraction, extract
from talentbot.core.eligibility_chat.render import Message, render_facts, render_settled, scheme_list
from talentbot.core.eligibility_chat.slots import (
    CANDIDATES_SLOT,
    FIELD_SLOTS,
    FORM_SLOTS,
    NONE,
    SCOPE_SLOT,
    SKIPPED,
    SLOT_FIELDS,
    TURN_SLOT,
    is_known,
    profile_data,
    scope_to_slot,
    slots_to_ask,
)
from talentbot.core.eligibility_chat.texts import Texts

FORM_INTENTS = frozenset({"inform", "affirm", "deny", "check_eligibility", "nlu_fallback", "out_of_scope"})
"""Messages the form reads as answers. Others (a question about a scheme, thanks, a language change) are
left to the rules, which answer them and then return to the form."""

NO_MEANS = {"degree": "none", "job_offer.technology_area": NONE, "work_experience_years": 0.0}
"""Questions where a plain "no" is an answer; elsewhere (income, university...) "no" ends the check."""


class Outcome(str, enum.Enum):
    """What the form did with a message (stored in TURN_SLOT)."""

    STARTED = "started"
    FILLED = "filled"
    CORRECTED = "corrected"
    SKIPPED = "skipped"
    UNCLEAR = "unclear"
    STOPPED = "stopped"
    LEFT = "left"  # the check was put aside: its first question was met by an unrelated question
    IGNORED = "ignored"  # not for the form: nothing is set, so Rasa lets the rules answer


@dataclass(frozen=True)
class UserTurn:
    """The latest user message as the form sees it."""

    text: str
    intent: str | None = None
    schemes: tuple[str, ...] = ()  # scheme entities
    answer: str | None = None  # a button's elig_answer value
    rewritten_from: str | None = None  # the classifier's intent when the question bank took the message as a question


@dataclass(frozen=True)
class FormState:
    """The form's slots before the message."""

    values: Mapping[str, Any]  # form slot -> value
    requested: str | None = None  # the slot asked last; None when the form is being started
    scope: str | None = None  # SCOPE_SLOT
    candidates: Sequence[str] | None = None  # CANDIDATES_SLOT
    starting: bool = False  # the message activated the form
    resuming: bool = False  # the form runs again after the rules answered the message (it was not for the form)
    last_outcome: str | None = None  # TURN_SLOT: what the form did with the message before


@dataclass
class Turn:
    """The form's answer to one message."""

    outcome: Outcome
    updates: dict[str, Any] = field(default_factory=dict)  # slot -> new value
    messages: list[Message] = field(default_factory=list)
    next_slot: str | None = None  # the slot to ask next; None: the check is complete


def take_turn(message: UserTurn, state: FormState, language: str, texts: Texts, today: dt.date) -> Turn:
    """Read one message into the form: fill, correct or skip fields, stop, or leave it to the rules."""
    values = dict(state.values)
    updates: dict[str, Any] = {}
    scope = state.scope
    if state.starting:
        for slot in FORM_SLOTS:
            if values.get(slot) == SKIPPED:  # a new check asks skipped questions again
                values[slot] = updates[slot] = None
        scope = scope_to_slot(message.schemes)
        updates[SCOPE_SLOT] = scope
        updates[CANDIDATES_SLOT] = None
    elif message.intent == "check_eligibility" and message.schemes:
        scope = updates[SCOPE_SLOT] = scope_to_slot(message.schemes)
    requested = None if state.starting or not state.requested else SLOT_FIELDS.get(state.requested)

    command = Command.SKIP if message.answer == SKIPPED else detect_command(message.text)
    if command is Command.STOP:
        updates.update({TURN_SLOT: Outcome.STOPPED.value, CANDIDATES_SLOT: None})
        return Turn(Outcome.STOPPED, updates)
    if not state.starting and command is None and not _for_the_form(message, requested, today):
        if state.resuming and state.last_outcome == Outcome.STARTED.value:
            # The check's first question was met by another question, now answered: the check was most likely
            # started by mistake, so it is left instead of asked again (the user can start it any time).
            return Turn(Outcome.LEFT, {TURN_SLOT: Outcome.LEFT.value, CANDIDATES_SLOT: None})
        return Turn(Outcome.IGNORED, {}, next_slot=_next_slot(values, scope, state.candidates, today))

    messages: list[Message] = []
    outcome = Outcome.STARTED if state.starting else Outcome.FILLED
    candidates = state.candidates
    found = Extraction()
    if command is Command.SKIP:
        if requested:
            updates[FIELD_SLOTS[requested]] = values[FIELD_SLOTS[requested]] = SKIPPED
        updates[CANDIDATES_SLOT] = candidates = None
        messages.append(Message(texts.get("messages", "skipped", language)))
        outcome = Outcome.SKIPPED
    else:
        found = extract(message.text, requested, intent=message.intent, answer=message.answer, today=today)
        if not found.values and not found.notices and requested and message.intent == "deny":
            if requested not in NO_MEANS:
                updates.update({TURN_SLOT: Outcome.STOPPED.value, CANDIDATES_SLOT: None})
                return Turn(Outcome.STOPPED, updates)
            found.set(requested, NO_MEANS[requested])
        corrected = {s: v for s, v in found.values.items() if is_known(values.get(s)) and values[s] != v}
        trial = {**values, **found.values}
        if not _valid(trial, today):
            found = Extraction()
        candidates = _notices(found, language, texts, messages, candidates)
        updates[CANDIDATES_SLOT] = candidates
        values.update(found.values)
        updates.update(found.values)
        if corrected or (found.values and is_correction(message.text) and not state.starting):
            messages.insert(0, Message(texts.get("messages", "corrected", language,
                                                 facts=render_facts(found.values, language, texts))))
            outcome = Outcome.CORRECTED
        elif len(found.values) >= 2:
            messages.insert(0, Message(texts.get("messages", "noted", language,
                                                 facts=render_facts(found.values, language, texts))))
        elif not found.values and not found.notices and not state.starting:
            messages.append(Message(texts.get("messages", "unclear", language)))
            outcome = Outcome.UNCLEAR
    next_slot = _next_slot(values, scope, candidates, today)
    if state.starting and next_slot is not None:
        start = (("start_scoped", {"schemes": scheme_list(scope.split(","), language, texts)}) if scope
                 else ("start", {}))
        messages.insert(0, Message(texts.get("messages", start[0], language, **start[1])))
        if found.values:  # facts in the first message may settle some schemes already: say so before asking
            settled = [r for r in evaluate_slots(values, scope, today).results if r.settled]
            if settled:
                messages.append(render_settled(settled, language, texts))
    updates[TURN_SLOT] = outcome.value
    return Turn(outcome, updates, messages, next_slot)


def _notices(
    found: Extraction, language: str, texts: Texts, messages: list[Message], candidates: Sequence[str] | None
) -> list[str] | None:
    """Messages for answers that could not be taken as given; the university candidates to ask about."""
    pending = None if FIELD_SLOTS["university"] in found.values else (list(candidates) if candidates else None)
    for notice in found.notices:
        if notice.kind == "foreign_currency":
            messages.append(Message(texts.get("messages", "foreign_currency", language, **notice.params)))
        elif notice.kind == "university_ambiguous":
            messages.append(Message(texts.get("messages", "university_which", language, **notice.params)))
            pending = list(notice.candidates)
        elif notice.kind == "university_not_found":
            messages.append(Message(texts.get("messages", "university_not_found", language,
                                              url=texts.official_university_list, **notice.params)))
    return pending


def _for_the_form(message: UserTurn, requested: str | None, today: dt.date) -> bool:
    """Whether the form reads the message: an answer, or a question carrying the answer ("master's, is that
    enough?": taken for an answer by the classifier, for a question by the bank) is read; other questions are
    left to the rules."""
    if message.intent in FORM_INTENTS:
        return True
    return message.rewritten_from == "inform" and bool(
        extract(message.text, requested, intent="inform", answer=message.answer, today=today).values)


def _valid(values: Mapping[str, Any], today: dt.date) -> bool:
    try:
        parse_profile(profile_data(values, today))
    except ProfileError:
        return False
    return True


def _next_slot(values: Mapping[str, Any], scope: str | None, candidates: Sequence[str] | None,
               today: dt.date) -> str | None:
    """The slot to ask next: the most decisive unknown field of the schemes in scope (engine.next_questions)."""
    profile = parse_profile(profile_data(values, today))
    schemes = scope.split(",") if scope else None
    slots = slots_to_ask(next_questions(profile, schemes), values)
    university = FIELD_SLOTS["university"]
    if candidates and university in slots:
        return university
    return slots[0] if slots else None


def evaluate_slots(values: Mapping[str, Any], scope: str | None, today: dt.date) -> Evaluation:
    """The Evaluation for the form's slots and scope (what the result action shows)."""
    return evaluate(parse_profile(profile_data(values, today)), scope.split(",") if scope else None)
