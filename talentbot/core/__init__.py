"""The pure core: language, eligibility rules, content and question-bank selection, handoff policy and store.

Imports nothing from Rasa, rasa-sdk, Sanic, aiohttp or the channels; every edge of the system imports it.
"""
