"""Which intent a message really has, once the question bank has had its say.

The intent classifier learnt topics; the bank knows questions. Where they disagree the bank wins only in clear
cases: a question the classifier could not place (nlu_fallback, out_of_scope) or took for an answer (inform);
a question that mentions the user's situation but does not ask to be assessed (check_eligibility without an
"am I eligible" cue), so the eligibility form starts only when asked for; and a call for a person that starts
with "never mind" (deny) hands off.
"""

from __future__ import annotations

from dataclasses import dataclass

from talentbot.qbank.cues import Cues

REQUEST_HUMAN = "request_human"
CHECK_ELIGIBILITY = "check_eligibility"
#: Cosine of the message to the best entry's nearest paraphrase from which a question the classifier could not
#: place (nlu_fallback) is answered from the bank: it was not understood anyway.
FALLBACK_SIMILARITY = 0.30
#: ... from which a question taken for an eligibility request or an answer, or judged out of scope, is answered
#: from the bank (on our data 9% of small-talk and out-of-scope training examples reach it, 47% of bank questions).
REWRITE_SIMILARITY = 0.45
#: ... from which a question taken for an eligibility request without asking to be assessed (no cue) is answered:
#: such questions are long and personal, so their wording is further from any paraphrase.
UNASKED_CHECK_SIMILARITY = 0.25
#: Small talk ("hi, ...") must be clearly a bank question to be answered as one.
SMALL_TALK_SIMILARITY = 0.55
UNPLACED = frozenset({"nlu_fallback", "out_of_scope"})
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "affirm", "deny"})
KEEP = frozenset({"bot_challenge", "change_language", REQUEST_HUMAN})


@dataclass(frozen=True)
class Best:
    """The bank's best entry for the message: its intent, and the cosine of the message to its nearest paraphrase."""

    intent: str
    similarity: float


def arbitrate(intent: str, text: str, best: Best | None, cues: Cues) -> str | None:
    """The intent to use instead of `intent`, or None to keep it."""
    if intent in KEEP:
        return None
    if intent in SMALL_TALK | UNPLACED | {"inform"} and cues.has("human", text):
        return REQUEST_HUMAN  # not for questions: "how do I reach HKTE's customer service?" asks for contacts
    if best is None:
        return None
    if intent == "nlu_fallback" and best.similarity >= FALLBACK_SIMILARITY:
        return best.intent
    if intent == CHECK_ELIGIBILITY:
        asked = cues.has("assessment", text) or best.similarity < UNASKED_CHECK_SIMILARITY
        return None if asked else best.intent
    if best.similarity < REWRITE_SIMILARITY:
        return None
    if intent in UNPLACED:
        return best.intent
    if intent == "inform" and cues.has("question", text):
        return best.intent
    if intent in SMALL_TALK and best.similarity >= SMALL_TALK_SIMILARITY and cues.has("question", text):
        return best.intent
    return None
