"""Resident memory of a process and its descendants, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List


def children(pid: int, live: bool = False) -> List[int]:
    """The direct children of `pid`, sorted; `live`: without zombies (exited, not yet reaped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and not (live and fields[0] == "Z"):
            found.append(int(stat.parent.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(pid: int) -> Dict[int, float]:
    """pid → RSS in MiB for `pid` and every descendant (Sanic workers are children of the main process)."""
    result, todo = {}, [pid]
    while todo:
        current = todo.pop()
        result[current] = round(rss_mb(current), 1)
        todo.extend(children(current))
    return result
