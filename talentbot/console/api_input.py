"""What the staff console's JSON API accepts: each body, query parameter and cookie checked before a store sees it.

Pure (no aiohttp, no database): console.py reads the request and passes the parts here; a `Refusal` says the status
and what to change. Texts are cleaned as the users' channels clean theirs (talentbot/core/inbound.py): NUL, lone
surrogates and other control characters are removed, since PostgreSQL refuses NUL, SQLite's driver cannot encode a
lone surrogate, and neither shows on a screen.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Tuple, Union

from talentbot.core.handoff import auth
from talentbot.core.handoff.models import STATUSES
from talentbot.core.inbound import Refusal as Refusal  # re-exported: console.py answers with it
from talentbot.core.inbound import clean_text, json_kind

MAX_BODY_BYTES = 64 * 1024
"""Largest request body the API reads (as connectors/guards.py): a reply of MAX_REPLY_CHARS characters escaped as
JSON is at most 48 KiB (an emoji is a surrogate pair, two 6-byte escapes)."""

MAX_REPLY_CHARS = 4096
"""Longest staff reply, in characters once cleaned. The ticket page's reply box allows as much (`maxlength`), so
someone typing there never meets it; it is also Telegram's and WhatsApp's limit for one text message (the
connectors split longer answers, but a reply beyond this is almost surely a paste by mistake). Users are held to
2,000 (talentbot/core/inbound.py) because the assistant has to read their text; staff replies are only delivered."""

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What a session cookie can hold: auth.new_token() gives 43 URL-safe characters. Anything else is no session, and
is never hashed or looked up (a cookie is bytes the client chose: it may not even encode as UTF-8)."""

JsonObject = Dict[str, Any]


def json_object(raw: bytes) -> Union[JsonObject, Refusal]:
    """The body as a JSON object, or why it is not one. NaN and Infinity are refused (not JSON); JSON escapes of
    lone surrogates are accepted here and cleaned from the fields that are read."""
    if not raw.strip():
        return Refusal(400, "the body is empty: send a JSON object")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Refusal(400, "the body is not valid JSON (UTF-8)")
    if not isinstance(data, dict):
        return Refusal(400, f"the body must be a JSON object, not {json_kind(data)}")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _string(body: JsonObject, key: str, what: str) -> Union[str, Refusal]:
    value = body.get(key)
    if value is None:
        return Refusal(400, f'{key} is missing: send "{key}", {what}')
    if not isinstance(value, str):
        return Refusal(400, f"{key} must be a string, not {json_kind(value)}")
    return value


def credentials(body: JsonObject) -> Union[Tuple[str, str], Refusal]:
    """(username, password) of a log-in. Refused without checking any password when neither could belong to an
    account (auth.check_username's rules; bcrypt's 72 bytes): such a log-in is not an attempt on any account, so
    it does not count towards a lock either."""
    username = _string(body, "username", "the staff member's username")
    if isinstance(username, Refusal):
        return username
    password = _string(body, "password", "the password")
    if isinstance(password, Refusal):
        return password
    if not auth.valid_username(username):
        return Refusal(400, auth.USERNAME_RULE)
    if clean_text(password) != password:
        return Refusal(400, "the password contains control characters or lone surrogates, which no password has")
    if len(password.encode("utf-8")) > auth.MAX_PASSWORD_BYTES:
        return Refusal(400, f"passwords are at most {auth.MAX_PASSWORD_BYTES} bytes long in UTF-8")
    return username, password


def reply_text(body: JsonObject) -> Union[str, Refusal]:
    """A staff reply's text, cleaned; refused when empty once cleaned (400) or longer than MAX_REPLY_CHARS (413)."""
    text = _string(body, "text", "the reply to send to the user")
    if isinstance(text, Refusal):
        return text
    text = clean_text(text)
    if not text.strip():
        return Refusal(400, "send a non-empty text")
    if len(text) > MAX_REPLY_CHARS:
        return Refusal(413, f"a reply may have at most {MAX_REPLY_CHARS:,} characters; this one has {len(text):,}")
    return text


def transfer_target(body: JsonObject) -> Union[str, Refusal]:
    """The username a ticket is transferred to; one that no account could have is refused before any look-up."""
    username = _string(body, "username", "the colleague to transfer the ticket to")
    if isinstance(username, Refusal):
        return username
    if not auth.valid_username(username):
        return Refusal(400, auth.USERNAME_RULE)
    return username


def ticket_status(value: Optional[str]) -> Union[str, Refusal]:
    """The `status` query parameter of the ticket list: waiting (the default), assigned or resolved."""
    if value is None:
        return "waiting"
    if value not in STATUSES:
        return Refusal(400, f"status must be one of {', '.join(STATUSES)}")
    return value


def session_token(cookie: Optional[str]) -> Optional[str]:
    """The cookie's session token when it could be one, else None (no session: the request is answered 401)."""
    return cookie if cookie is not None and TOKEN_PATTERN.fullmatch(cookie) else None
