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
#: ... from which a question taken for an answer, or judged out of scope, is answered from the bank (on our data
#: 9% of small-talk and out-of-scope training examples reach it).
REWRITE_SIMILARITY = 0.45
#: ... when the message names a scheme (TTPS, 優才 ...) or is worded as a question and was taken for an answer
#: (inform): it is about our schemes, so only a bank entry far from it is no answer.
IN_SCOPE_SIMILARITY = 0.20
#: ... from which a question taken for an eligibility request without asking to be assessed (no cue) is answered:
#: such questions are long and personal, so their wording is further from any paraphrase. (89% of the
#: check_eligibility training examples without a cue reach it; those ask to be assessed in words the cue lists
#: lack, and get the bank's answer with a "check my eligibility" button.)
UNASKED_CHECK_SIMILARITY = 0.20
#: ... from which "can I apply ...?" (a weak assessment cue) is answered: it is then a specific question.
WEAK_CUE_SIMILARITY = 0.35
#: Small talk ("hi, ...") must be clearly a bank question to be answered as one; less so when it asks something
#: ("ok, and since when?").
SMALL_TALK_SIMILARITY = 0.55
SMALL_TALK_QUESTION_SIMILARITY = 0.35
UNPLACED = frozenset({"nlu_fallback", "out_of_scope"})
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "affirm", "deny"})
KEEP = frozenset({"bot_challenge", "change_language", REQUEST_HUMAN})


@dataclass(frozen=True)
class Best:
    """The bank's best entry for the message: its intent, and the cosine of the message to its nearest paraphrase."""

    intent: str
    similarity: float


def arbitrate(intent: str, text: str, best: Best | None, cues: Cues, names_scheme: bool = False) -> str | None:
    """The intent to use instead of `intent`, or None to keep it. `names_scheme`: the message names one of our
    schemes, so it is in scope whatever the classifier thinks."""
    if intent in KEEP:
        return None
    if intent in SMALL_TALK | UNPLACED | {"inform"} and cues.has("human", text):
        return REQUEST_HUMAN  # not for questions: "how do I reach HKTE's customer service?" asks for contacts
    if best is None:
        return None
    question = cues.has("question", text)
    if intent == CHECK_ELIGIBILITY:
        if cues.has("assessment", text):
            return None
        floor = WEAK_CUE_SIMILARITY if cues.has("assessment_weak", text) else UNASKED_CHECK_SIMILARITY
        return best.intent if best.similarity >= floor else None
    if intent in UNPLACED:
        floor = IN_SCOPE_SIMILARITY if names_scheme else (
            FALLBACK_SIMILARITY if intent == "nlu_fallback" else REWRITE_SIMILARITY)
        return best.intent if best.similarity >= floor else None
    if intent == "inform":
        return best.intent if question and best.similarity >= IN_SCOPE_SIMILARITY else None
    if intent in SMALL_TALK and question and best.similarity >= SMALL_TALK_QUESTION_SIMILARITY:
        return best.intent
    if intent in SMALL_TALK and best.similarity >= SMALL_TALK_SIMILARITY and question:
        return best.intent
    return None
