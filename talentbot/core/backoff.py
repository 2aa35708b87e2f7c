"""Restart back-off: how long a supervisor waits before starting a crashed process again."""

from __future__ import annotations

import signal
from dataclasses import dataclass

FIRST_DELAY_S = 1.0
"""The first restart comes quickly: most crashes are one-off (a killed process, an out-of-memory kill)."""

MAX_DELAY_S = 30.0
"""The delay doubles with each crash in a row up to this cap, so a process that cannot start (a port taken, a
database gone) is retried twice a minute instead of in a busy loop that fills the log."""

STABLE_AFTER_S = 60.0
"""A process that ran this long before it died counts as having run fine: its next restart is quick again.
Rasa needs ~30 s to load its model, so a crash during start-up never counts as a good run."""


@dataclass
class Backoff:
    """The delays before successive restarts of one process: 1, 2, 4, 8 ... s, capped, and back to the first
    delay once the process has run fine for `stable_after_s`. Pure: the caller says how long the process ran."""

    first_s: float = FIRST_DELAY_S
    max_s: float = MAX_DELAY_S
    stable_after_s: float = STABLE_AFTER_S
    crashes_in_a_row: int = 0  # crashes since the last good run

    def next_delay(self, ran_for_s: float) -> float:
        """Records a crash of a process that had been running `ran_for_s` seconds; returns the wait before its
        restart."""
        if ran_for_s >= self.stable_after_s:
            self.crashes_in_a_row = 0
        delay = min(self.max_s, self.first_s * 2.0 ** self.crashes_in_a_row)
        self.crashes_in_a_row += 1
        return delay


def describe_exit(returncode: int) -> str:
    """`exit code 1`, or `exit code -9 (SIGKILL)` for a process killed by a signal (Popen's negative codes)."""
    if returncode < 0:
        try:
            return f"exit code {returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return f"exit code {returncode}"
