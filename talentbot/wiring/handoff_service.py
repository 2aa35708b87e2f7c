"""The staff console as `talentbot console` runs it: replies go out through the channels' connectors, transcripts
and resuming through the Rasa server's HTTP API (RASA_URL, RASA_AUTH_TOKEN)."""

from __future__ import annotations

from typing import Optional

from talentbot.console.rasa_api import RasaApi
from talentbot.console.web import serve


def run_console(port: Optional[int] = None) -> int:
    from connectors.outbound import send_text

    rasa = RasaApi.from_env()
    serve(port, deliver=send_text, transcript=rasa.transcript, resume=rasa.resume, cleanup=rasa.close)
    return 0
