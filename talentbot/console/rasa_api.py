"""The staff console's link to the Rasa server: the transcript from the tracker store, and resuming the assistant.
(A staff reply to a web page goes through the channels: connectors/outbound.py.)

Rasa's API (not the tracker store directly) so that the console works with whichever store Rasa is configured with
and takes the conversation's lock like every other writer.
"""

from __future__ import annotations

import os
from typing import List, Mapping, Optional
from urllib.parse import quote

import aiohttp

from talentbot.core import rasa_endpoint
from talentbot.core.handoff.store import Ticket
from talentbot.core.handoff.transcript import turns_from_events
from talentbot.core.handoff.wire import Turn

TIMEOUT_S = 10

RESUME_EVENTS = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
"""A bare `resume` makes Rasa treat the next message as coming after the handoff action and fall back (seen on
Rasa 3.6); `action_listen` after it makes the next message a fresh turn."""


class RasaApi:
    """Transcript and resume through `GET/POST /conversations/{id}/tracker[/events]`, with the API token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RasaApi":
        return cls(rasa_endpoint.base_url(env), rasa_endpoint.token(env))

    def _client(self) -> aiohttp.ClientSession:
        """One pooled session for the console's lifetime (created inside its event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    def _auth(self) -> dict[str, str]:
        return rasa_endpoint.auth_header(self.token)

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def transcript(self, conversation_id: str) -> List[Turn]:
        async with self._client().get(self._url(conversation_id, "tracker"), headers=self._auth(),
                                      params={"include_events": "ALL"}) as reply:
            reply.raise_for_status()
            tracker = await reply.json()
        return turns_from_events(tracker.get("events") or [])

    async def resume(self, ticket: Ticket) -> None:
        async with self._client().post(self._url(ticket.conversation_id, "tracker/events"),
                                       headers=self._auth(), json=RESUME_EVENTS) as reply:
            reply.raise_for_status()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
