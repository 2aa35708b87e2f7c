"""What the multi-host set-up is shown to do (tools/multihost/cluster.py), each returning what it saw and counted:

- `coherent_conversations`: one user's turns spread over every host (round robin) still make one conversation;
- `pushes_across_hosts`: a staff reply reaches the web page whichever host holds its socket;
- `measure`: throughput, p95 and CPU time per message through HAProxy with a given set of hosts in service;
- `failover`: a host is killed (SIGKILL) under traffic, then comes back; every message counted.

The test (tests/scale/test_multihost.py) asserts on the results; `make multihost` (tools/multihost/__main__.py)
writes them to bench/reports/multihost.json.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx

from talentbot.core.language import detect
from tools.bench import load
from tools.bench.socketio_client import SocketIOClient
from tools.multihost.cluster import Cluster, cpu_seconds

# --- (a) one conversation over every host -------------------------------------------------------------------------

ELIGIBILITY = [
    ("check my eligibility please", "highest degree"),
    ("I earn 2.6M, master's from HKU, graduated 2019", "job offer"),
    ("no", "non-local student"),
    ("no", "How old are you"),
    ("I'm 34", "Schemes that fit you"),
]
"""The eligibility form: the facts of earlier turns (held in the tracker) decide each next question and the result."""
ELIGIBILITY_SLOTS = {"elig_income": 2600000.0, "elig_degree": "master", "elig_university": "University of Hong Kong",
                     "elig_job_offer": "no", "elig_hk_degree": "no", "elig_age": 34}
FOLLOW_UP = [
    ("What is QMAS?", "Quality Migrant Admission Scheme"),
    ("can my wife come with me?", "QMAS"),  # without the remembered scheme: an answer about unmarried partners
    ("how much does it cost?", "QMAS"),
]
"""Follow-ups that name no scheme: answered for the scheme remembered from an earlier turn (on another host)."""


@dataclass
class Turn:
    text: str
    expected: str
    status: int
    served_by: str
    reply: str

    @property
    def coherent(self) -> bool:
        return self.status == 200 and self.expected in self.reply


async def converse(cluster: Cluster, sender: str, turns: List[Tuple[str, str]]) -> List[Turn]:
    """Sends the turns one after the other through HAProxy (nothing else running: round robin takes them to the
    hosts in turn)."""
    said = []
    async with httpx.AsyncClient(timeout=60) as client:
        for text, expected in turns:
            reply = await client.post(f"{cluster.url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
            body = reply.json() if reply.status_code == 200 else []
            said.append(Turn(text, expected, reply.status_code, reply.headers.get("X-Served-By", "?"),
                             "\n".join(message.get("text") or "" for message in body)))
    return said


async def tracker_slots(cluster: Cluster, sender: str) -> Dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.get(f"{cluster.url}/conversations/{sender}/tracker",
                                 headers={"Authorization": f"Bearer {cluster.token}"})
        reply.raise_for_status()
        return {name: value for name, value in reply.json()["slots"].items() if value is not None}


async def coherent_conversations(cluster: Cluster) -> Dict[str, Any]:
    """The eligibility form and a scheme follow-up, each user's turns spread over the hosts."""
    served_before = cluster.haproxy.served()
    form_user, follow_user = f"mh-form-{uuid.uuid4().hex[:8]}", f"mh-follow-{uuid.uuid4().hex[:8]}"
    form = await converse(cluster, form_user, ELIGIBILITY)
    slots = await tracker_slots(cluster, form_user)
    follow = await converse(cluster, follow_user, FOLLOW_UP)
    served_after = cluster.haproxy.served()
    return {
        "eligibility": [asdict(turn) for turn in form], "eligibility_slots": slots,
        "follow_up": [asdict(turn) for turn in follow],
        "incoherent": [turn.text for turn in form + follow if not turn.coherent],
        "hosts_per_conversation": {"eligibility": sorted({t.served_by for t in form}),
                                   "follow_up": sorted({t.served_by for t in follow})},
        "haproxy_requests_per_host": {name: served_after[name] - served_before.get(name, 0) for name in served_after},
    }


