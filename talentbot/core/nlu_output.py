"""Names of what our NLU components add to Rasa's parse data, shared by the components and the actions."""

QUESTION_BANK_KEY = "question_bank"
"""{"ranking": [{"id", "score"}], "schemes": [...], "rewritten_from": intent or null} (QuestionBankRanker)."""
