"""The pieces of the reliability suite (``tests/reliability``) and the webhook benchmark.

``Stack``: one installation under test: a database (SQLite file or a private PostgreSQL database),
the web app served by uvicorn on loopback, the fake Graph API (which reports ``sent`` statuses
back to the webhook, as Meta does), optionally Redis and ``chasqui worker`` processes.

``verify(stack, posted)`` checks what a customer would notice, from both ends:
every posted message stored once and processed; every reply the engine decided accepted by the
(fake) Graph API exactly once; each inbound message answered by exactly one processing; replies
reaching each customer in the order of their messages.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fakes.graph_server import FakeGraph
from fakes.live import ForkedWorker, Posted, ServerProcess, Traffic, WorkerProcess, Zygote, worker_env
from fakes.webapp import DEMO, ROOT, SECRET_KEY, make_settings
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from chasqui.config import Settings
from chasqui.db.models import Message, OutboxMessage
from chasqui.runtime import Runtime
from chasqui.tenants.io import import_tenant

# Safe texts: each gets at least one reply from the demo tenant's bot, whatever the time of day.
TEXTS = ["hola", "qué venden?", "cuánto cuesta la torta de chocolate?", "qué promociones hay?", "gracias"]
WORKER_ENV = {
    "CHASQUI_WORKER_POLL_S": "0.05",
    "CHASQUI_WORKER_SWEEP_S": "0.25",
    "CHASQUI_WORKER_UNKNOWN_AFTER_S": "5",
    "CHASQUI_WORKER_RETRY_BASE_S": "0.05",
    "CHASQUI_WORKER_SIGNAL_POLL_S": "0.02",
}


def build_template(directory: Path, settings: Settings | None = None) -> Settings:
    """Migrate the database of ``settings`` (default: SQLite in ``directory``), import the demo
    tenant and register the intent model."""
    settings = settings or make_settings(directory)
    runtime = Runtime.from_settings(settings)
    try:
        runtime.init()
        with runtime.session() as session:
            import_tenant(session, ROOT / "tenants" / "dulce-lima.yaml", secret_key=SECRET_KEY)
        runtime.model()
    finally:
        runtime.db.dispose()
    return settings


# ------------------------------------------------------------------------------ server databases
@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server (dropped afterwards); yields its URL."""
    name = f"chasqui_rel_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_cleanup(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{queue}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# ------------------------------------------------------------------------------------------ stack
@dataclass
class Stack:
    settings: Settings
    graph: FakeGraph
    server: ServerProcess | None = None
    runtime: Runtime | None = None
    workers: list[WorkerProcess] = field(default_factory=list)
    log_dir: Path | None = None
    queue: str = ""
    zygote: Zygote | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def traffic(self) -> Traffic:
        return Traffic(self.url, DEMO["app_secret"], DEMO["phone_number_id"])

    def env(self) -> dict[str, str]:
        extra = dict(WORKER_ENV)
        if self.queue:  # distributed: live signals come through Redis; sweeps are only the safety net
            extra.update(CHASQUI_REDIS_QUEUE=self.queue, CHASQUI_WORKER_SWEEP_S="2")
        return worker_env(self.settings, **extra)

    def worker(self, index: int = 0) -> WorkerProcess:
        """A ``chasqui worker`` process of this installation (not started)."""
        assert self.log_dir is not None
        return WorkerProcess(self.env(), self.log_dir / f"worker-{index}.log")

    def forked_worker(self, index: int = 0) -> ForkedWorker:
        """A worker process forked from a pre-imported parent (``fakes.zygote``): starts in a
        fraction of a second, so a test can kill and restart workers many times."""
        assert self.log_dir is not None
        if self.zygote is None:
            self.zygote = Zygote(self.env(), self.log_dir / "zygote.log")
        return ForkedWorker(self.zygote, self.env(), self.log_dir / f"worker-{index}.log")

    def counts(self) -> dict[str, int]:
        """Unprocessed inbound messages and outbox rows by status."""
        assert self.runtime is not None
        with self.runtime.session() as session:
            unprocessed = session.scalar(
                select(func.count(Message.id)).where(Message.direction == "in", Message.processed.is_(False))
            )
            by_status = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            rows = dict(session.execute(by_status).all())
        return {"unprocessed": unprocessed or 0, **{k: int(v) for k, v in rows.items()}}

    def wait_idle(self, timeout: float, expected_messages: int | None = None) -> dict[str, int]:
        """Wait until every inbound message is processed and no outbox row is pending or sending."""
        deadline = time.monotonic() + timeout
        counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            counts = self.counts()
            busy = counts["unprocessed"] + counts.get("pending", 0) + counts.get("sending", 0)
            stored = self._stored() if expected_messages is not None else None
            if not busy and (expected_messages is None or stored == expected_messages):
                return counts
            time.sleep(0.1)
        raise AssertionError(f"not idle after {timeout}s: {counts}")

    def _stored(self) -> int:
        assert self.runtime is not None
        with self.runtime.session() as session:
            return session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) or 0