# --- (d) staff replies pushed to web pages on other hosts ----------------------------------------------------------


async def next_bot_text(client: SocketIOClient, timeout_s: float = 15) -> str:
    while True:
        name, data = await client.event(timeout_s=timeout_s)
        if name == "bot_uttered":
            return str(data.get("text", ""))


async def open_pages(cluster: Cluster) -> Dict[str, Tuple[SocketIOClient, str]]:
    """One chat page (socket.io over a websocket through HAProxy) on each host: host name -> (client, session)."""
    pages: Dict[str, Tuple[SocketIOClient, str]] = {}
    spare: List[SocketIOClient] = []
    for _ in range(4 * len(cluster.hosts)):
        client = await SocketIOClient.connect(cluster.url)
        host = client.ws.response_headers.get("X-Served-By", "?")
        if host in pages:
            spare.append(client)
        else:
            pages[host] = (client, await client.session())
        if len(pages) == len(cluster.hosts):
            break
    for client in spare:
        await client.close()
    return pages


async def pushes_across_hosts(cluster: Cluster, rounds: int = 2) -> Dict[str, Any]:
    """Direct pushes (`POST /webhooks/socketio/push` through HAProxy, as the console sends them) to a page on each
    host, until every (host holding the socket, host taking the push) pair has been seen `rounds` times; then the
    whole handoff through the staff console (on host 1) for a page on another host."""
    pages = await open_pages(cluster)
    hosts = [host.name for host in cluster.hosts]
    delivered: Counter = Counter()
    missed: List[Dict[str, str]] = []
    extra: List[Dict[str, str]] = []
    headers = {"Authorization": f"Bearer {cluster.token}"}
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            # page after page, several pushes each: round robin takes a page's pushes to every host in turn
            order = [name for name in sorted(pages) for _ in range(rounds * len(hosts))]
            for number, socket_host in enumerate(order * 3):
                if all(delivered[(s, p)] >= rounds for s in pages for p in hosts):
                    break
                client, session = pages[socket_host]
                text = f"staff reply {number} for the page on {socket_host}"
                pushed = await http.post(f"{cluster.url}/webhooks/socketio/push", headers=headers,
                                         json={"recipient_id": session, "text": text})
                push_host = pushed.headers.get("X-Served-By", "?")
                try:
                    got = await next_bot_text(client, timeout_s=10) if pushed.status_code == 200 else ""
                except asyncio.TimeoutError:
                    got = ""
                if got == text:
                    delivered[(socket_host, push_host)] += 1
                else:
                    missed.append({"socket": socket_host, "push": push_host, "status": str(pushed.status_code),
                                   "got": got})
            for socket_host, (client, _) in pages.items():  # each push reached its page once, and no other page
                with_extra = await _drain(client)
                extra += [{"socket": socket_host, "got": text} for text in with_extra]
        console = await handoff_through_console(cluster, pages)
    finally:
        for client, _ in pages.values():
            await client.close()
    return {
        "pages_on": sorted(pages),
        "delivered": {f"socket on {s}, push via {p}": delivered[(s, p)] for s in sorted(pages) for p in hosts},
        "missed": missed, "unexpected": extra, "console": console,
    }


async def _drain(client: SocketIOClient, quiet_s: float = 1.0) -> List[str]:
    """What else arrives on a page within `quiet_s`."""
    got = []
    while True:
        try:
            got.append(await next_bot_text(client, timeout_s=quiet_s))
        except asyncio.TimeoutError:
            return got


PASSWORD = "correct horse battery staple"


