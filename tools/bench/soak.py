"""`make soak`: the three-host cluster (tools/multihost/cluster.py) under a steady open-loop load for a long time.

    .venv/bin/python -m tools.bench.soak --minutes 30 --rate 10 --warmup-minutes 5

Issue 14 asks that a 30-minute soak at 10 messages/s across the hosts keep the memory of every process flat (growth
under 5 % after warm-up) with no errors. Many simulated users write through HAProxy in three languages: questions
from our evaluation sets and the dev real questions (question-bank answers, with follow-ups), greetings and thanks,
and eligibility-form conversations. Messages leave on a fixed schedule (`rate` a second) whatever the answers do;
each user still waits for an answer before its next turn, as a person does.

Every `--sample-seconds` the resident memory (RSS, and PSS where /proc/<pid>/smaps_rollup is readable) and CPU time
of every process is read: each host's Rasa server processes, action server and (host 1) staff console, HAProxy, the
forwarder, and this load generator (listed, not judged: it keeps every outcome), with the machine's loadavg and CPU
use. Errors (not 200, timeouts, empty replies) and latency are counted per window. A process passes when the median
RSS of the last window is under 5 % above the median of the first window after warm-up (medians: a sample taken
during a garbage collection or a burst does not decide).

Writes bench/reports/soak.json and prints a summary. The pure parts (windows, growth, pass/fail) are unit-tested in
tests/tools/bench/test_soak.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, TypeVar

import httpx

from talentbot.core import paths
from talentbot.core.language import detect
from tools.bench import load, questions
from tools.bench.procs import rss_mb
from tools.multihost import scenarios
from tools.multihost.cluster import Cluster, cpu_seconds, problems, running_cluster

REPORT = paths.ROOT / "bench" / "reports" / "soak.json"

GROWTH_LIMIT_PCT = 5.0
"""Issue 14: memory growth under 5 % after warm-up."""

Window = Tuple[float, float]
"""(start, end) in seconds since the load started."""
T = TypeVar("T")

# --- the pure parts (tests/tools/bench/test_soak.py) ---------------------------------------------------------------


def plan_windows(total_s: float, warmup_s: float, preferred_s: float) -> List[Window]:
    """The windows after warm-up: equal ones of about `preferred_s` that cover (warmup_s, total_s], at least two so a
    first and a last one can be compared (a 3-minute run with 1 minute of warm-up: two 1-minute windows)."""
    span = total_s - warmup_s
    if span <= 0 or preferred_s <= 0:
        raise ValueError(f"no time left after {warmup_s:g} s of warm-up in {total_s:g} s")
    count = max(2, round(span / preferred_s))
    size = span / count
    return [(warmup_s + i * size, warmup_s + (i + 1) * size) for i in range(count)]


def bucket(points: Sequence[Tuple[float, T]], windows: Sequence[Window]) -> List[List[T]]:
    """The values of (time, value) points per window; the last window is open at its end (the final sample and
    answers arrive a little after the schedule ends); points before the first window are left out (warm-up)."""
    buckets: List[List[T]] = [[] for _ in windows]
    for at, value in points:
        for index, (start, end) in enumerate(windows):
            if at >= start and (at < end or index == len(windows) - 1):
                buckets[index].append(value)
                break
    return buckets


def growth(series: Sequence[Tuple[float, float]], windows: Sequence[Window]) -> Dict[str, Optional[float]]:
    """Median of the first window vs median of the last: `first`, `last`, `growth_pct` (None where a window has no
    sample, e.g. the process was gone)."""
    buckets = bucket(series, windows)
    if not buckets or not buckets[0] or not buckets[-1]:
        return {"first": None, "last": None, "growth_pct": None}
    first, last = statistics.median(buckets[0]), statistics.median(buckets[-1])
    return {"first": round(first, 1), "last": round(last, 1),
            "growth_pct": round(100 * (last - first) / first, 2) if first > 0 else None}


def passes(growth_pct: Optional[float], limit_pct: float = GROWTH_LIMIT_PCT) -> bool:
    """Flat enough: grew less than `limit_pct` (a process without a figure did not stay up: it fails)."""
    return growth_pct is not None and growth_pct < limit_pct


@dataclass
class Outcome:
    """One message: when it left (seconds since the load started), how long its answer took, what went wrong."""

    at: float
    latency_s: float
    error: str = ""  # "" answered; "timeout", "HTTP 502", "empty reply", an httpx error's name...
    host: str = "-"  # HAProxy's X-Served-By
    in_language: Optional[bool] = None  # the reply's language is the message's (None: not known / not answered)


def window_rows(outcomes: Sequence[Outcome], windows: Sequence[Window],
                loadavg: Sequence[Tuple[float, float]] = (),
                busy: Sequence[Tuple[float, float]] = ()) -> List[Dict[str, Any]]:
    """Per window: messages sent, answered, errors by kind, p50/p95/p99/max latency of the answered ones, and the
    machine's 1-minute loadavg (mean, max) and CPU use (fraction of all cores) from the samples."""
    by_window = bucket([(o.at, o) for o in outcomes], windows)
    loads = bucket(loadavg, windows)
    busies = bucket(busy, windows)
    rows = []
    for (start, end), sent, load1, used in zip(windows, by_window, loads, busies, strict=True):
        ms = [1000 * o.latency_s for o in sent if not o.error]
        errors = Counter(o.error for o in sent if o.error)
        rows.append({
            "from_min": round(start / 60, 1), "to_min": round(end / 60, 1), "sent": len(sent), "answered": len(ms),
            "errors": sum(errors.values()), "error_kinds": dict(errors),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(load.percentile(ms, 95), 1) if ms else None,
            "p99_ms": round(load.percentile(ms, 99), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
            "wrong_language": sum(1 for o in sent if o.in_language is False),
            "loadavg_1m_mean": round(statistics.fmean(load1), 2) if load1 else None,
            "loadavg_1m_max": round(max(load1), 2) if load1 else None,
            "cpu_busy": round(statistics.fmean(used), 2) if used else None,
        })
    return rows


def memory_verdicts(series: Dict[str, List[Tuple[float, float]]], windows: Sequence[Window],
                    judged: Sequence[str], limit_pct: float = GROWTH_LIMIT_PCT) -> Dict[str, Dict[str, Any]]:
    """Per process label: its growth (first vs last window after warm-up) and whether it passes; processes not in
    `judged` are shown with `pass: None`."""
    verdicts: Dict[str, Dict[str, Any]] = {}
    for label, points in series.items():
        figures: Dict[str, Any] = dict(growth(points, windows))
        figures["pass"] = passes(figures["growth_pct"], limit_pct) if label in judged else None
        verdicts[label] = figures
    return verdicts


def process_labels(host: str, processes: Sequence[Tuple[int, int, str]]) -> Dict[int, str]:
    """Names for one host's processes, (pid, parent pid, command line) each: `h1 rasa`, `h1 actions`, `h1 console`;
    a process whose parent has the same role is that server's worker (`h1 rasa worker`); further ones of a name get
    ` 2`, ` 3` (in pid order)."""
    roles = {pid: role_of(command) for pid, _, command in processes}
    labels: Dict[int, str] = {}
    seen: Counter = Counter()
    for pid, parent, _ in sorted(processes):
        role = roles[pid]
        if roles.get(parent) == role:
            role += " worker"
        seen[role] += 1
        labels[pid] = f"{host} {role}" + (f" {seen[role]}" if seen[role] > 1 else "")
    return labels


ROLES = (("multiprocessing.resource_tracker", "resource tracker"), ("talentbot.wiring.rasa_server", "rasa"),
         ("talentbot.rasa_plugins.action_server", "actions"), ("talentbot.wiring.cli", "console"))


def role_of(command: str) -> str:
    for needle, role in ROLES:
        if needle in command:
            return role
    return Path(command.split(" ", 1)[0]).name or "?"


# --- what the users write -----------------------------------------------------------------------------------------

Script = List[Tuple[str, Optional[str]]]
"""A conversation: (message, the language its answer must be in, None if not known)."""

FORMS: List[Script] = [
    [(text, "en") for text, _ in scenarios.ELIGIBILITY],
    [("幫我睇下我申唔申到高才通", "zh-Hant"), ("我年薪八十萬，港大碩士", "zh-Hant"), ("其實我係博士", "zh-Hant"),
     ("我2019年畢業", "zh-Hant"), ("做咗五年嘢", "zh-Hant")],
    [("我适合哪个计划", "zh-Hans"), ("年收入250万港币，清华本科，工作五年了", "zh-Hans"), ("不用了", "zh-Hans")],
    [("我有硕士学位", "zh-Hans"), ("跳过", "zh-Hans"), ("其实我是博士", "zh-Hans"), ("没有", "zh-Hans"),
     ("不用了", "zh-Hans")],
    [("which scheme fits me?", "en"), ("how long does ImmD take to process a QMAS application?", "en")],
    [("我啱唔啱申請高才通？", "zh-Hant"), ("簽證費係幾多錢？", "zh-Hant")],
]
"""Eligibility-form conversations (as tests/stories/test_eligibility.yml): the whole form, facts given unasked and
corrected, a check stopped, a check left for a question."""

OPENERS = {"en": ["hello", "hi there"], "zh-Hant": ["你哋好", "哈囉"], "zh-Hans": ["你们好", "您好，请问一下"]}
CLOSERS = {"en": ["thank you", "thanks, that helps"], "zh-Hant": ["唔該晒", "多謝"], "zh-Hans": ["谢谢", "好的，谢谢"]}


def question_scripts() -> List[Script]:
    """Our evaluation sets and the dev real questions: each item one conversation (a question, its follow-ups)."""
    files = [*questions.eval_files(), *questions.faq_files(), questions.REAL_QUESTIONS]
    scripts = [[(str(turn["user"]), (turn.get("expect") or {}).get("language")) for turn in item["turns"]]
               for item in questions.load_items(files) if item.get("turns")]
    scripts.append([(text, "en") for text, _ in scenarios.FOLLOW_UP])
    return scripts or [[(text, None)] for text in scenarios.MESSAGES]


@dataclass
class Conversations:
    """Draws the next conversation: a form with probability `form_share`, else a question conversation, with a
    greeting before it or thanks after it now and then."""

    rng: random.Random
    form_share: float
    scripts: List[Script] = field(default_factory=question_scripts)

    def next(self) -> Script:
        script = list(self.rng.choice(FORMS if self.rng.random() < self.form_share else self.scripts))
        language = next((lang for _, lang in script if lang), "en")
        if self.rng.random() < 0.3:
            script.insert(0, (self.rng.choice(OPENERS[language]), language))
        if self.rng.random() < 0.3:
            script.append((self.rng.choice(CLOSERS[language]), language))
        return script


@dataclass
class User:
    sender: str
    script: Script
    turn: int = 0
    busy: bool = False

    @property
    def done(self) -> bool:
        return self.turn >= len(self.script)


# --- the load and the samples --------------------------------------------------------------------------------------


@dataclass
class Settings:
    minutes: float
    rate: float
    warmup_minutes: float
    window_minutes: float = 5.0
    sample_s: float = 30.0
    users: int = 40
    form_share: float = 0.15
    seed: int = 14

    @property
    def total_s(self) -> float:
        return 60 * self.minutes

    @property
    def warmup_s(self) -> float:
        return 60 * self.warmup_minutes


class Driver:
    """The open-loop load: a message every 1/rate s, from an idle user picked at random (a new user if every one
    is waiting for an answer, so the schedule holds); a user whose conversation is over starts a new one under a new
    sender id."""

    def __init__(self, cluster: Cluster, settings: Settings, run_id: str) -> None:
        self.url = f"{cluster.url}/webhooks/rest/webhook"
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.conversations = Conversations(random.Random(settings.seed + 1), settings.form_share)
        self.run_id = run_id
        self.started = 0.0
        self.conversations_started = 0
        self.users: List[User] = [self._new_user() for _ in range(settings.users)]
        self.outcomes: List[Outcome] = []
        self.examples: List[Dict[str, Any]] = []  # the first errors, in detail

    def _new_user(self) -> User:
        self.conversations_started += 1
        return User(f"soak-{self.run_id}-{self.conversations_started}", self.conversations.next())

    async def run(self) -> None:
        total = int(self.settings.rate * self.settings.total_s)
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=64)
        pending: Set["asyncio.Task[None]"] = set()
        async with httpx.AsyncClient(timeout=load.TIMEOUT_S, limits=limits) as client:
            for number in range(total):
                await asyncio.sleep(max(0.0, self.started + number / self.settings.rate - time.monotonic()))
                idle = [index for index, user in enumerate(self.users) if not user.busy]
                if idle:
                    index = self.rng.choice(idle)
                else:
                    self.users.append(self._new_user())
                    index = len(self.users) - 1
                if self.users[index].done:
                    self.users[index] = self._new_user()
                user = self.users[index]
                user.busy = True  # now, not when the task starts: the next tick must not pick it again
                text, language = user.script[user.turn]
                user.turn += 1
                task = asyncio.create_task(self._turn(client, user, text, language))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)

    async def _turn(self, client: httpx.AsyncClient, user: User, text: str, language: Optional[str]) -> None:
        at = time.monotonic()
        outcome = Outcome(at - self.started, 0.0)
        try:
            reply = await client.post(self.url, json={"sender": user.sender, "message": text})
            outcome.host = reply.headers.get("X-Served-By", "-")
            if reply.status_code != 200:
                outcome.error = f"HTTP {reply.status_code}"
            else:
                body = reply.json()
                said = " ".join(str(m.get("text") or "") for m in body if isinstance(m, dict)).strip()
                if not isinstance(body, list) or not body:
                    outcome.error = "empty reply"
                elif language and said:
                    outcome.in_language = detect(said, None).language == language
        except httpx.TimeoutException:
            outcome.error = "timeout"
        except (httpx.HTTPError, ValueError) as error:
            outcome.error = type(error).__name__
        finally:
            outcome.latency_s = time.monotonic() - at
            user.busy = False
        self.outcomes.append(outcome)
        if outcome.error and len(self.examples) < 20:
            self.examples.append({"at_s": round(outcome.at, 1), "error": outcome.error, "host": outcome.host,
                                  "sender": user.sender, "message": text})


@dataclass
class Sampler:
    """Memory and CPU time of every process of the cluster, the machine's loadavg and CPU use, every few seconds."""

    cluster: Cluster
    labels: Dict[int, str] = field(default_factory=dict)  # pid -> label, as first seen
    judged: List[str] = field(default_factory=list)  # labels of the cluster's own processes
    samples: List[Dict[str, Any]] = field(default_factory=list)
    pss_readable: bool = True

    def processes(self) -> Dict[int, str]:
        """pid -> label of every process now: the hosts' (their namespaces), HAProxy, the forwarder, this one."""
        current: Dict[int, str] = {}
        for host in self.cluster.hosts:
            found = [(pid, _parent(pid), _command(pid)) for pid in host.pids()]
            current.update(process_labels(host.name, [p for p in found if p[2]]))
        for process in self.cluster.helpers.processes:
            name = "forwarder" if "tools.multihost.forward" in str(process.args) else "haproxy"
            current[process.pid] = name
        current[os.getpid()] = "load generator"
        for pid, label in current.items():
            if pid not in self.labels:
                taken = set(self.labels.values())
                self.labels[pid] = label if label not in taken else f"{label} (pid {pid})"  # a restarted process
                if self.labels[pid] != "load generator":
                    self.judged.append(self.labels[pid])
        return {pid: self.labels[pid] for pid in current}

    def sample(self, at: float) -> Dict[str, Any]:
        procs: Dict[str, Dict[str, Any]] = {}
        for pid, label in self.processes().items():
            rss = rss_mb(pid)
            if rss <= 0:
                continue  # gone between the listing and the reading
            pss = self._pss_mb(pid)
            procs[label] = {"pid": pid, "rss_mb": round(rss, 1), "cpu_s": round(cpu_seconds(pid), 2),
                            **({"pss_mb": round(pss, 1)} if pss is not None else {})}
        busy, total = scenarios.machine_cpu()
        load1, load5, load15 = (float(x) for x in Path("/proc/loadavg").read_text().split()[:3])
        sample = {"at_s": round(at, 1), "loadavg": [load1, load5, load15], "cpu_jiffies": [busy, total],
                  "processes": procs}
        self.samples.append(sample)
        return sample

    def _pss_mb(self, pid: int) -> Optional[float]:
        if not self.pss_readable:
            return None
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
        except PermissionError:
            self.pss_readable = False
        except OSError:
            pass
        return None


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


