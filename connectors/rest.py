"""Rasa's REST channel (same name `rest`, same route and replies) behind the inbound checks and the handoff gate."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.handoff_gate import OnNewMessage, gated
from connectors.inbound import parse_rest_body, too_long_note
from connectors.outage import refusals_answered_503
from talentbot.core.inbound import Refusal, too_long


class RestInput(RasaRestInput):
    """While staff have the conversation, messages go to the ticket; the answer lists what the user is told
    (their place in the queue) instead of an assistant's reply. A REST client cannot be sent a staff reply
    later: the console says so, and the reply stays on the ticket.

    Every request is checked before Rasa's handler reads it (connectors/inbound.py): a wrong shape, a sender id
    that is missing or another channel's (``telegram:42``), or a body over 64 KiB (connectors/guards.py; a
    2,000-character message is at most 24 KiB of JSON even with every character escaped) is refused with 400 or
    413 and ``{"error": "<what is wrong>"}``. A message over the length cap gets a polite note in the user's
    language instead of an answer and never reaches Rasa. The handler then reads only the checked values, the text
    without NUL, lone surrogates and control characters, and the input channel is always ``rest``.
    """

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        # a message refused while a store is down is answered 503 + Retry-After (connectors/outage.py)
        hook = refusals_answered_503(super().blueprint(gated(on_new_message)))

        @hook.on_request
        async def check_inbound(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            checked = parse_rest_body(request.body, request.headers.get("content-length"), self.name())
            if isinstance(checked, Refusal):
                return response.json({"error": checked.reason}, status=checked.status)
            if too_long(checked.text):
                note = {"recipient_id": checked.sender, "text": too_long_note(checked.text, self.name())}
                if bool_arg(request, "stream", default=False):  # as Rasa streams: one JSON message per line
                    return response.text(json.dumps(note) + "\n", content_type="text/event-stream")
                return response.json([note])
            request.ctx.inbound = checked
            return None

        return hook

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return req.ctx.inbound.sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        return req.ctx.inbound.text

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return request.ctx.inbound.metadata
