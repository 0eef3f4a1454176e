"""The per-conversation lock: one drain at a time, in a process and across processes, and never left
behind by a dead process (SQLite always; PostgreSQL and MariaDB when their test servers are set)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from chasqui.db.session import make_engine
from chasqui.worker.locks import ConversationLocks


@pytest.mark.timeout(60)
def test_a_conversation_is_owned_by_one_holder_at_a_time(db_engine: Engine) -> None:
    locks = ConversationLocks()
    with locks.hold(db_engine, 7) as first:
        assert first
        with locks.hold(db_engine, 7) as second:
            assert not second  # same process, same conversation: busy
        with locks.hold(db_engine, 8) as other:
            assert other  # another conversation is free
        seen: list[bool] = []

        def elsewhere() -> None:
            with locks.hold(db_engine, 7) as owned:
                seen.append(owned)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert seen == [False]
    with locks.hold(db_engine, 7) as again:
        assert again  # released at the end of the block


@pytest.mark.timeout(60)
def test_another_process_cannot_take_a_held_conversation_and_a_dead_holder_frees_it(
    db_engine: Engine, db_backend: str
) -> None:
    if db_backend == "sqlite":
        pytest.skip("SQLite: one worker process per database; the in-process lock is the whole lock")
    # Two engines = two independent connection pools, as in two worker processes.
    other = make_engine(db_engine.url.render_as_string(hide_password=False))
    try:
        holder, rival = ConversationLocks(), ConversationLocks()
        with holder.hold(db_engine, 42) as owned:
            assert owned
            with rival.hold(other, 42) as stolen:
                assert not stolen
        with rival.hold(other, 42) as owned_after_release:
            assert owned_after_release
        # A holder that dies: its connection closes without unlocking; the lock goes with it.
        connection = db_engine.connect()
        from chasqui.worker.locks import _try_lock

        assert _try_lock(connection, db_engine.dialect.name, 43)
        with rival.hold(other, 43) as stolen:
            assert not stolen
        connection.invalidate()  # the process died: the server drops its session
        connection.close()
        with rival.hold(other, 43) as freed:
            assert freed
    finally:
        other.dispose()
