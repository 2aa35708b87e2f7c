"""Answers in three languages from the content files: load and validate them, select, render (no Rasa)."""

from talentbot.core.content.loader import ContentError, load_content
from talentbot.core.content.model import Content, Entry, Office
from talentbot.core.content.render import Button, Reply, render
from talentbot.core.content.select import Answer, Query, select

__all__ = [
    "Answer", "Button", "Content", "ContentError", "Entry", "Office", "Query", "Reply",
    "load_content", "render", "select",
]
