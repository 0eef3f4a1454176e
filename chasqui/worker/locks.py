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
PG_NAMESPACE = 0x43485351  # "CHSQ": conversations
PG_OUTBOX_NAMESPACE = 0x43485352  # "CHSR": outbox rows being sent


class ConversationLocks:
    """Per-id try-locks: owned by one thread of this process, plus the database's cross-process lock.

    The same mechanism marks an outbox row as being sent by a live process (``OUTBOX_LOCKS``), so a
    row left ``sending`` is only recovered once the process that claimed it is gone."""

    def __init__(self, namespace: int = PG_NAMESPACE, name: str = "conversation") -> None:
        self.namespace = namespace
        self.name = name
        self._guard = threading.Lock()
        self._held: set[int] = set()  # ids owned by a thread of this process (no lock objects pile up)

    def _take_local(self, key: int) -> bool:
        with self._guard:
            if key in self._held:
                return False
            self._held.add(key)
            return True

    def _drop_local(self, key: int) -> None:
        with self._guard:
            self._held.discard(key)

    @contextmanager
    def hold(self, db: Engine, key: int) -> Iterator[bool]:
        """Try to own ``key`` (never waits); yields whether it is owned for the block."""
        if not self._take_local(key):
            yield False
            return
        try:
            backend = db.dialect.name
            if backend not in ("postgresql", "mysql", "mariadb"):
                yield True
                return
            with _database_lock(db, backend, self, key) as owned:
                yield owned
        finally:
            self._drop_local(key)


@contextmanager
def _database_lock(db: Engine, backend: str, locks: ConversationLocks, key: int) -> Iterator[bool]:
    connection = db.connect()
    try:
        owned = _try_lock(connection, backend, key, locks)
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
                _unlock(connection, backend, key, locks)
                connection.commit()
        except Exception:
            # Closing the physical connection is what releases the lock for sure.
            log.warning("could not release the lock of %s %s; dropping the connection", locks.name, key)
            connection.invalidate()
        finally:
            connection.close()


def _mysql_name(locks: ConversationLocks | None, key: int) -> str:
    return f"chasqui:{locks.name if locks else 'conversation'}:{key}"


def _try_lock(connection: Connection, backend: str, key: int, locks: ConversationLocks | None = None) -> bool:
    if backend == "postgresql":
        namespace = locks.namespace if locks else PG_NAMESPACE
        statement = text("SELECT pg_try_advisory_lock(CAST(:ns AS integer), CAST(:id AS integer))")
        return bool(connection.scalar(statement, {"ns": namespace, "id": key}))
    return connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": _mysql_name(locks, key)}) == 1


def _unlock(connection: Connection, backend: str, key: int, locks: ConversationLocks | None = None) -> None:
    if backend == "postgresql":
        namespace = locks.namespace if locks else PG_NAMESPACE
        statement = text("SELECT pg_advisory_unlock(CAST(:ns AS integer), CAST(:id AS integer))")
        connection.execute(statement, {"ns": namespace, "id": key})
    else:
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _mysql_name(locks, key)})


LOCKS = ConversationLocks()
OUTBOX_LOCKS = ConversationLocks(PG_OUTBOX_NAMESPACE, "outbox")