async def handoff_through_console(cluster: Cluster, pages: Dict[str, Tuple[SocketIOClient, str]]) -> Dict[str, Any]:
    """A web user on a host other than the console's asks for a person; an agent logs in to the console (host 1),
    claims the ticket and replies (console → HAProxy → any host → Redis → the page's host); resolving hands the
    conversation back to the assistant."""
    from talentbot.wiring.handoff_cli import add_staff

    console_host = next(host.name for host in cluster.hosts if host.console)
    page_host = next((name for name in pages if name != console_host), console_host)
    client, session = pages[page_host]
    await client.emit("user_uttered", {"message": "I'd like to talk to a member of staff", "session_id": session})
    queued = await next_bot_text(client)
    username = f"agent{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(add_staff, username, "agent", PASSWORD, cluster.handoff_db_url, 4)
    reply_text = f"Hello, this is {username} from the team."
    async with httpx.AsyncClient(base_url=cluster.console_url, timeout=30) as console:
        (await console.post("/api/login", json={"username": username, "password": PASSWORD})).raise_for_status()
        csrf = {"X-CSRF-Token": (await console.get("/api/me")).json()["csrf_token"]}
        tickets = (await console.get("/api/tickets", params={"status": "waiting"})).json()
        [ticket] = [t for t in tickets if t["conversation_id"] == session]
        claimed = await console.post(f"/api/tickets/{ticket['id']}/claim", headers=csrf)
        replied = await console.post(f"/api/tickets/{ticket['id']}/messages", headers=csrf, json={"text": reply_text})
        seen = await next_bot_text(client)
        resolved = await console.post(f"/api/tickets/{ticket['id']}/resolve", headers=csrf)
    back = await next_bot_text(client)  # "you are back with the assistant", pushed the same way
    await client.emit("user_uttered", {"message": "What is QMAS?", "session_id": session})
    answer = await next_bot_text(client)
    return {"page_on": page_host, "console_on": console_host, "queued": queued, "claim_status": claimed.status_code,
            "reply_status": replied.status_code, "reply_delivered": replied.json().get("delivered"),  # 201: the message
            "page_saw_reply": seen == reply_text, "resolve_status": resolved.status_code, "back": back,
            "answer_after": answer}


# --- throughput with 1, 2, 3 hosts ---------------------------------------------------------------------------------

MESSAGES = [
    "what is the top talent pass scheme?", "高才通係咩嚟㗎？", "高才通是什么计划？",
    "how long does QMAS take to process", "優才要等幾耐先批？", "专才签证审批要多久",
    "can my wife come with me under TTPS", "我老婆可唔可以一齊嚟？", "我可以带孩子去香港吗",
]
"""As `make bench` sends (tools/bench/main.py OUR_MESSAGES): each answered through the action server."""


def machine_cpu() -> Tuple[float, float]:
    """(busy, total) jiffies of all CPUs so far (/proc/stat): busy is everything but idle and iowait."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest time is within user)
    return total - fields[3] - fields[4], total


async def measure(cluster: Cluster, in_service: List[str], senders: int = 16, per_sender: int = 10,
                  rate: Optional[float] = None, duration_s: float = 10.0) -> Dict[str, Any]:
    """Load through HAProxy with only `in_service` hosts taking traffic (the others idle, in HAProxy's maintenance
    state): closed loop (`senders` users, `per_sender` messages each), or open loop (`rate` messages a second for
    `duration_s`). Throughput, latency, and the CPU time (user + system, from /proc) that the hosts' processes
    (Rasa, action servers, the console), HAProxy, the forwarder and this load generator spent per answered message,
    and how busy the machine's CPUs were (PostgreSQL and Redis included)."""
    cluster.haproxy.in_service(in_service)
    for name in in_service:
        await asyncio.to_thread(cluster.haproxy.wait_status, name, "UP", 30)
    served_before = cluster.haproxy.served()
    hosts_before = {host.name: host.cpu_seconds() for host in cluster.hosts}
    helpers_before = {**cluster.helper_cpu_seconds(), "load generator": cpu_seconds(os.getpid())}
    machine_before = machine_cpu()
    if rate:
        result = await load.open_loop(cluster.url, MESSAGES, rate, duration_s)
    else:
        result = await load.closed_loop(cluster.url, MESSAGES, senders, per_sender)
    machine_after = machine_cpu()
    hosts_after = {host.name: host.cpu_seconds() for host in cluster.hosts}
    helpers_after = {**cluster.helper_cpu_seconds(), "load generator": cpu_seconds(os.getpid())}
    served_after = cluster.haproxy.served()
    cluster.haproxy.in_service([host.name for host in cluster.hosts])
    answered = max(1, result.requests - result.errors)
    host_cpu = {name: hosts_after[name] - hosts_before[name] for name in hosts_after}
    return {
        "hosts": len(in_service), "in_service": in_service, **({"rate": rate} if rate else {"senders": senders}),
        **result.as_dict(),
        "cpu_ms_per_message": round(1000 * sum(host_cpu.values()) / answered, 1),
        "cpu_ms_per_message_by_host": {name: round(1000 * seconds / answered, 1) for name, seconds in host_cpu.items()},
        **{f"{name.replace(' ', '_')}_cpu_ms_per_message": round(
            1000 * (helpers_after[name] - helpers_before[name]) / answered, 2) for name in helpers_after},
        "machine_cpu_busy": round((machine_after[0] - machine_before[0]) /
                                  max(1, machine_after[1] - machine_before[1]), 2),
        "requests_per_host": {name: served_after[name] - served_before.get(name, 0) for name in served_after},
    }