async def soak(cluster: Cluster, settings: Settings) -> Dict[str, Any]:
    """Runs the load and the sampler side by side for `settings.minutes`; returns the report."""
    run_id = uuid.uuid4().hex[:6]
    driver = Driver(cluster, settings, run_id)
    sampler = Sampler(cluster)
    haproxy_before = cluster.haproxy.stats()

    async def sample_all() -> None:
        count = int(settings.total_s // settings.sample_s)
        for number in range(count + 1):
            await asyncio.sleep(max(0.0, driver.started + number * settings.sample_s - time.monotonic()))
            sample = await asyncio.to_thread(sampler.sample, time.monotonic() - driver.started)
            if number and number % max(1, round(60 / settings.sample_s)) == 0:
                progress(driver, sample)

    driver.started = time.monotonic()
    await asyncio.gather(driver.run(), sample_all())
    haproxy_after = cluster.haproxy.stats()
    report = analyse(settings, driver.outcomes, sampler)
    report["users"] = {"conversations": driver.conversations_started, "user_slots_max": len(driver.users)}
    report["error_examples"] = driver.examples
    report["haproxy"] = {name: {key: int(haproxy_after[name][key] or 0) - int(haproxy_before[name][key] or 0)
                                for key in ("lbtot", "hrsp_2xx", "hrsp_5xx", "eresp", "econ", "wredis", "chkdown")}
                         for name in haproxy_after}
    return report


def progress(driver: Driver, sample: Dict[str, Any]) -> None:
    recent = [o for o in driver.outcomes if o.at > sample["at_s"] - 60]
    ms = [1000 * o.latency_s for o in recent if not o.error]
    errors = sum(1 for o in driver.outcomes if o.error)
    rasa = {label: p["rss_mb"] for label, p in sample["processes"].items() if label.endswith(" rasa")}
    print(f"  {sample['at_s'] / 60:5.1f} min: sent {len(driver.outcomes)}, errors {errors}, last minute p95 "
          f"{load.percentile(ms, 95):.0f} ms, loadavg {sample['loadavg'][0]:.2f}, Rasa RSS MiB {rasa}", flush=True)


def analyse(settings: Settings, outcomes: List[Outcome], sampler: Sampler) -> Dict[str, Any]:
    """The report: per-window latency and errors, per-process memory growth, pass/fail."""
    windows = plan_windows(settings.total_s, settings.warmup_s, 60 * settings.window_minutes)
    rows_windows = ([(0.0, settings.warmup_s)] if settings.warmup_s > 0 else []) + windows
    samples = sampler.samples
    loadavg = [(s["at_s"], s["loadavg"][0]) for s in samples]
    busy = [(b["at_s"], (b["cpu_jiffies"][0] - a["cpu_jiffies"][0]) / max(1, b["cpu_jiffies"][1] - a["cpu_jiffies"][1]))
            for a, b in zip(samples, samples[1:], strict=False)]  # the CPU use between two samples
    rows = window_rows(outcomes, rows_windows, loadavg, busy)
    if settings.warmup_s > 0:
        rows[0]["warmup"] = True
    rss: Dict[str, List[Tuple[float, float]]] = {}
    pss: Dict[str, List[Tuple[float, float]]] = {}
    for s in samples:
        for label, figures in s["processes"].items():
            rss.setdefault(label, []).append((s["at_s"], figures["rss_mb"]))
            if "pss_mb" in figures:
                pss.setdefault(label, []).append((s["at_s"], figures["pss_mb"]))
    memory = memory_verdicts(rss, windows, sampler.judged)
    for label, figures in memory.items():
        pss_growth = growth(pss.get(label, []), windows)
        figures["pid"] = next(pid for pid, name in sampler.labels.items() if name == label)
        figures["pss_first"], figures["pss_last"] = pss_growth["first"], pss_growth["last"]
        figures["pss_growth_pct"] = pss_growth["growth_pct"]
        figures["samples"] = len(rss[label])
    errors = Counter(o.error for o in outcomes if o.error)
    answered = [o for o in outcomes if not o.error]
    judged = [figures for label, figures in memory.items() if figures["pass"] is not None]
    gone = [label for label in sampler.judged if samples and label not in samples[-1]["processes"]]
    after = [o for o in outcomes if o.at >= windows[0][0]]
    cpu = _cpu_per_message(samples, windows[0][0], sum(1 for o in after if not o.error), sampler.judged)
    memory_pass = bool(judged) and all(figures["pass"] for figures in judged)
    return {
        "sent": len(outcomes), "answered": len(answered), "errors": sum(errors.values()),
        "error_kinds": dict(errors), "wrong_language": sum(1 for o in outcomes if o.in_language is False),
        "language_checked": sum(1 for o in outcomes if o.in_language is not None),
        "served_per_host": dict(sorted(Counter(o.host for o in answered).items())),
        "p50_ms": round(statistics.median([1000 * o.latency_s for o in answered]), 1) if answered else None,
        "p95_ms": round(load.percentile([1000 * o.latency_s for o in answered], 95), 1),
        "windows": rows, "memory": memory,
        "memory_limit_pct": GROWTH_LIMIT_PCT, "memory_pass": memory_pass,
        "max_growth_pct": max((f["growth_pct"] for f in judged if f["growth_pct"] is not None), default=None),
        "processes_gone": gone,
        "processes_new": [label for label in sampler.judged if "(pid " in label],
        "cpu_ms_per_message_after_warmup": cpu,
        "pss_readable": sampler.pss_readable,
        "loadavg_1m_max": max((s["loadavg"][0] for s in samples), default=None),
        "pass": memory_pass and not errors and not gone,
        "samples": samples,
    }


def _cpu_per_message(samples: List[Dict[str, Any]], since_s: float, answered: int,
                     judged: List[str]) -> Optional[float]:
    """CPU time (user + system) the cluster's processes spent per answered message after warm-up."""
    later = [s for s in samples if s["at_s"] >= since_s]
    if len(later) < 2 or not answered:
        return None
    first, last = later[0]["processes"], later[-1]["processes"]
    spent = sum(last[label]["cpu_s"] - first[label]["cpu_s"] for label in judged if label in first and label in last)
    return round(1000 * spent / answered, 1)


# --- the command ---------------------------------------------------------------------------------------------------


def summary(report: Dict[str, Any]) -> List[str]:
    s = report["settings"]
    lines = [f"soak: {s['minutes']:g} min at {s['rate']:g} msg/s through HAProxy, {report['hosts']} hosts, "
             f"warm-up {s['warmup_minutes']:g} min; {report['machine']['cpus']} CPUs; loadavg max "
             f"{report['loadavg_1m_max']}",
             f"sent {report['sent']}, answered {report['answered']}, errors {report['errors']} "
             f"{report['error_kinds']}; "
             f"{report['users']['conversations']} conversations; served per host {report['served_per_host']}; "
             f"CPU {report['cpu_ms_per_message_after_warmup']} ms/message after warm-up; replies in another language "
             f"{report['wrong_language']}/{report['language_checked']}",
             "",
             f"{'window (min)':<14} {'sent':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
             f"{'max ms':>8} {'loadavg':>8} {'CPUs busy':>9}"]
    for row in report["windows"]:
        name = f"{row['from_min']:g}-{row['to_min']:g}" + (" warm-up" if row.get("warmup") else "")
        busy = f"{row['cpu_busy']:.0%}" if row["cpu_busy"] is not None else "-"
        lines.append(f"{name:<14} {row['sent']:>6} {row['errors']:>6} {_show(row['p50_ms']):>8} "
                     f"{_show(row['p95_ms']):>8} {_show(row['p99_ms']):>8} {_show(row['max_ms']):>8} "
                     f"{_show(row['loadavg_1m_mean']):>8} {busy:>9}")
    lines += ["", f"{'process':<24} {'pid':>7} {'RSS MiB first':>13} {'last':>8} {'growth':>8} "
                  f"{'PSS first':>9} {'last':>8} {'growth':>8}  verdict"]
    for label, m in sorted(report["memory"].items()):
        verdict = "-" if m["pass"] is None else ("pass" if m["pass"] else "FAIL")
        lines.append(f"{label:<24} {m['pid']:>7} {_show(m['first']):>13} {_show(m['last']):>8} "
                     f"{_pct(m['growth_pct']):>8} {_show(m['pss_first']):>9} {_show(m['pss_last']):>8} "
                     f"{_pct(m['pss_growth_pct']):>8}  {verdict}")
    lines.append("")
    lines.append(f"memory: max growth {_pct(report['max_growth_pct'])} (limit {report['memory_limit_pct']:g} %): "
                 f"{'pass' if report['memory_pass'] else 'FAIL'}; processes gone {report['processes_gone']}, "
                 f"new {report['processes_new']}; overall {'PASS' if report['pass'] else 'FAIL'}")
    return lines


def _show(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:g}"


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:+.1f} %"


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the load (warm-up included)")
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second, open loop, across the hosts")
    parser.add_argument("--warmup-minutes", type=float, default=5.0, help="left out of the memory verdict")
    parser.add_argument("--window-minutes", type=float, default=5.0, help="latency and memory windows")
    parser.add_argument("--sample-seconds", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=40, help="simulated users writing at once (more if needed)")
    parser.add_argument("--form-share", type=float, default=0.15, help="share of eligibility-form conversations")
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MULTIHOST_SANIC_WORKERS", 1)),
                        help="Sanic workers per host (1: three hosts share two cores)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--model", type=Path, help="a trained model (default: models/'s for the current inputs, "
                        "trained first if missing)")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.warmup_minutes < 0 or args.warmup_minutes >= args.minutes:
        parser.error(f"--warmup-minutes ({args.warmup_minutes:g}) must leave time in --minutes ({args.minutes:g})")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv: List[str]) -> int:
    """0: every process flat and no errors; 1: not; 2: the cluster cannot run on this machine."""
    args = parse(argv)
    found = problems()
    if found:
        print("the soak cannot run here (three hosts need network namespaces): " + "; ".join(found), file=sys.stderr)
        return 2
    from talentbot.wiring.training import ensure_model

    settings = Settings(args.minutes, args.rate, args.warmup_minutes, args.window_minutes, args.sample_seconds,
                        args.users, args.form_share, args.seed)
    model = args.model.resolve() if args.model else ensure_model()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="talentbot-soak-") as folder:
        with running_cluster(model, Path(folder), hosts=args.hosts, workers=args.workers) as cluster:
            print(f"soak: {args.minutes:g} min at {args.rate:g} msg/s through HAProxy ({cluster.url}), samples every "
                  f"{args.sample_seconds:g} s...", flush=True)
            report: Dict[str, Any] = {
                "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "kernel": platform.release()},
                "settings": {"minutes": args.minutes, "rate": args.rate, "warmup_minutes": args.warmup_minutes,
                             "window_minutes": args.window_minutes, "sample_seconds": args.sample_seconds,
                             "users": args.users, "form_share": args.form_share, "seed": args.seed},
                "hosts": args.hosts, "workers_per_host": args.workers, "ready_s": cluster.ready_s,
                "model": model.name,
            }
            report.update(asyncio.run(soak(cluster, settings)))
    report["wall_s"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(summary(report)))
    print(f"report: {args.out}  ({report['wall_s']:.0f} s)")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
