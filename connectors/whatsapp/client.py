"""WhatsApp Cloud API client over httpx: one call, ``POST /<version>/<phone_number_id>/messages``."""
from __future__ import annotations

from typing import Any

import httpx

from connectors.whatsapp.protocol import GRAPH_API_VERSION
from connectors.window import ServiceWindowClosed

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
"""Production Graph API; ``WHATSAPP_API_BASE_URL`` points at a local fake in tests."""

WINDOW_ERRORS = frozenset({131047})
"""Re-engagement message: more than 24 hours since the user last wrote."""


class WhatsAppAPIError(RuntimeError):
    """An error answer from the Graph API."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"WhatsApp API error {status}/{code}: {message}")
        self.status, self.code = status, code


def transient(error: BaseException) -> bool:
    """Whether a Graph API error means "not now" (unreachable, timed out, a 5xx, rate limited: 429), so the message
    should come again; any other 4xx would be refused again."""
    if isinstance(error, httpx.TransportError):
        return True
    return isinstance(error, WhatsAppAPIError) and (error.status >= 500 or error.status == 429)


class WhatsAppClient:
    """Sends message bodies built by protocol.py; the httpx client is passed in."""

    def __init__(
        self, http: httpx.AsyncClient, token: str, phone_number_id: str, base_url: str = DEFAULT_API_BASE_URL
    ) -> None:
        self._http = http
        self._token = token
        self._url = f"{base_url.rstrip('/')}/{GRAPH_API_VERSION}/{phone_number_id}/messages"

    async def send(self, message: dict[str, Any]) -> str:
        """Sends one message; returns its wamid."""
        response = await self._http.post(self._url, json=message, headers={"Authorization": f"Bearer {self._token}"})
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            error = data.get("error") or {}
            code = error.get("code")
            if code in WINDOW_ERRORS:
                raise ServiceWindowClosed(f"WhatsApp error {code}: {error.get('message', '')}")
            raise WhatsAppAPIError(response.status_code, code, str(error.get("message") or response.text[:200]))
        messages = data.get("messages") or [{}]
        return str(messages[0].get("id", ""))
