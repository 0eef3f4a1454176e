"""The background worker: drains conversations and sends the outbox.

Two threads: the *drain* thread waits for "conversation C has work" signals (and, every
``sweep_s``, re-scans the database for unprocessed messages, which also picks up what a crashed
worker left), runs ``drain(runtime, C)`` and wakes the *outbox* thread, which sends due rows and
polls every ``poll_s`` for retries. ``chasqui serve`` runs it inside the web process (embedded);
``chasqui worker`` runs it alone until SIGTERM/SIGINT (it then polls the database: signals from
the web processes do not reach it).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chasqui.worker.drain import drain, pending_conversations
from chasqui.worker.outbox import OutboxSender, RetryPolicy, safe_send_due
from chasqui.worker.queue import EmbeddedQueue

if TYPE_CHECKING:
    from chasqui.config import Settings
    from chasqui.runtime import Runtime
    from chasqui.whatsapp.graph import GraphClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    poll_s: float = 1.0  # outbox: how often due retries are looked for
    sweep_s: float = 15.0  # drain: how often the database is re-scanned for unprocessed messages
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        graph: GraphClient,
        queue: EmbeddedQueue | None = None,
        config: WorkerConfig | None = None,
    ) -> None:
        self.runtime = runtime
        self.queue = queue or EmbeddedQueue()
        self.config = config or WorkerConfig()
        self.sender = OutboxSender(runtime.db, graph, runtime.settings.secret(), policy=self.config.retry)
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

    def request_stop(self) -> None:
        """Ask ``run_forever`` to return (safe from a signal handler)."""
        self._stop.set()

    def wake_outbox(self) -> None:
        self._outbox_wake.set()

    # -- loops -----------------------------------------------------------------------------------
    def _drain_loop(self) -> None:
        next_sweep = 0.0  # sweep at once: picks up messages a crash left unprocessed
        while not self._stop.is_set():
            ids: list[int] = []
            if time.monotonic() >= next_sweep:
                ids = self._pending()
                next_sweep = time.monotonic() + self.config.sweep_s
            if not ids:
                ids = self.queue.take(
                    timeout=min(self.config.sweep_s, max(next_sweep - time.monotonic(), 0.05))
                )
            for conversation_id in ids:
                if self._stop.is_set():
                    return
                self._drain_one(conversation_id)

    def _pending(self) -> list[int]:
        try:
            return pending_conversations(self.runtime.db)
        except Exception:
            log.exception("worker: cannot list pending conversations")
            return []

    def _drain_one(self, conversation_id: int) -> None:
        try:
            if drain(self.runtime, conversation_id):
                self._outbox_wake.set()
        except Exception:
            log.exception("worker: drain of conversation %s failed", conversation_id)

    def _outbox_loop(self) -> None:
        try:
            self.sender.fail_interrupted()
        except Exception:
            log.exception("worker: cannot recover interrupted outbox rows")
        while not self._stop.is_set():
            self._outbox_wake.clear()
            safe_send_due(self.sender)
            self._outbox_wake.wait(self.config.poll_s)

    def run_forever(self) -> None:
        """Run in the foreground until ``stop()`` (SIGTERM/SIGINT in ``run_worker``)."""
        self.start()
        while not self._stop.wait(0.5):
            if not self.running:
                log.error("worker threads died; stopping")
                break
        self.stop()


def run_worker(settings: Settings) -> None:
    """``chasqui worker``: the worker alone, until SIGTERM or Ctrl-C."""
    from chasqui.runtime import Runtime
    from chasqui.whatsapp.graph import GraphClient

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker: signal %s, stopping", signum)
        stop.set()
        if worker is not None:
            worker.request_stop()

    worker: Worker | None = None
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runtime = Runtime.from_settings(settings)
    graph = GraphClient(settings.graph_api_url, settings.graph_api_version)
    try:
        runtime.init()
        runtime.model()
        if stop.is_set():
            return
        worker = Worker(runtime, graph, config=WorkerConfig(sweep_s=1.0))
        log.info("worker: started (database %s)", runtime.db.url.render_as_string(hide_password=True))
        worker.run_forever()
    finally:
        graph.close()
        runtime.db.dispose()
        log.info("worker: stopped")
