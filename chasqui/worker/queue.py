"""Wake-up signals for the worker: "conversation C has work".

The database is the source of truth; a signal only wakes a worker. A lost signal costs at most one
sweep interval (the worker re-scans the database for unprocessed messages), a repeated one costs an
empty ``drain``. Embedded mode: an in-process set of conversation ids guarded by a condition.
"""

from __future__ import annotations

import threading
from typing import Protocol


class WorkQueue(Protocol):
    def signal(self, conversation_id: int) -> None: ...


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

    def take(self, timeout: float | None = None) -> list[int]:
        """Wait up to ``timeout`` seconds for work; return (and forget) every pending id."""
        with self._cond:
            if not self._pending and not self._closed:
                self._cond.wait(timeout)
            ids = list(self._pending)
            self._pending.clear()
            return ids

    def close(self) -> None:
        """Wake every waiter (used on shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)
