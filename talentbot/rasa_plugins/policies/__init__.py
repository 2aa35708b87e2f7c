"""Rasa's custom policies (loaded by name from config.yml)."""
