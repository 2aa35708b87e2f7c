"""Rasa's REST channel (same name `rest`, same route and replies) behind the handoff gate."""

from __future__ import annotations

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint

from connectors.handoff_gate import OnNewMessage, gated


class RestInput(RasaRestInput):
    """While staff have the conversation, messages go to the ticket; the answer lists what the user is told
    (their place in the queue) instead of an assistant's reply. A REST client cannot be sent a staff reply
    later: the console says so, and the reply stays on the ticket."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(gated(on_new_message))