# --- (b), (c) a host dies under traffic and comes back --------------------------------------------------------------

TURNS = [("hello", "en"), ("What is TTPS?", "en"), ("thank you", "en"), ("你们好", "zh-Hans"),
         ("高才通係咩？", "zh-Hant")]
"""What each user writes, in turn, and the language the answer must be in."""
RESEND_STATUSES = (502, 503, 504)
"""No answer from a host (HAProxy: the server died mid-request, or none is up): the user sends the message again,
as the chat page's user, or a platform redelivering a webhook, would."""
RESEND_FOR_S = 150.0
"""How long a user keeps sending a message again before counting it lost (a conversation whose previous message
died with its host waits for that message's lock ticket to expire: Rasa's TICKET_LOCK_LIFETIME, 60 s)."""


@dataclass
class Attempt:
    at: float  # monotonic
    took_s: float
    status: Optional[int]  # None: no HTTP answer at all
    served_by: str
    error: str = ""


@dataclass
class Message:
    """One user message, its id the unique text (its turn plus a tag)."""

    sender: str
    text: str
    language: str
    attempts: List[Attempt] = field(default_factory=list)
    reply: Optional[List[Dict[str, Any]]] = None  # the answer (a 200 with bot messages)
    waiting: bool = True  # no final outcome yet (an attempt is out, or another is coming)

    @property
    def sent_at(self) -> float:
        return self.attempts[0].at

    @property
    def answered(self) -> bool:
        return bool(self.reply)

    @property
    def served_by(self) -> str:
        return self.attempts[-1].served_by

    @property
    def answered_at(self) -> float:
        return self.attempts[-1].at + self.attempts[-1].took_s

    @property
    def in_language(self) -> bool:
        text = " ".join(message.get("text") or "" for message in self.reply or [])
        return detect(text, None).language == self.language


async def user(client: httpx.AsyncClient, url: str, sender: str, tag: str, stop: asyncio.Event,
               messages: List[Message], think_s: float) -> None:
    """Writes turn after turn until `stop`, each message sent again while there is no answer (RESEND_STATUSES or
    no HTTP answer), for at most RESEND_FOR_S."""
    for number in itertools.count(1):
        if stop.is_set():
            return
        turn, language = TURNS[number % len(TURNS)]
        message = Message(sender, f"{turn} #{tag}-{number}", language)
        messages.append(message)
        first = time.monotonic()
        while True:
            at = time.monotonic()
            try:
                reply = await client.post(f"{url}/webhooks/rest/webhook",
                                          json={"sender": sender, "message": message.text})
                attempt = Attempt(at, time.monotonic() - at, reply.status_code, reply.headers.get("X-Served-By", "-"))
                if reply.status_code == 200:
                    message.reply = reply.json()
            except httpx.HTTPError as error:
                attempt = Attempt(at, time.monotonic() - at, None, "-", f"{type(error).__name__}: {error}")
            message.attempts.append(attempt)
            resend = attempt.status is None or attempt.status in RESEND_STATUSES
            if not resend or time.monotonic() - first > RESEND_FOR_S:
                message.waiting = False
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(think_s)


