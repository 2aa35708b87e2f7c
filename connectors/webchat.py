"""WebChatInput: serves the chat page for trying the assistant in a browser (http://localhost:5005/webhooks/web/).

The page talks to Rasa's REST channel on the same origin, so it needs no CORS set-up and no extra process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

PAGE = Path(__file__).with_name("webchat.html")


class WebChatInput(InputChannel):
    """Serves the page; messages go through the REST channel (`/webhooks/rest/webhook`)."""

    @classmethod
    def name(cls) -> Text:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = PAGE.read_text(encoding="utf-8")
        blueprint = Blueprint("web_chat_page", __name__)

        @blueprint.route("/", methods=["GET"])
        async def chat_page(request: Request) -> HTTPResponse:
            return response.html(page, headers={"Cache-Control": "no-cache"})

        return blueprint
