"""Child processes that die with their parent, so a killed supervisor (SIGKILL, the OOM killer) leaves no server
behind holding its port.

Linux's PR_SET_PDEATHSIG makes the kernel signal a process when its parent goes. Two traps, both handled by the
callers: the setting is not inherited across fork (every generation sets its own: the supervisor's servers, and the
Sanic workers the servers fork), and "parent" means the *thread* that forked, so forking from a thread that ends
early would kill the child with it (talentbot.wiring.supervisor forks from one thread that lives as long as it).
Elsewhere than Linux this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Callable, Optional

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

DEATH_SIGNAL = signal.SIGKILL
"""SIGKILL, not SIGTERM: with the supervisor gone nobody could escalate if a graceful stop hung, and the stores are
transactional, so nothing committed is lost."""

_prctl: Optional[Callable[..., int]] = None


def supported() -> bool:
    return sys.platform.startswith("linux")


def prepare() -> None:
    """Looks up prctl in the C library now, in the parent: a forked child should only call it, not load it."""
    global _prctl
    if _prctl is None and supported():
        _prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent(parent_pid: int) -> None:
    """In a freshly forked child: be killed when the parent dies; exit at once if it already has (it may have
    died between the fork and this call, and would then never send the signal)."""
    if not supported():
        return
    prepare()
    assert _prctl is not None
    if _prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != parent_pid:
        os._exit(1)


def preexec_fn() -> Optional[Callable[[], None]]:
    """For `subprocess.Popen(preexec_fn=...)`: the child dies with this process (None where unsupported)."""
    if not supported():
        return None
    prepare()
    parent_pid = os.getpid()
    return lambda: die_with_parent(parent_pid)
