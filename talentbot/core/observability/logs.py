"""Structured logs: one JSON object a line, opt-in, and sender ids that reach no log line as they are.

`TALENTBOT_LOG_FORMAT=json` (the default of `talentbot run --production` and of the systemd units) makes every
handler of a process write one JSON object per line (`JsonFormatter`: time, level, logger, message, process, and
the traceback of an error); anything else keeps the usual text lines. Rasa's and Sanic's loggers write through
the same handlers, so their lines are JSON too.

Our own log lines never carry what a user wrote, and name a conversation only by `pseudonym(sender_id)`: a keyed
hash (HMAC-SHA-256 with `TALENTBOT_LOG_SALT`) that ties the lines of one conversation together without revealing
a phone number, a Telegram id or a WeChat openid. The processes of one deployment must share the salt for their
pseudonyms to match (`talentbot run` generates one per run when it is unset); without it each process uses a
random salt of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
from typing import List, Mapping, Optional, TextIO, Union

FORMAT_VARIABLE = "TALENTBOT_LOG_FORMAT"
"""`json` for JSON lines; unset or anything else: text."""

JSON = "json"

SALT_VARIABLE = "TALENTBOT_LOG_SALT"
"""The key of `pseudonym`; a secret of the deployment (deploy/systemd/talentbot.env)."""

LEVEL_VARIABLE = "LOG_LEVEL"
"""Rasa's level variable, used for a process that has no logging configured yet (the staff console)."""

_PROCESS_SALT = secrets.token_bytes(32)
"""The salt when TALENTBOT_LOG_SALT is unset: pseudonyms then match within this process only."""


def wants_json(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for JSON log lines."""
    return env.get(FORMAT_VARIABLE, "").strip().lower() == JSON


def pseudonym(sender_id: object, env: Mapping[str, str] = os.environ) -> str:
    """A stable stand-in for a sender id in log lines: `anon-` and 16 hex digits of its keyed hash."""
    salt = env.get(SALT_VARIABLE, "").encode() or _PROCESS_SALT
    digest = hmac.new(salt, str(sender_id).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return f"anon-{digest[:16]}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger, message, process (the pid),
    and `exception` / `stack` when the record has them. Non-ASCII text is kept as it is (UTF-8)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _all_handlers() -> List[logging.Handler]:
    loggers: List[logging.Logger] = [logging.getLogger()]
    loggers += [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    found: List[logging.Handler] = []
    for logger in loggers:
        found += [handler for handler in logger.handlers if handler not in found]
    return found


def use_json(level: Union[int, str, None] = None) -> None:
    """Makes every handler of this process write `JsonFormatter` lines, adding one on standard error to the root
    logger when it has none (at `level`, else LOG_LEVEL, else INFO), and routes Python warnings through logging.
    Handlers added later keep their own format: call it again after a framework configured its loggers."""
    root = logging.getLogger()
    if level is not None:
        root.setLevel(level.upper() if isinstance(level, str) else level)
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
        if level is None:
            root.setLevel(os.environ.get(LEVEL_VARIABLE, "").strip().upper() or logging.INFO)
    formatter = JsonFormatter()
    for handler in _all_handlers():
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(formatter)
    logging.captureWarnings(True)


def configure(env: Mapping[str, str] = os.environ, level: Union[int, str, None] = None) -> bool:
    """JSON lines (`use_json`) when the environment asks for them; True if so. Text lines are left as they are."""
    if not wants_json(env):
        return False
    use_json(level)
    return True


def json_handler(stream: Optional[TextIO] = None) -> logging.Handler:
    """A handler writing JSON lines to `stream` (standard error by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler
