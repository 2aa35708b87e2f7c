"""Where the Rasa server's HTTP API is and the token it wants, as every client of it reads them from the
environment: the staff console (transcripts, resuming) and the channels (a staff reply pushed to a web page)."""

from __future__ import annotations

import os
from typing import Mapping

URL_VARIABLE = "RASA_URL"
DEFAULT_URL = "http://127.0.0.1:5005"
TOKEN_VARIABLE = "RASA_AUTH_TOKEN"
"""The token of Rasa's HTTP API (`rasa run --auth-token`); the web page's push route takes the same one."""


def base_url(env: Mapping[str, str] = os.environ) -> str:
    return env.get(URL_VARIABLE, DEFAULT_URL).rstrip("/")


def token(env: Mapping[str, str] = os.environ) -> str:
    return env.get(TOKEN_VARIABLE, "")


def auth_header(api_token: str) -> dict[str, str]:
    """The token in the header: the Rasa server refuses it in the URL (talentbot.rasa_plugins.rasa_api_auth)."""
    return {"Authorization": f"Bearer {api_token}"}
