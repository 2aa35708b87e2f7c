"""Rasa plugins: NLU components, the language policy, tracker and lock stores, and hooks into the Rasa and action
servers. They adapt `talentbot.core` to Rasa and import nothing from the channels, the console or the wiring.
"""