@contextmanager
def running_stack(
    tmp_path: Path,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    embedded_worker: bool = False,
    template: Path | None = None,
) -> Iterator[Stack]:
    """Database ready (SQLite copied from ``template``, or ``database_url``), fake Graph API and the
    web server process started (with its embedded worker if ``embedded_worker``). Worker processes
    are the test's business (``stack.worker(i)``; killed at the end)."""
    directory = tmp_path / "stack"
    directory.mkdir()
    queue = f"chasqui-test-{uuid.uuid4().hex[:10]}:queue" if redis_url else ""
    with FakeGraph() as graph:
        settings = make_settings(directory, graph.url)
        if database_url:  # a server database the caller prepared with ``build_template``
            settings = settings.model_copy(update={"database_url": database_url})
        else:
            assert template is not None
            shutil.copy(template, directory / "chasqui.db")
        if redis_url:
            settings = settings.model_copy(update={"redis_url": redis_url})
        stack = Stack(settings, graph, log_dir=directory, queue=queue)
        stack.runtime = Runtime.from_settings(settings)
        server = ServerProcess(stack.env(), directory / "server.log", worker=embedded_worker)
        try:
            stack.server = server.start().wait_ready()
            graph.report_statuses(server.url, DEMO["app_secret"], DEMO["phone_number_id"])
            yield stack
        finally:
            for worker in stack.workers:
                with suppress(Exception):
                    worker.kill()
            if stack.zygote is not None:
                stack.zygote.close()
            server.stop()
            stack.runtime.db.dispose()
            if redis_url:
                redis_cleanup(redis_url, queue)


# ----------------------------------------------------------------------------------------- verify
@dataclass
class Verdict:
    messages: int
    replies: int
    problems: list[str]

    def __str__(self) -> str:
        shown = "\n".join(self.problems[:20])
        more = f"\n... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        return f"{self.messages} messages, {self.replies} replies, {len(self.problems)} problems\n{shown}{more}"


