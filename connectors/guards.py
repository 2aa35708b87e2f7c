"""Limits every webhook applies before reading a request: body size cap, request age."""
from __future__ import annotations

from typing import Optional

MAX_BODY_BYTES = 64 * 1024
"""Our cap on a webhook body (413 above it). Real deliveries are far smaller: a WeChat message is a few hundred
bytes of XML, a Telegram update or a WhatsApp notification a few KiB; 64 KiB leaves ample room for batches."""

MAX_REQUEST_AGE_S = 300
"""A signed WeChat request older (or newer) than this is refused as a replay. WeChat retries a message three times
within about 15 s (5 s timeout each), so a genuine delivery is never this old; 5 minutes allows for clock skew."""


def body_too_large(body: Optional[bytes], content_length: Optional[str], limit: int = MAX_BODY_BYTES) -> bool:
    """True when the declared or actual body size passes the cap (a lying Content-Length is caught either way)."""
    if content_length:
        try:
            if int(content_length) > limit:
                return True
        except ValueError:
            return True
    return body is not None and len(body) > limit
