"""Rasa adapters of the eligibility check: the form's validation, its questions and the result action."""
