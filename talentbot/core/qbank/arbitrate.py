"""Which intent a message really has, once the question bank has had its say.

The intent classifier learnt topics; the bank knows questions. Where they disagree the bank wins only in clear
cases: a question the classifier could not place (nlu_fallback, out_of_scope) or took for an answer (inform);
a question that mentions the user's situation but does not ask to be assessed (check_eligibility without an
"am I eligible" cue), so the eligibility form starts only when asked for; and a call for a person that starts
with "never mind" (deny) hands off. "Can I apply?" asks to be assessed when that is all it says or when it comes
with the user's facts ("I earn 3M a year, can I apply for TTPS?"): the check then says at once what those facts
settle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from talentbot.core.qbank.cues import Cues

REQUEST_HUMAN = "request_human"
BOT_CHALLENGE = "bot_challenge"
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
#: ... when it was taken for an answer (inform) but asks something ("what degree do you need for TechTAS?"): an
#: answer to the form's question rarely has question words, so a middling entry is the better reply.
QUESTION_NOT_ANSWER_SIMILARITY = 0.15
#: ... from which a question taken for an eligibility request without asking to be assessed (no cue) is answered,
#: or "can I apply" that asks something more ("... can I still apply? What do I need?"): the form is not what they
#: asked for, so any entry not far off is the better reply; such questions are long and personal, so their wording
#: is far from any paraphrase.
UNASKED_CHECK_SIMILARITY = 0.10
#: ... from which "can I apply ...?" (a weak assessment cue) is answered: it is then a specific question.
WEAK_CUE_SIMILARITY = 0.35
#: Small talk ("hi, ...") must be clearly a bank question to be answered as one; less so when it asks something
#: ("ok, and since when?").
SMALL_TALK_SIMILARITY = 0.55
SMALL_TALK_QUESTION_SIMILARITY = 0.35
UNPLACED = frozenset({"nlu_fallback", "out_of_scope"})
#: Letters a "since when?" follow-up may have besides its cue ("ok and since when did that change?": "okandthatchange"
#: is 15; 「以前好像冇咁貴，係由幾時開始收呢個價」 17): more is a question of its own.
FOLLOW_UP_REST_CHARS = 24
ASK_SCHEME_INFO = "ask_scheme_info"
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "affirm", "deny"})
KEEP = frozenset({REQUEST_HUMAN})
#: "Are you a bot?" and "answer in English" stand unless the message says none of these cues, asks something and is
#: close to a bank question: 「聽講暑假會慢好多，係咪真㗎？」 asks whether a fact is true,
#: 「孩子不认识繁体字，有没有衔接课程？」 about schools.
KEEP_IF_SAID = {BOT_CHALLENGE: ("about_assistant", "challenge"),
                "change_language": ("language_request",)}
#: Intents for which `arbitrate` reads the user's facts (the adapter extracts them only for these).
FACTS_MATTER = frozenset({CHECK_ELIGIBILITY, "inform"}) | UNPLACED


def asks_since_when(text: str, cues: Cues) -> bool:
    """A short "since when?" / 「幾時開始㗎？」 after an answer: it asks about what was just said."""
    return cues.has("since_when", text) and len(cues.without(("since_when", "filler"), text)) <= FOLLOW_UP_REST_CHARS


def asks_to_apply(text: str, cues: Cues) -> bool:
    """Asks whether the user may apply, with no condition: with the user's facts, a request to be assessed."""
    return (cues.has("assessment", text) or cues.has("assessment_weak", text)) and not cues.has("condition", text)


@dataclass(frozen=True)
class Best:
    """The bank's best entry for the message: its intent, and the cosine of the message to its nearest paraphrase."""

    intent: str
    similarity: float


#: Of the weighed candidates, those within this ratio of the best score are all "the bank's best" for arbitration.
NEAR_BEST_RATIO = 0.9
NEAR_BEST_COUNT = 3


def best_of(weighed: Sequence[tuple[str, float]], similarity: Mapping[str, float],
            intents: Mapping[str, str]) -> Best | None:
    """The bank's best entry for arbitration: of the top candidates too close to tell apart by score (entry id,
    weighed score), the one worded most like the message. Whether the message is a bank question at all is a
    matter of wording; the scheme fit only decides which of several close entries answers it, later, with the
    conversation's context (a question about Category A is not small talk because a general entry edged ahead)."""
    if not weighed:
        return None
    top = weighed[0][1]
    near = [entry for entry, score in weighed[:NEAR_BEST_COUNT] if score >= top * NEAR_BEST_RATIO]
    chosen = max(near, key=lambda entry: similarity.get(entry, 0.0))
    return Best(intents[chosen], similarity.get(chosen, 0.0))


def arbitrate(intent: str, text: str, best: Best | None, cues: Cues, names_scheme: bool = False,
              unnamed: str | None = None, facts: bool = False, since_when: bool | None = None) -> str | None:
    """The intent to use instead of `intent`, or None to keep it. `names_scheme`: the message names one of our
    schemes, so it is in scope whatever the classifier thinks; `unnamed`: the text with the scheme names cut out;
    `facts`: it states facts of the user's profile (income, degree, graduation, experience, offer ...);
    `since_when`: `asks_since_when(text, cues)`, when the caller has it already."""
    if intent in KEEP:
        return None
    if intent in KEEP_IF_SAID:
        if best is None or not cues.has("question", text) or any(cues.has(k, text) for k in KEEP_IF_SAID[intent]):
            return None
        floor = IN_SCOPE_SIMILARITY if names_scheme else SMALL_TALK_QUESTION_SIMILARITY
        return best.intent if best.similarity >= floor else None
    if since_when is None:
        since_when = asks_since_when(text, cues)
    if intent in SMALL_TALK | UNPLACED | {"inform", CHECK_ELIGIBILITY} and since_when:
        return best.intent if best is not None else ASK_SCHEME_INFO  # the answer action reads the previous answer
    if intent in UNPLACED and facts and asks_to_apply(text, cues):
        return CHECK_ELIGIBILITY  # "我年薪三百萬，可唔可以申請TTPS" was not placed, but says what to assess
    if intent in SMALL_TALK | UNPLACED | {"inform"} and cues.has("human", text):
        if cues.has("challenge", text):
            return BOT_CHALLENGE  # "am I talking to a real person?" asks what the assistant is
        return REQUEST_HUMAN  # not for questions: "how do I reach HKTE's customer service?" asks for contacts
    if best is None:
        return None
    question = cues.has("question", text)
    if intent == CHECK_ELIGIBILITY:
        if cues.has("assessment", text):
            return None
        if not cues.has("assessment_weak", text):
            return best.intent if best.similarity >= UNASKED_CHECK_SIMILARITY else None
        if cues.has("question", cues.cut(("assessment_weak", "filler"), text).replace("?", " ")):
            # "... can I still apply for IANG? What do I need?": a question of its own besides "can I apply"
            return best.intent if best.similarity >= UNASKED_CHECK_SIMILARITY else None
        if (facts and not cues.has("condition", text)) or not cues.without(
                ("assessment_weak", "filler"), text if unnamed is None else unnamed):
            return None
        return best.intent if best.similarity >= WEAK_CUE_SIMILARITY else None
    if intent in UNPLACED:
        floor = IN_SCOPE_SIMILARITY if names_scheme else (
            FALLBACK_SIMILARITY if intent == "nlu_fallback" else REWRITE_SIMILARITY)
        return best.intent if best.similarity >= floor else None
    if intent == "inform":
        if not question:
            return None
        if best.similarity >= QUESTION_NOT_ANSWER_SIMILARITY:
            return best.intent
        # "What degree do you need for the Technology Talent Admission Scheme?": a question about a scheme, worded
        # unlike any entry, that states none of the user's facts is no answer to give the form: the scheme's answer
        return ASK_SCHEME_INFO if names_scheme and not facts else None
    if intent in SMALL_TALK and question and best.similarity >= SMALL_TALK_QUESTION_SIMILARITY:
        return best.intent
    if intent in SMALL_TALK and best.similarity >= SMALL_TALK_SIMILARITY and question:
        return best.intent
    return None
