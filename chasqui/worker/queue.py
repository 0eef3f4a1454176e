"""Wake-up signals for the worker: "conversation C has work".

The database is the source of truth; a signal only wakes a worker. A lost signal costs at most one
sweep interval (the worker re-scans the database for unprocessed messages), a repeated one costs an
empty ``drain``.

* ``EmbeddedQueue``: embedded mode (``chasqui serve`` without Redis): an in-process set of
  conversation ids guarded by a condition, read by the worker thread of the same process.
* ``RedisQueue``: distributed mode (``CHASQUI_REDIS_URL`` set): each signal is an arq job
  ``drain(C)`` in a Redis queue, consumed by the ``chasqui worker`` processes
  (``chasqui.worker.run``). Jobs wait in Redis while no worker is up. Job payloads are JSON, never
  pickle, so whoever can write to Redis cannot make a worker run code.
* ``NullQueue``: signals go nowhere (a separate worker polls the database).

``CHASQUI_REDIS_QUEUE`` names the Redis queue (default ``chasqui:queue``): several installations
or test runs can share one Redis server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "chasqui:queue"
DRAIN_JOB = "drain"
SIGNAL_EXPIRES_S = 3600  # a signal older than this is useless: the worker's sweeps found the work
ENQUEUE_TIMEOUT_S = 2.0


class WorkQueue(Protocol):
    def signal(self, conversation_id: int) -> None: ...


def queue_name(settings: Any = None) -> str:
    """The Redis queue of this installation (``CHASQUI_REDIS_QUEUE``, default ``chasqui:queue``)."""
    configured = getattr(settings, "redis_queue", None) if settings is not None else None
    return str(configured or os.environ.get("CHASQUI_REDIS_QUEUE") or DEFAULT_QUEUE)


def dump_job(value: Any) -> bytes:
    return json.dumps(value, default=str, separators=(",", ":")).encode("utf-8")


def load_job(raw: bytes) -> Any:
    return json.loads(raw)


async def signal_all(queue: Any, conversation_ids: Iterable[int]) -> None:
    """Signal every conversation, with whatever the queue offers (async first); never raises."""
    ids = list(conversation_ids)
    if not ids:
        return
    try:
        if hasattr(queue, "asignal"):
            await queue.asignal(ids)
        else:
            for conversation_id in ids:
                queue.signal(conversation_id)
    except Exception:
        log.warning("could not signal conversations %s; the worker's sweep will find them", ids, exc_info=True)


class NullQueue:
    """Signals go nowhere: a separate ``chasqui worker`` finds the work by polling the database."""

    def signal(self, conversation_id: int) -> None:
        return None


class EmbeddedQueue:
    """Conversation ids waiting to be drained, deduplicated, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._pending: dict[int, None] = {}
        self._cond = threading.Condition()
        self._closed = False

    def signal(self, conversation_id: int) -> None:
        with self._cond:
            self._pending[int(conversation_id)] = None
            self._cond.notify_all()

    def take(self, timeout: float | None = None, limit: int | None = None) -> list[int]:
        """Wait up to ``timeout`` seconds for work; return (and forget) up to ``limit`` pending ids."""
        with self._cond:
            if not self._pending and not self._closed:
                self._cond.wait(timeout)
            ids = list(self._pending)[:limit] if limit else list(self._pending)
            for conversation_id in ids:
                del self._pending[conversation_id]
            return ids

    def close(self) -> None:
        """Wake every waiter (used on shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)


class RedisQueue:
    """The producer side of distributed mode: ``asignal([C, ...])`` enqueues arq ``drain`` jobs.

    Used by ``chasqui serve`` after the webhook's transaction committed. If Redis is down the
    signal is logged and dropped; the message is safe in the database and a worker's sweep finds it.
    """

    def __init__(self, redis_url: str, name: str = DEFAULT_QUEUE) -> None:
        self.redis_url = redis_url
        self.name = name
        self._pool: Any = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> Any:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    from arq import create_pool
                    from arq.connections import RedisSettings

                    settings = RedisSettings.from_dsn(self.redis_url)
                    settings.conn_timeout = 2
                    self._pool = await create_pool(
                        settings,
                        default_queue_name=self.name,
                        job_serializer=dump_job,
                        job_deserializer=load_job,
                        expires_extra_ms=SIGNAL_EXPIRES_S * 1000,
                    )
        return self._pool

    async def asignal(self, conversation_ids: Iterable[int]) -> None:
        pool = await self._connection()
        async with asyncio.timeout(ENQUEUE_TIMEOUT_S):
            for conversation_id in conversation_ids:
                await pool.enqueue_job(DRAIN_JOB, int(conversation_id))

    def signal(self, conversation_id: int) -> None:
        """Synchronous callers (threads without an event loop): one short-lived loop per call."""
        asyncio.run(RedisQueue(self.redis_url, self.name)._signal_and_close([conversation_id]))

    async def _signal_and_close(self, conversation_ids: list[int]) -> None:
        try:
            await self.asignal(conversation_ids)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()
