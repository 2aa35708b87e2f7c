"""Rasa NLU components of talentbot (tokenizer and gazetteer entity extractor), referenced by module path in
config.yml."""