async def failover(cluster: Cluster, victim: str = "h3", users: int = 6, before_s: float = 8.0,
                   down_s: float = 10.0, after_s: float = 10.0, think_s: float = 0.3) -> Dict[str, Any]:
    """Users write continuously through HAProxy; `victim`'s processes are all killed (SIGKILL) at once; after
    `down_s` the host is started again; traffic goes on until HAProxy has it back and `after_s` more. Then every
    message is counted against what the tracker store (PostgreSQL, shared by all hosts) holds."""
    host = cluster.host(victim)
    run_id = uuid.uuid4().hex[:6]
    prefix = f"mh-fail-{run_id}-"
    messages: List[Message] = []
    stop = asyncio.Event()
    marks: Dict[str, float] = {}
    stats_before = cluster.haproxy.stats()
    log_from = cluster.haproxy.log_size()
    limits = httpx.Limits(max_connections=users + 4)
    async with httpx.AsyncClient(timeout=RESEND_FOR_S, limits=limits) as client:
        writers = [asyncio.create_task(user(client, cluster.url, f"{prefix}{n}", f"{run_id[:3]}{n}", stop, messages,
                                            think_s)) for n in range(users)]
        await asyncio.sleep(before_s)
        busy = await _until_busy(cluster, victim)  # killed while it is answering a message, if it can be caught
        in_flight = _in_flight(messages)
        marks["killed"] = time.monotonic()
        killed = host.kill()
        marks["marked_down"] = await _status(cluster, victim, "DOWN")
        await asyncio.sleep(down_s)
        marks["restarted"] = time.monotonic()
        host.start()  # from this (the main) thread: the servers die with it, not with a worker thread
        ready_s = await asyncio.to_thread(host.wait_ready, cluster.token)
        marks["marked_up"] = await _status(cluster, victim, "UP")
        await asyncio.sleep(after_s)
        stop.set()
        await asyncio.gather(*writers)
    marks["stopped"] = time.monotonic()
    stats_after = cluster.haproxy.stats()
    return count(messages, StoredTurns.of(cluster.stored_events(prefix)), marks, victim, {
        "killed_pids": len(killed), "in_flight_at_kill": in_flight, "victim_busy_at_kill": busy,
        "haproxy_log": cluster.haproxy.unusual_log_lines(log_from)[:40], "ready_after_restart_s": round(ready_s, 1),
        "haproxy": {name: {key: int(stats_after[name][key] or 0) - int(stats_before[name][key] or 0)
                           for key in ("lbtot", "hrsp_2xx", "hrsp_5xx", "eresp", "econ", "wretr", "wredis",
                                       "chkdown")}
                    for name in stats_after},
    })


async def _until_busy(cluster: Cluster, name: str, timeout_s: float = 3.0) -> bool:
    """Waits (at most `timeout_s`) until HAProxy has a request on `name` that is not answered yet (`scur`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if int(cluster.haproxy.stats()[name]["scur"] or 0) > 0:
            return True
        await asyncio.sleep(0.002)
    return False


def _in_flight(messages: List[Message]) -> int:
    """Messages waiting for their answer (on any host)."""
    return sum(1 for m in messages if m.waiting)


async def _status(cluster: Cluster, name: str, status: str) -> float:
    return await asyncio.to_thread(cluster.haproxy.wait_status, name, status, 300)


@dataclass
class StoredTurns:
    """What the tracker store holds of the users' messages."""

    texts: Counter  # (sender, text) -> user events with that text (our message id)
    ids: Counter  # (sender, Rasa's message_id) -> user events with that id
    listens: Counter  # (sender, message_id) -> action_listen after that user event, before the next one

    @classmethod
    def of(cls, events: List[Tuple[str, str, Dict[str, Any]]]) -> "StoredTurns":
        texts: Counter = Counter()
        ids: Counter = Counter()
        listens: Counter = Counter()
        current: Dict[str, Tuple[str, str]] = {}
        for sender, kind, event in events:
            if kind == "user":
                current[sender] = (sender, event.get("message_id") or "")
                texts[(sender, event.get("text"))] += 1
                ids[current[sender]] += 1
            elif kind == "action" and event.get("name") == "action_listen" and sender in current:
                listens[current[sender]] += 1  # a turn's prediction loop ends with action_listen
        return cls(texts, ids, listens)

    def answered_twice(self) -> List[Tuple[str, str]]:
        """User message ids the assistant took twice, or whose turn ran twice (two prediction loops)."""
        return sorted(key for key in self.ids if self.ids[key] > 1 or self.listens[key] > 1)


