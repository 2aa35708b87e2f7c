"""Load generators for the REST channel: closed loop (N senders) and open loop (a fixed schedule), with stats."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence

import httpx

TIMEOUT_S = 30.0
"""A request slower than this counts as an error; keeps every run bounded."""

CONVERSATION_TURNS = 10
"""Each simulated user starts a new conversation after this many messages, as real chats are short; without it
one sender's tracker grows to hundreds of turns and the run measures tracker-store growth, not the assistant."""


@dataclass
class LoadResult:
    """Latencies in milliseconds; throughput in completed messages per second of wall time."""

    mode: str
    requests: int
    errors: int
    wall_s: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summarise(mode: str, latencies: List[float], errors: int, wall: float) -> LoadResult:
    ms = [x * 1000 for x in latencies]
    return LoadResult(
        mode=mode, requests=len(latencies) + errors, errors=errors, wall_s=round(wall, 2),
        throughput=round(len(latencies) / wall, 2) if wall else 0.0,
        p50_ms=round(statistics.median(ms), 1) if ms else 0.0,
        p95_ms=round(percentile(ms, 95), 1), p99_ms=round(percentile(ms, 99), 1),
        max_ms=round(max(ms), 1) if ms else 0.0,
    )


async def _send(client: httpx.AsyncClient, url: str, sender: str, text: str) -> float:
    start = time.perf_counter()
    reply = await client.post(url, json={"sender": sender, "message": text})
    reply.raise_for_status()
    if not reply.json():
        raise RuntimeError("empty reply")
    return time.perf_counter() - start


async def closed_loop(base_url: str, messages: Sequence[str], senders: int, per_sender: int) -> LoadResult:
    """`senders` conversations at once, each sending its next message when the previous reply arrives."""
    url = f"{base_url}/webhooks/rest/webhook"
    latencies: List[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=senders + 4)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:

        async def conversation(index: int) -> None:
            nonlocal errors
            user = uuid.uuid4().hex[:8]
            texts = itertools.islice(itertools.cycle(messages), index, index + per_sender)
            for turn, text in enumerate(texts):
                sender = f"bench-{user}-{turn // CONVERSATION_TURNS}"
                try:
                    latencies.append(await _send(client, url, sender, text))
                except (httpx.HTTPError, RuntimeError):
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(senders)))
        wall = time.perf_counter() - start
    return summarise(f"closed loop, {senders} sender(s)", latencies, errors, wall)


async def open_loop(base_url: str, messages: Sequence[str], rate: float, duration_s: float) -> LoadResult:
    """Messages sent on a fixed schedule (`rate` per second), whether or not earlier ones were answered."""
    url = f"{base_url}/webhooks/rest/webhook"
    latencies: List[float] = []
    errors = 0
    total = int(rate * duration_s)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=httpx.Limits(max_connections=256)) as client:

        async def one(i: int, at: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            try:
                # Several users at once, as in real traffic, each for CONVERSATION_TURNS messages.
                sender = f"open-{i % 8}-{i // (8 * CONVERSATION_TURNS)}-{start:.0f}"
                latencies.append(await _send(client, url, sender, messages[i % len(messages)]))
            except (httpx.HTTPError, RuntimeError):
                errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(i, start + i / rate) for i in range(total)))
        wall = time.perf_counter() - start
    return summarise(f"open loop, {rate:g} msg/s offered", latencies, errors, wall)
