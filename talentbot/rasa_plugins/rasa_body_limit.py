"""The most the Rasa server reads of a request body, and a JSON 413 above it.

Sanic's default `REQUEST_MAX_SIZE` is 100 MB: every Rasa worker buffered up to 100 MB of any request before a route
looked at it (the REST channel's 64 KiB check, connectors/guards.py, came after). The largest bodies sent to it
legitimately are far smaller: the chat page's socket.io polling posts (engine.io itself takes at most 1,000,000
bytes), a 2,000-character message escaped as JSON (24 KiB), the staff console's tracker events (two events, about
100 bytes), and a whole session's events for ``PUT /conversations/<id>/tracker/events`` (about 5 KB a turn: 48 KB
for the bench's 10-turn conversations, so 1 MiB holds some 200 turns, where a session ends after an hour's silence).
`MAX_BODY_BYTES` is 1 MiB. ``POST /model/train`` with more training data than that is refused: train with
``talentbot train``.

Above the cap Sanic raises `PayloadTooLarge`: at once when the Content-Length says so, or as soon as a chunked body
passes it. `too_large` answers it in the format the route's clients read: Rasa's error format on the HTTP API,
``{"error": "..."}`` on the channels' routes (/webhooks/). Most HTTP clients (httpx, requests) write the whole body
before they read the answer, and a server that closes with their body unread leaves them a reset connection, not
the 413; so the rest of a body up to `DISCARD_BYTES` is read and thrown away first (as nginx's lingering close
does). Anything larger is cut off.

`install()` is called by talentbot.wiring.rasa_server before Rasa builds its app (`rasa.core.run.configure_app`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body the Rasa server reads (Sanic's REQUEST_MAX_SIZE)."""

DISCARD_BYTES = 16 * 1024 * 1024
"""Declared body size up to which the rest of an over-cap body is read and dropped, so the client sees the 413."""

DISCARD_S = 5.0
"""The longest that reading and dropping may take."""

CHANNEL_ROUTES = "/webhooks/"

UPSTREAM: Dict[str, Any] = {}
"""Rasa's `configure_app` before `install()` replaced it."""


def error_body(path: str, message: str) -> Dict[str, Any]:
    """A 413's body: the channels' format under /webhooks/, Rasa's error format elsewhere."""
    if path.startswith(CHANNEL_ROUTES):
        return {"error": message}
    import rasa

    return {"version": rasa.__version__, "status": "failure", "message": message, "reason": "PayloadTooLarge",
            "details": {"limit_bytes": MAX_BODY_BYTES}, "help": None, "code": 413}


async def discard_rest(request: Any, limit: int = DISCARD_BYTES, seconds: float = DISCARD_S) -> None:
    """Reads and drops what is left of the request's body, up to `limit` bytes in all and `seconds`."""
    stream = getattr(request, "stream", None)
    if stream is None or not getattr(stream, "request_body", None):
        return
    stream.request_max_size = limit  # Sanic raises PayloadTooLarge past it, before reading anything more

    async def drain() -> None:
        async for _ in stream:
            pass

    try:
        await asyncio.wait_for(drain(), seconds)
    except Exception:  # over `limit`, too slow, or the client went away: the connection is closed after the answer
        logger.debug("over-cap body of %s not read to its end", request.path)


async def too_large(request: Any, exception: Exception) -> Any:
    """The answer to Sanic's `PayloadTooLarge` (the body, or the request's head, over its cap)."""
    from sanic import response

    message = (f"the request body is over {MAX_BODY_BYTES:,} bytes" if "body" in str(exception).lower()
               else str(exception) or "the request is too large")
    logger.warning("%s %s refused: %s", request.method, request.path, message)
    await discard_rest(request)
    return response.json(error_body(request.path, message), status=413)


def limit(app: Any) -> Any:
    """Caps `app`'s request bodies at MAX_BODY_BYTES, with `too_large` answering what passes it."""
    from sanic.exceptions import PayloadTooLarge

    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.exception(PayloadTooLarge)(too_large)
    return app


def install() -> None:
    """Makes `rasa.core.run.configure_app` (which `rasa run` calls to build the server, with or without the API)
    return its app capped by `limit`; a second call does nothing."""
    import rasa.core.run

    if "configure_app" in UPSTREAM:
        return
    upstream: Callable[..., Any] = rasa.core.run.configure_app
    UPSTREAM["configure_app"] = upstream

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        return limit(upstream(*args, **kwargs))

    configure_app.__doc__ = "Rasa's configure_app, with request bodies capped (talentbot.rasa_plugins.rasa_body_limit)."
    rasa.core.run.configure_app = configure_app