def verify(stack: Stack, posted: list[Posted]) -> Verdict:
    """0 lost, 0 answered twice, every reply accepted once, in order per customer."""
    assert stack.runtime is not None
    problems: list[str] = []
    wamids = {p.wamid for p in posted}
    not_ok = [p.wamid for p in posted if p.status != 200]
    if not_ok:
        problems.append(f"{len(not_ok)} webhook POSTs never got a 200: {not_ok[:5]}")
    with stack.runtime.session() as session:
        inbound = {
            m.wamid: m
            for m in session.scalars(select(Message).where(Message.direction == "in", Message.wamid.in_(wamids)))
        }
        by_id = {m.id: m for m in inbound.values()}
        rows = [
            r
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if ((r.payload or {}).get("reply_to") or {}).get("message_id") in by_id
        ]
    lost = wamids - set(inbound)
    if lost:
        problems.append(f"{len(lost)} messages never stored: {sorted(lost)[:5]}")
    unprocessed = [m.wamid for m in inbound.values() if not m.processed or m.source == "none"]
    if unprocessed:
        problems.append(f"{len(unprocessed)} messages not processed by the engine: {unprocessed[:5]}")

    # Each inbound message: its replies come from ONE processing (one transaction, one clock value).
    rows_of: dict[int, list[OutboxMessage]] = defaultdict(list)
    for row in rows:
        rows_of[row.payload["reply_to"]["message_id"]].append(row)
    unanswered = [m.wamid for m in inbound.values() if m.id not in rows_of]
    if unanswered:
        problems.append(f"{len(unanswered)} messages got no reply: {unanswered[:5]}")
    twice = [by_id[i].wamid for i, rs in rows_of.items() if len({r.created_at for r in rs}) > 1]
    if twice:
        problems.append(f"{len(twice)} messages answered by more than one processing: {twice[:5]}")

    # Each reply: accepted by the Graph API exactly once.
    accepted = stack.graph.accepted_per_row()
    not_sent = [r.id for r in rows if r.status != "sent"]
    if not_sent:
        states = Counter(r.status for r in rows if r.status != "sent")
        problems.append(f"{len(not_sent)} replies not sent ({dict(states)}): rows {not_sent[:5]}")
    missing = [r.id for r in rows if accepted.get(r.id, 0) == 0]
    if missing:
        problems.append(f"{len(missing)} replies never reached the Graph API: rows {missing[:5]}")
    doubled = {row_id: n for row_id, n in accepted.items() if n > 1}
    if doubled:
        row_by_id = {r.id: r for r in rows}
        details = [
            f"row {row_id} ({n}×, attempts {row_by_id[row_id].attempts if row_id in row_by_id else '?'}, "
            f"last error {row_by_id[row_id].last_error if row_id in row_by_id else '?'!r}, accepted at "
            f"{[round(r.at, 3) for r in stack.graph.sent() if r.row_id == row_id]})"
            for row_id, n in list(doubled.items())[:5]
        ]
        problems.append(f"{len(doubled)} replies sent more than once: {'; '.join(details)}")

    # Order: per customer, replies arrive in the order of the messages they answer; messages were
    # stored in the order they were posted.
    reply_to = {r.id: r.payload["reply_to"]["message_id"] for r in rows}
    phone_of = {inbound[p.wamid].id: p.phone for p in posted if p.wamid in inbound}
    arrivals: dict[str, list[int]] = defaultdict(list)
    for request in stack.graph.sent():
        if request.row_id in reply_to:
            arrivals[request.to].append(reply_to[request.row_id])
    disordered = [phone for phone, seq in arrivals.items() if seq != sorted(seq)]
    if disordered:
        problems.append(f"{len(disordered)} customers got replies out of order: {disordered[:5]}")
    posted_order: dict[str, list[int]] = defaultdict(list)
    for p in posted:
        if p.wamid in inbound:
            posted_order[p.phone].append(inbound[p.wamid].id)
    stored_disorder = [phone for phone, ids in posted_order.items() if ids != sorted(ids)]
    if stored_disorder:
        problems.append(f"{len(stored_disorder)} conversations stored out of order: {stored_disorder[:5]}")
    wrong_recipient = [r.id for r in rows if r.to != phone_of.get(reply_to[r.id])]
    if wrong_recipient:
        problems.append(f"{len(wrong_recipient)} replies addressed to the wrong customer: {wrong_recipient[:5]}")
    return Verdict(len(inbound), len(rows), problems)


class Feeder(threading.Thread):
    """Customers writing all along a fault: round after round, one message per conversation, every
    ``round_every_s``; the wamids are ``<prefix>.<phone>.<round>``."""

    def __init__(self, traffic: Traffic, phones: list[str], prefix: str, round_every_s: float) -> None:
        super().__init__(name="feeder", daemon=True)
        self.traffic, self.phones, self.prefix, self.round_every_s = traffic, phones, prefix, round_every_s
        self.done = threading.Event()
        self.rounds = 0

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        async with httpx.AsyncClient(timeout=60.0) as client:
            while not self.done.is_set():
                body = TEXTS[self.rounds % len(TEXTS)]
                await asyncio.gather(*(
                    self.traffic.apost(client, body, f"{self.prefix}.{phone}.{self.rounds}", phone)
                    for phone in self.phones
                ))
                self.rounds += 1
                await asyncio.sleep(self.round_every_s)
