"""talentbot.core.parent_death: a child that should die with its parent never runs on without it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from talentbot.core import parent_death

pytestmark = pytest.mark.skipif(not parent_death.supported(), reason="PR_SET_PDEATHSIG is Linux's")

CHILD = "import sys; from talentbot.core.parent_death import die_with_parent; die_with_parent(int(sys.argv[1])); " \
        "print('ran on')"


def run_child(expected_parent: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(expected_parent)], capture_output=True, text=True,
                          timeout=30)


def test_a_child_of_a_living_parent_runs_on() -> None:
    child = run_child(os.getpid())
    assert (child.returncode, child.stdout) == (0, "ran on\n")


def test_a_child_whose_parent_already_died_exits_at_once() -> None:
    """The parent may die between the fork and the prctl call; no signal would come then, so the child sees that
    its parent is not the one it was forked from and exits."""
    child = run_child(os.getpid() + 1_000_000)  # not our pid: as if we had died and the child been adopted
    assert (child.returncode, child.stdout) == (1, "")
