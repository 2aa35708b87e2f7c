"""Rasa custom actions of the talentbot action server."""
