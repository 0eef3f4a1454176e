"""``drain(runtime, C)``: run the bot over conversation C's unprocessed inbound messages, in order.

One conversation is drained by one thread at a time (an in-process lock per conversation, plus
``SELECT ... FOR UPDATE`` on the conversation row where the database supports it, so several worker
processes on PostgreSQL/MySQL cannot interleave). Each message is processed in its own transaction:
the engine's decision, the replies (as outbox rows), the cart, orders and the "processed" mark are
committed together. Before processing, the message is claimed with a conditional UPDATE so a
message is never processed twice, even by two processes sharing one SQLite file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import OperationalError

from chasqui.db.models import Conversation, Message
from chasqui.db.session import session_scope

if TYPE_CHECKING:
    from chasqui.runtime import Runtime

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConversationLocks:
    """One ``threading.Lock`` per conversation id (created on demand)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def __call__(self, conversation_id: int) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(conversation_id)
            if lock is None:
                lock = self._locks[conversation_id] = threading.Lock()
            return lock


LOCKS = ConversationLocks()


def pending_conversations(db: Engine, limit: int = 500) -> list[int]:
    """Conversations with unprocessed inbound messages, oldest waiting message first."""
    with session_scope(db) as session:
        rows = session.execute(
            select(Message.conversation_id)
            .where(Message.direction == "in", Message.processed.is_(False))
            .group_by(Message.conversation_id)
            .order_by(func.min(Message.id))
            .limit(limit)
        )
        return [row[0] for row in rows]


def _next_message(runtime: Runtime, conversation_id: int, clock: Clock) -> bool | None:
    """Process the oldest unprocessed message of the conversation. None: nothing left."""
    with runtime.session() as session:
        conversation = session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        if conversation is None:
            return None
        message = session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "in",
                Message.processed.is_(False),
            )
            .order_by(Message.id)
            .limit(1)
        )
        if message is None:
            return None
        claimed = session.execute(
            update(Message)
            .where(Message.id == message.id, Message.processed.is_(False))
            .values(processed=True)
        )
        if claimed.rowcount != 1:
            return False
        service = runtime.service(session, conversation.tenant_id)
        service.process_message(session, message, clock())
        return True


def _give_up(runtime: Runtime, conversation_id: int) -> None:
    """The engine failed on the oldest message: mark it processed (bot silent) so the rest can go on."""
    with runtime.session() as session:
        message = session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "in",
                Message.processed.is_(False),
            )
            .order_by(Message.id)
            .limit(1)
        )
        if message is not None:
            message.processed, message.source = True, "none"
            log.error(
                "message %s of conversation %s skipped after an engine error", message.id, conversation_id
            )


def drain(
    runtime: Runtime, conversation_id: int, *, locks: ConversationLocks = LOCKS, clock: Clock = utcnow
) -> int:
    """Process every unprocessed inbound message of the conversation; returns how many were processed.

    A database error (locked, connection lost) stops the drain: the messages stay unprocessed and
    the next signal or sweep picks them up. Any other error skips the one message that caused it.
    """
    processed = 0
    with locks(conversation_id):
        while True:
            try:
                result = _next_message(runtime, conversation_id, clock)
            except OperationalError:
                log.warning(
                    "drain of conversation %s interrupted by a database error", conversation_id, exc_info=True
                )
                return processed
            except Exception:
                log.exception("engine error in conversation %s", conversation_id)
                _give_up(runtime, conversation_id)
                continue
            if result is None:
                return processed
            processed += int(result)