def count(messages: List[Message], stored: StoredTurns, marks: Dict[str, float], victim: str,
          extra: Dict[str, Any]) -> Dict[str, Any]:
    """sent / answered / lost / doubled, precisely:

    - sent: distinct user messages, each text unique (its turn plus a tag: our message id); a message sent again
      after no answer is still one message;
    - answered: the user got a 200 with the assistant's messages (once: a message is sent again only after no
      answer at all);
    - lost: sent and never answered (within RESEND_FOR_S), or answered but not in the tracker store;
    - doubled ("answered twice"): a user message id (Rasa's `message_id` of a user event) stored more than once or
      followed by more than one turn (more than one `action_listen` before the next user event), or a message sent
      once whose text is stored more than once: the assistant took and answered one message twice;
    - resent: messages sent again because the host died under them (no HTTP answer, or 502 from HAProxy);
    - stored_twice_after_resend: resent messages the dying host had already stored (it died after storing the turn,
      before its answer left): the user saw one answer, the tracker holds the turn under two message ids. Only a
      client message id, checked on arrival, would tell the second delivery apart (see the report).
    """
    def phase(m: Message) -> str:
        if m.sent_at < marks["killed"]:
            return "before_kill"
        return "while_down" if m.sent_at < marks["marked_up"] else "after_return"

    answered = [m for m in messages if m.answered]
    unanswered = [m for m in messages if not m.answered]
    unstored = [m for m in answered if stored.texts[(m.sender, m.text)] == 0]
    resent = [m for m in messages if len(m.attempts) > 1]
    twice = [m for m in messages if stored.texts[(m.sender, m.text)] > 1]
    twice_after_resend = [m for m in twice if m in resent]
    doubled = [m.text for m in twice if m not in resent] + [f"{s} {i}" for s, i in stored.answered_twice()]
    served: Dict[str, Counter] = {}
    for m in answered:
        served.setdefault(phase(m), Counter())[m.served_by] += 1
    after_kill = [m for m in answered if marks["killed"] <= m.sent_at < marks["restarted"]]
    return {
        "sent": len(messages), "answered": len(answered), "lost": len(unanswered) + len(unstored),
        "doubled": len(doubled), "resent": len(resent), "stored_twice_after_resend": len(twice_after_resend),
        "wrong_language": sum(1 for m in answered if not m.in_language),
        "unexpected_answers": [{"text": m.text, "statuses": [a.status for a in m.attempts],
                                "errors": [a.error for a in m.attempts if a.error]} for m in unanswered][:5],
        "doubled_detail": doubled[:5],
        "turns_per_stored_message": dict(Counter(stored.listens.values())),
        "resent_detail": [{"text": m.text, "statuses": [a.status for a in m.attempts],
                           "errors": [a.error for a in m.attempts if a.error], "answered_by": m.served_by,
                           "waited_s": round(m.answered_at - m.sent_at, 1)} for m in resent],
        "answered_per_phase_and_host": {name: dict(sorted(c.items())) for name, c in served.items()},
        "victim": victim,
        "victim_served_while_down": sum(1 for m in after_kill if m.served_by == victim),
        "victim_served_after_return": served.get("after_return", Counter())[victim],
        "seconds": {"marked_down_after_kill": round(marks["marked_down"] - marks["killed"], 1),
                    "back_after_restart": round(marks["marked_up"] - marks["restarted"], 1),
                    "total": round(marks["stopped"] - min(m.sent_at for m in messages), 1)},
        "slowest_answer_s": round(max((m.answered_at - m.sent_at for m in answered), default=0.0), 1),
        "slowest_answer_s_not_resent": round(max((m.answered_at - m.sent_at for m in answered
                                                  if len(m.attempts) == 1), default=0.0), 1),
        **extra,
    }


__all__ = ["coherent_conversations", "failover", "measure", "pushes_across_hosts"]
