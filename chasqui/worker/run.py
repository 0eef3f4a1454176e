"""The background worker: drains conversations and sends the outbox.

Threads of a ``Worker``:

* *drain*: waits for "conversation C has work" signals on its in-process queue and, every
  ``sweep_s``, re-scans the database for unprocessed messages (at start too: that picks up what a
  killed worker left), then runs ``drain(runtime, C)`` for each;
* *outbox*: sends due rows (woken after every drain that produced replies), polls every ``poll_s``
  for retries, and every ``sweep_s`` recovers rows a killed worker left in ``sending``.

Modes:

* embedded (``chasqui serve`` without ``CHASQUI_REDIS_URL``): the worker runs inside the web
  process; the webhook signals its in-process queue.
* ``chasqui worker`` without Redis: the same loops alone, polling the database every ``sweep_s``
  (0.25 s): one such process per SQLite database.
* distributed (``chasqui worker`` with ``CHASQUI_REDIS_URL``): additionally an arq consumer reads
  the ``drain(C)`` jobs that ``chasqui serve`` enqueues, and runs up to ``concurrency`` drains at
  once in threads; any number of worker processes may run (PostgreSQL/MySQL), the per-conversation
  lock (``chasqui.worker.locks``) keeps one conversation in one worker at a time. Sweeps (every
  ``sweep_s``, 5 s) catch what a lost signal or a killed worker left behind.

Tuning without code: ``CHASQUI_WORKER_POLL_S``, ``CHASQUI_WORKER_SWEEP_S``,
``CHASQUI_WORKER_CONCURRENCY``, ``CHASQUI_WORKER_UNKNOWN_AFTER_S`` (seconds before a row left in
``sending`` by a killed worker is sent again), ``CHASQUI_WORKER_RETRY_BASE_S``.

Pacing within Meta's limits (``chasqui.worker.pacing``): ``CHASQUI_PACE_NUMBER_PER_S`` (80 messages/s
per WhatsApp number), ``CHASQUI_PACE_PAIR_INTERVAL_S`` and ``CHASQUI_PACE_PAIR_BURST`` (to one
customer: 45 at once, then one every 6 s); 0 turns a limit off. Embedded and single-worker modes
keep the budgets in memory; distributed mode keeps them in Redis, shared by every worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chasqui.whatsapp.retention import PURGE_EVERY_S, purge_webhook_events
from chasqui.worker.drain import drain, pending_conversations
from chasqui.worker.media import MediaFetcher
from chasqui.worker.outbox import OutboxSender, RetryPolicy, safe_send_due
from chasqui.worker.pacing import MemoryPacer, Pacer, PacingPolicy, RedisPacer
from chasqui.worker.queue import DRAIN_JOB, EmbeddedQueue, dump_job, load_job, queue_name
from chasqui.worker.retry import Backoff

if TYPE_CHECKING:
    from chasqui.config import Settings
    from chasqui.runtime import Runtime
    from chasqui.whatsapp.graph import GraphClient

log = logging.getLogger(__name__)
REDIS_RETRY_MAX_S = 5.0  # distributed mode: longest wait between two reconnection attempts
REDIS_CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class WorkerConfig:
    poll_s: float = 1.0  # outbox: how often due retries are looked for
    sweep_s: float = 15.0  # drain: how often the database is re-scanned for unprocessed messages
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # A row left "sending" by a dead worker this long without a status is settled (sent again once):
    # Meta's status webhook comes within seconds, and the customer's later replies wait meanwhile.
    unknown_after_s: float = 20.0
    concurrency: int = 4  # distributed mode: drains at once in one worker process
    signal_poll_s: float = 0.05  # distributed mode: how often Redis is polled for new jobs
    pacing: PacingPolicy = field(default_factory=PacingPolicy)  # Meta's rate limits (0: a limit off)
    mark_read: bool = True  # blue ticks on a customer message once its first reply is accepted

    def with_env(self, environ: dict[str, str] | None = None) -> WorkerConfig:
        """This config with the ``CHASQUI_WORKER_*`` and ``CHASQUI_PACE_*`` overrides found in the
        environment."""
        env = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        for name, cast in (
            ("poll_s", float),
            ("sweep_s", float),
            ("unknown_after_s", float),
            ("concurrency", int),
            ("signal_poll_s", float),
        ):
            value = env.get(f"CHASQUI_WORKER_{name.upper()}")
            if value:
                changes[name] = cast(value)
        base = env.get("CHASQUI_WORKER_RETRY_BASE_S")
        if base:
            changes["retry"] = replace(self.retry, base_s=float(base), max_delay_s=max(float(base) * 64, 1.0))
        pacing: dict[str, Any] = {}
        for name, cast in (("number_per_s", float), ("pair_interval_s", float), ("pair_burst", int)):
            value = env.get(f"CHASQUI_PACE_{name.upper()}")
            if value:
                pacing[name] = cast(value)
        if pacing:
            changes["pacing"] = replace(self.pacing, **pacing)
        mark_read = env.get("CHASQUI_MARK_READ")
        if mark_read:
            changes["mark_read"] = mark_read.strip().lower() not in ("0", "false", "no", "off")
        return replace(self, **changes)


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        graph: GraphClient,
        queue: EmbeddedQueue | None = None,
        config: WorkerConfig | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.runtime = runtime
        self.queue = queue if queue is not None else EmbeddedQueue()  # an empty queue is falsy
        self.config = config or WorkerConfig()
        if pacer is None and self.config.pacing.enabled:  # one process: the budgets live in memory
            pacer = MemoryPacer(self.config.pacing)
        self.sender = OutboxSender(
            runtime.db, graph, runtime.settings.secret(), policy=self.config.retry, pacer=pacer,
            mark_read=self.config.mark_read,
        )
        self.media = MediaFetcher(graph, Path(runtime.settings.data_dir), runtime.settings.secret())
        self._stop = threading.Event()
        self._outbox_wake = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._drain_loop, name="chasqui-drain", daemon=True),
            threading.Thread(target=self._outbox_loop, name="chasqui-outbox", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.queue.close()
        self._outbox_wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.1))
        self._threads = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Ask ``run_forever`` to return (safe from a signal handler)."""
        self._stop.set()
        self._outbox_wake.set()

    def wake_outbox(self) -> None:
        self._outbox_wake.set()

    def drain_now(self, conversation_id: int) -> int:
        """Drain one conversation in the calling thread (wakes the outbox if replies were made)."""
        try:
            processed = drain(self.runtime, conversation_id, media=self.media)
        except Exception:
            log.exception("worker: drain of conversation %s failed", conversation_id)
            return 0
        if processed:
            self._outbox_wake.set()
        return processed

    # -- loops -----------------------------------------------------------------------------------
    def _drain_loop(self) -> None:
        next_sweep = 0.0  # sweep at once: picks up messages a crash left unprocessed
        while not self._stop.is_set():
            ids: list[int] = []
            if time.monotonic() >= next_sweep:
                ids = self._pending()
                next_sweep = time.monotonic() + self.config.sweep_s
            if not ids:
                ids = self.queue.take(timeout=min(self.config.sweep_s, max(next_sweep - time.monotonic(), 0.05)))
            for conversation_id in ids:
                if self._stop.is_set():
                    return
                self.drain_now(conversation_id)

    def _pending(self) -> list[int]:
        try:
            return pending_conversations(self.runtime.db)
        except Exception:
            log.exception("worker: cannot list pending conversations")
            return []

    def _recover(self) -> None:
        try:
            self.sender.recover_interrupted(timedelta(seconds=self.config.unknown_after_s))
        except Exception:
            log.exception("worker: cannot recover interrupted outbox rows")

    def _purge_webhooks(self) -> None:
        """Raw webhook bodies past ``webhook_retention_days`` are deleted (hourly, see retention)."""
        try:
            deleted = purge_webhook_events(self.runtime)
        except Exception:
            log.exception("worker: cannot purge old webhook bodies")
            return
        if deleted:
            log.info("worker: %s webhook bodies past their retention deleted", deleted)

    def _outbox_loop(self) -> None:
        next_recovery = 0.0
        next_purge = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_recovery:
                self._recover()
                next_recovery = time.monotonic() + max(self.config.sweep_s, 1.0)
            if time.monotonic() >= next_purge:
                self._purge_webhooks()
                next_purge = time.monotonic() + PURGE_EVERY_S
            self._outbox_wake.clear()
            report = safe_send_due(self.sender)
            if report.total:
                continue  # sent or retried something: look again at once (more may be due)
            wait = self.config.poll_s
            if report.wait_s is not None:  # pacing held something back: look again when it may go
                wait = min(wait, max(report.wait_s, 0.001))
            self._outbox_wake.wait(wait)

    def run_forever(self) -> None:
        """Run in the foreground until ``request_stop()`` (SIGTERM/SIGINT in ``run_worker``)."""
        self.start()
        while not self._stop.wait(0.5):
            if not self.running:
                log.error("worker threads died; stopping")
                break
        self.stop()


