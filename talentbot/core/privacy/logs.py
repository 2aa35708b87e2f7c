"""Log files under var/ that may name a user.

What "logs" means here: files named `*.log` (and rotated copies, `*.log.1`, `*.log.2.gz`) anywhere under the
project's data folder var/. Our servers write none there themselves: `talentbot run` prints their output on its
terminal, systemd units send it to the journal (kept by journald's own `MaxRetentionSec`), and tests and the
benchmark log into their own folders. They appear only where an operator redirects output there; then:

- `delete` masks the user's id in them, in place: each occurrence is overwritten with as many `*` (nothing else in
  the file moves, so a server appending to it at the same time loses nothing). Besides the full id
  (``telegram:12345``), the platform's own id (``12345``, the WeChat openid) is masked where it stands alone, since
  the channels' error lines name that one; platform ids shorter than `MIN_NATIVE_ID` are left alone (too likely to
  be some other number). So are the `aliases` the caller knows: the pseudonym our own log lines name a
  conversation by (talentbot/core/observability/logs.py), which the deployment's salt ties back to the user.
- `purge` deletes log files not written to within the retention.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

PATTERNS = ("*.log", "*.log.*")
MIN_NATIVE_ID = 6
_AROUND = rb"A-Za-z0-9_\-"


@dataclass(frozen=True)
class Mention:
    file: str
    line: int  # 1-based
    text: str


def log_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = {path for pattern in PATTERNS for path in folder.rglob(pattern) if path.is_file()}
    return sorted(found)


def user_pattern(sender_id: str, aliases: Sequence[str] = ()) -> re.Pattern[bytes]:
    """The user's id, the platform's own id inside it when long enough, and `aliases`, each standing alone."""
    needles = [sender_id, *(alias for alias in aliases if alias)]
    _channel, separator, native = sender_id.partition(":")
    if separator and len(native) >= MIN_NATIVE_ID:
        needles.append(native)
    alternatives = b"|".join(re.escape(n.encode("utf-8")) for n in sorted(needles, key=len, reverse=True))
    return re.compile(rb"(?<![" + _AROUND + rb"])(?:" + alternatives + rb")(?![" + _AROUND + rb"])")


def _read(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as compressed:
            return compressed.read()
    return path.read_bytes()


def mentions(folder: Path, sender_id: str, aliases: Sequence[str] = ()) -> list[Mention]:
    """Every log line under `folder` naming the user."""
    pattern = user_pattern(sender_id, aliases)
    found = []
    for path in log_files(folder):
        for number, line in enumerate(_read(path).splitlines(), start=1):
            if pattern.search(line):
                found.append(Mention(str(path), number, line.decode("utf-8", errors="replace")))
    return found


def redact(folder: Path, sender_id: str, aliases: Sequence[str] = ()) -> int:
    """Masks the user's id (and `aliases`) in every log file under `folder`; the number of occurrences masked."""
    pattern = user_pattern(sender_id, aliases)
    masked = 0
    for path in log_files(folder):
        content = _read(path)
        spans = [match.span() for match in pattern.finditer(content)]
        if not spans:
            continue
        masked += len(spans)
        if path.suffix == ".gz":  # a rotated copy: no one writes to it any more
            _rewrite_compressed(path, pattern.sub(lambda match: b"*" * len(match.group()), content))
            continue
        descriptor = os.open(path, os.O_WRONLY)
        try:
            for start, end in spans:
                os.pwrite(descriptor, b"*" * (end - start), start)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return masked


def _rewrite_compressed(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + ".redacting")
    with gzip.open(partial, "wb") as compressed:
        compressed.write(content)
    os.replace(partial, path)


def purge(folder: Path, before: dt.datetime) -> list[str]:
    """Deletes the log files under `folder` last written before `before`; the files deleted."""
    removed = []
    for path in log_files(folder):
        if dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc) < before:
            path.unlink(missing_ok=True)
            removed.append(str(path))
    return removed
