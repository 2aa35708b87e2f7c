"""The question bank: question-level answers (bot/questions/), the lexical ranker that finds the entry a user's
question asks for, and the pure decisions around it (answer, ask "did you mean", or leave it to the intent).

Pure: no Rasa, Sanic or HTTP imports; the Rasa component (talentbot.rasa_plugins.nlu.question_bank) and the answering
action
are thin adapters around it.
"""

from talentbot.core.qbank.loader import BankError, load_bank
from talentbot.core.qbank.model import Bank, QuestionEntry

__all__ = ["Bank", "BankError", "QuestionEntry", "load_bank"]