# ------------------------------------------------------------------------------------ distributed
class RedisConsumer:
    """Consumes the ``drain(C)`` jobs of the Redis queue with arq and runs them on ``worker``."""

    def __init__(self, worker: Worker, redis_url: str, name: str) -> None:
        self.worker = worker
        self.redis_url = redis_url
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=worker.config.concurrency, thread_name_prefix="chasqui-job")
        self._arq: Any = None

    async def _drain_job(self, _ctx: dict[str, Any], conversation_id: int) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.worker.drain_now, int(conversation_id))

    def build(self) -> Any:
        from arq.connections import RedisSettings
        from arq.worker import Worker as ArqWorker
        from arq.worker import func

        settings = RedisSettings.from_dsn(self.redis_url)
        settings.conn_retries = 0  # ``run`` reconnects, with backoff and without end
        settings.conn_timeout = 2
        self._arq = ArqWorker(
            functions=[func(self._drain_job, name=DRAIN_JOB, timeout=300, max_tries=3)],
            queue_name=self.name,
            redis_settings=settings,
            handle_signals=False,
            max_jobs=self.worker.config.concurrency,
            poll_delay=self.worker.config.signal_poll_s,
            keep_result=0,
            job_serializer=dump_job,
            job_deserializer=load_job,
            health_check_interval=30,
            log_results=False,
        )
        return self._arq

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop``; a lost Redis never ends it: reconnect with backoff, one log line
        per retry (the jobs wait in Redis meanwhile, and the database sweeps go on)."""
        backoff = Backoff(base_s=0.2, max_s=REDIS_RETRY_MAX_S)
        try:
            while not stop.is_set():
                if not await self._reachable():
                    await self._pause(backoff, stop, "Redis unreachable")
                    continue
                if backoff.attempt:
                    log.warning("worker: Redis reachable again after %s retries; consuming", backoff.attempt)
                    backoff.reset()
                error = await self._consume(stop)
                if error is not None:
                    await self._pause(backoff, stop, error)
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)

    async def _reachable(self) -> bool:
        from redis.asyncio import Redis

        client = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(await client.ping())
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    @staticmethod
    async def _pause(backoff: Backoff, stop: asyncio.Event, why: str) -> None:
        delay = backoff.next()
        log.warning("worker: %s; reconnecting in %.1fs (retry %s)", why, delay, backoff.attempt)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _consume(self, stop: asyncio.Event) -> str | None:
        """One arq consumer until ``stop`` (None) or until it fails (why, e.g. Redis went away)."""
        arq = self.build()
        task = asyncio.create_task(arq.async_run())
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if task in done and not stop.is_set():
                exc = task.exception() if not task.cancelled() else None
                return f"Redis connection lost ({type(exc).__name__ if exc else 'consumer stopped'})"
            return None
        finally:
            stopper.cancel()
            await self._close(arq)  # cancels running jobs (they are re-run later) and closes Redis
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task

    @staticmethod
    async def _close(arq: Any) -> None:
        try:
            async with asyncio.timeout(REDIS_CLOSE_TIMEOUT_S):
                await arq.close()
        except Exception:  # Redis is gone: drop the pool without the goodbye commands
            pool = getattr(arq, "_pool", None)
            if pool is not None:
                with contextlib.suppress(Exception):
                    await pool.connection_pool.disconnect()


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("alembic", "httpx", "arq.worker", "arq.connections"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _prepare(runtime: Runtime) -> None:
    from chasqui.db.session import current_revision, head_revision

    try:
        current = current_revision(runtime.db) == head_revision()
    except Exception:
        current = False
    if not current:
        runtime.init()
    runtime.model()


def run_worker(settings: Settings) -> None:
    """``chasqui worker``: the worker alone, until SIGTERM or Ctrl-C (with Redis: distributed mode)."""
    from chasqui.runtime import Runtime
    from chasqui.whatsapp.graph import GraphClient

    _configure_logging()
    distributed = bool(settings.redis_url)
    defaults = WorkerConfig(sweep_s=5.0) if distributed else WorkerConfig(sweep_s=0.25)
    config = defaults.with_env()
    stop = threading.Event()
    worker: Worker | None = None
    pacer: RedisPacer | None = None

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker: signal %s, stopping", signum)
        stop.set()
        if worker is not None:
            worker.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runtime = Runtime.from_settings(settings)
    graph = GraphClient(settings.graph_api_url, settings.graph_api_version)
    try:
        _prepare(runtime)
        if stop.is_set():
            return
        name = queue_name(settings)
        if distributed and config.pacing.enabled:  # several processes share Meta's limits: in Redis
            pacer = RedisPacer.from_url(settings.redis_url or "", config.pacing, prefix=f"{name}:pace")
        worker = Worker(runtime, graph, config=config, pacer=pacer)
        where = runtime.db.url.render_as_string(hide_password=True)
        if distributed:
            log.info("worker: started (database %s, Redis queue %s)", where, name)
            asyncio.run(_run_distributed(worker, settings.redis_url or "", name, stop))
        else:
            log.info("worker: started (database %s, polling every %ss)", where, config.sweep_s)
            worker.run_forever()
    finally:
        if worker is not None:
            worker.stop()
        if pacer is not None:
            pacer.close()
        graph.close()
        runtime.db.dispose()
        log.info("worker: stopped")


async def _run_distributed(worker: Worker, redis_url: str, name: str, stop: threading.Event) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def _watch() -> None:
        stop.wait()
        loop.call_soon_threadsafe(stopped.set)

    threading.Thread(target=_watch, name="chasqui-stop", daemon=True).start()
    worker.start()
    try:
        await RedisConsumer(worker, redis_url, name).run(stopped)
    finally:
        stop.set()
