"""Per-conversation locks: one drain at a time per conversation, in this process and across processes.

``ConversationLocks.hold(db, C)`` is a non-blocking try-lock used as a context manager; it yields
True when this caller now owns conversation C until the block ends, False when someone else is
draining C (the caller then does nothing: the owner re-checks for new messages after releasing,
see ``chasqui.worker.drain``).

* In this process: a ``threading.Lock`` per conversation id.
* Across processes, by database:
  - PostgreSQL: a session-level advisory lock ``pg_try_advisory_lock(NAMESPACE, C)`` taken on a
    dedicated connection for the whole drain. The server drops it the moment that connection
    closes, so a worker killed with SIGKILL never leaves a conversation locked.
  - MySQL/MariaDB: ``GET_LOCK('chasqui:conversation:C', 0)``, also released when the connection dies.
  - SQLite: only the in-process lock (SQLite is for one machine and one worker process; the
    conditional claim of each message still stops a second process from processing it twice).

The lock is an optimisation of the database's own guarantees, not a replacement: each message is
still claimed with a conditional UPDATE inside the transaction that applies its decision.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# pg_advisory_lock(int4, int4): the first key keeps Chasqui's locks apart from anyone else's.
PG_NAMESPACE = 0x43485351  # "CHSQ"


class ConversationLocks:
    """One in-process ``threading.Lock`` per conversation id, plus the database's cross-process lock."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def local(self, conversation_id: int) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(conversation_id)
            if lock is None:
                lock = self._locks[conversation_id] = threading.Lock()
            return lock

    @contextmanager
    def hold(self, db: Engine, conversation_id: int) -> Iterator[bool]:
        """Try to own conversation C (never waits); yields whether it is owned for the block."""
        lock = self.local(conversation_id)
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            backend = db.dialect.name
            if backend not in ("postgresql", "mysql", "mariadb"):
                yield True
                return
            with _database_lock(db, backend, conversation_id) as owned:
                yield owned
        finally:
            lock.release()


@contextmanager
def _database_lock(db: Engine, backend: str, conversation_id: int) -> Iterator[bool]:
    connection = db.connect()
    try:
        owned = _try_lock(connection, backend, conversation_id)
        # The lock lives in the session, not in a transaction: end the implicit one so the
        # connection does not sit "idle in transaction" while the drain runs.
        connection.commit()
    except Exception:
        connection.invalidate()
        connection.close()
        raise
    try:
        yield owned
    finally:
        try:
            if owned:
                _unlock(connection, backend, conversation_id)
                connection.commit()
        except Exception:
            # Closing the physical connection is what releases the lock for sure.
            log.warning("could not release the lock of conversation %s; dropping the connection", conversation_id)
            connection.invalidate()
        finally:
            connection.close()


def _mysql_name(conversation_id: int) -> str:
    return f"chasqui:conversation:{conversation_id}"


def _try_lock(connection: Connection, backend: str, conversation_id: int) -> bool:
    if backend == "postgresql":
        statement = text("SELECT pg_try_advisory_lock(CAST(:ns AS integer), CAST(:id AS integer))")
        return bool(connection.scalar(statement, {"ns": PG_NAMESPACE, "id": conversation_id}))
    return connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": _mysql_name(conversation_id)}) == 1


def _unlock(connection: Connection, backend: str, conversation_id: int) -> None:
    if backend == "postgresql":
        statement = text("SELECT pg_advisory_unlock(CAST(:ns AS integer), CAST(:id AS integer))")
        connection.execute(statement, {"ns": PG_NAMESPACE, "id": conversation_id})
    else:
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _mysql_name(conversation_id)})


LOCKS = ConversationLocks()
