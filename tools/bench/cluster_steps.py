"""`make bench`'s steps on three hosts behind HAProxy (issue 14): `make multihost`'s throughput with 1, 2 and 3
hosts and its fail-over counts, then the soak (tools/bench/soak.py).

Each runs as its own process (`python -m tools.multihost`, `python -m tools.bench.soak`): the bench process has
loaded a model by then, and the soak measures its load generator's memory too. Their full reports stay in
bench/reports/multihost.json and soak.json; the bench report keeps the figures its table shows. A machine that
cannot make network namespaces (not root, no `ip netns`, no HAProxy...) skips both with the reason; a step that
fails is reported as such, and the bench goes on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from talentbot.core import paths
from tools.multihost.cluster import problems

REPORTS = paths.ROOT / "bench" / "reports"
MULTIHOST_REPORT = REPORTS / "multihost.json"
SOAK_REPORT = REPORTS / "soak.json"
SOAK_RATE = 10.0
"""Issue 14: 10 messages a second across the hosts."""
QUICK_MULTIHOST = ["--per-sender", "4", "--duration", "8", "--before", "8", "--down", "10", "--after", "10"]


def soak_warmup_minutes(minutes: float) -> float:
    """5 minutes of a 30-minute soak; a third of a shorter one (so windows after warm-up remain)."""
    return min(5.0, minutes / 3)


def _loadavg() -> List[float]:
    """The machine's 1, 5 and 15-minute load averages: how much else was running."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _model_option(model: Optional[Path]) -> List[str]:
    """The bench's model for the step (else the step finds, or trains, models/'s own)."""
    return ["--model", str(model)] if model else []


def _skip_reason() -> Optional[str]:
    found = problems()
    return "skipped: three hosts need network namespaces here: " + "; ".join(found) if found else None


def _run(command: List[str], out: Path, timeout_s: float) -> Dict[str, Any]:
    """Runs a step (its output goes to the bench's own), then reads the report it wrote."""
    out.unlink(missing_ok=True)
    try:
        status = subprocess.run(command, cwd=paths.ROOT, timeout=timeout_s).returncode
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout_s:.0f} s"}
    if not out.exists():
        return {"error": f"`{' '.join(command[2:])}` exited with {status} and wrote no report"}
    report: Dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return {"exit_status": status, "report": str(out.relative_to(paths.ROOT)), **report}


def multihost(quick: bool, model: Optional[Path] = None) -> Dict[str, Any]:
    """`make multihost`: throughput, p95 and CPU per message through HAProxy with 1, 2, 3 hosts (16 concurrent
    senders, then 12 msg/s open loop), and a host killed under traffic (sent, answered, lost, doubled). Never
    raises: what went wrong is the step's result."""
    try:
        return _multihost(quick, model)
    except Exception as error:  # the bench's other figures must still be written
        return {"error": f"{type(error).__name__}: {error}"}


def soak(minutes: float, model: Optional[Path] = None) -> Dict[str, Any]:
    """`make soak` for `minutes` at SOAK_RATE (0: not run). Never raises, as `multihost`."""
    try:
        return _soak(minutes, model)
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def _multihost(quick: bool, model: Optional[Path]) -> Dict[str, Any]:
    reason = _skip_reason()
    if reason:
        print(f"   {reason}", flush=True)
        return {"skipped": reason}
    before = _loadavg()
    report = _run([sys.executable, "-m", "tools.multihost", "--out", str(MULTIHOST_REPORT),
                   *_model_option(model), *(QUICK_MULTIHOST if quick else [])], MULTIHOST_REPORT, timeout_s=3600)
    if "error" in report:
        return report
    failover = report.get("failover") or {}
    return {
        "exit_status": report["exit_status"], "report": report["report"], "workers_per_host": report.get(
            "workers_per_host"), "loadavg_before_after": [before, _loadavg()],  # other work on the machine
        "throughput": [{key: row.get(key) for key in ("hosts", "mode", "requests", "errors", "throughput", "p50_ms",
                                                      "p95_ms", "cpu_ms_per_message", "machine_cpu_busy")}
                       for row in report.get("throughput") or []],
        "failover": {key: failover.get(key) for key in ("victim", "sent", "answered", "lost", "doubled", "resent",
                                                         "wrong_language", "seconds", "slowest_answer_s")},
    }


def _soak(minutes: float, model: Optional[Path]) -> Dict[str, Any]:
    if minutes <= 0:
        return {"skipped": "SOAK_MINUTES=0"}
    reason = _skip_reason()
    if reason:
        print(f"   {reason}", flush=True)
        return {"skipped": reason}
    report = _run([sys.executable, "-m", "tools.bench.soak", "--minutes", f"{minutes:g}", "--rate", f"{SOAK_RATE:g}",
                   "--warmup-minutes", f"{soak_warmup_minutes(minutes):g}", "--out", str(SOAK_REPORT),
                   *_model_option(model)],
                  SOAK_REPORT, timeout_s=60 * minutes + 1800)
    if "error" in report:
        return report
    report.pop("samples", None)  # in soak.json
    return report


def summary(report: Dict[str, Any]) -> Dict[str, Any]:
    """Lines for the bench's printed table."""
    lines: Dict[str, Any] = {}
    multi = report.get("multihost")
    if multi is not None:
        if "throughput" not in multi:
            lines["multi-host"] = multi.get("skipped") or multi.get("error")
        for row in multi.get("throughput", []):
            load = row["mode"].split(", ", 1)[-1].replace(" offered", "")  # "16 sender(s)", "12 msg/s"
            lines[f"multi-host, {row['hosts']} host(s), {load}: msg/s / p95 ms / CPU ms per msg"] = (
                f"{row['throughput']} / {row['p95_ms']} / {row['cpu_ms_per_message']}"
                + (f" ({row['errors']} errors)" if row["errors"] else ""))
        if multi.get("loadavg_before_after"):
            lines["multi-host: loadavg (1, 5, 15 min) before / after"] = " / ".join(
                str(figures) for figures in multi["loadavg_before_after"])
        failover = multi.get("failover")
        if failover:
            lines["multi-host fail-over: sent / answered / lost / doubled"] = (
                f"{failover['sent']} / {failover['answered']} / {failover['lost']} / {failover['doubled']}")
    soaked = report.get("soak")
    if soaked is not None:
        if "windows" not in soaked:
            lines["soak"] = soaked.get("skipped") or soaked.get("error")
        else:
            settings = soaked["settings"]
            name = f"soak ({settings['minutes']:g} min, {settings['rate']:g} msg/s, {soaked.get('hosts', 3)} hosts)"
            lines[f"{name}: max memory growth % / errors"] = (
                f"{soaked['max_growth_pct']} / {soaked['errors']} of {soaked['sent']}"
                f" ({'pass' if soaked['pass'] else 'FAIL'})")
            p95 = [row["p95_ms"] for row in soaked["windows"] if not row.get("warmup")]
            lines[f"{name}: p95 ms per window after warm-up"] = " / ".join(str(x) for x in p95)
            lines[f"{name}: loadavg max"] = soaked["loadavg_1m_max"]
    return lines
