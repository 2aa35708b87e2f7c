"""The staff console as `talentbot console` runs it: replies go out through the channels' connectors, transcripts
and resuming through the Rasa server's HTTP API (RASA_URL, RASA_AUTH_TOKEN)."""

from __future__ import annotations

from typing import Optional

from talentbot.console.rasa_api import RasaApi
from talentbot.console.web import serve
from talentbot.core.observability import logs as log_format
from talentbot.core.observability import metrics


def run_console(port: Optional[int] = None) -> int:
    from connectors.outbound import send_text

    log_format.configure()  # JSON lines with TALENTBOT_LOG_FORMAT=json (else aiohttp's defaults, as before)
    metrics.prepare_multiprocess_dir()
    rasa = RasaApi.from_env()
    serve(port, deliver=send_text, transcript=rasa.transcript, resume=rasa.resume, cleanup=rasa.close)
    return 0
