"""``drain(runtime, C)``: run the bot over conversation C's unprocessed inbound messages, in order.

Exclusive: ``drain`` first tries to own C (``chasqui.worker.locks``: an in-process lock, plus a
PostgreSQL advisory lock / MySQL named lock held for the whole drain, so two worker processes
never handle one conversation at once). If someone else owns C it returns at once; the owner
re-checks for unprocessed messages after releasing the lock and goes again if it finds some, so a
message that arrives while C is busy is never left behind.

Each message is decided first, reading only (the LLM teacher may take seconds: no write lock is
held meanwhile), then written in its own transaction: the conversation row is locked
(``SELECT ... FOR UPDATE`` where supported), the message is claimed with a conditional
``UPDATE ... SET processed = true WHERE id = ? AND NOT processed`` (so even two processes sharing
one SQLite file never both process it), then the decision, the replies (as outbox rows), the cart,
orders and the "processed" mark are committed together. If the conversation changed between the
two steps (an operator wrote), it is decided again inside the transaction. A worker killed in the
middle rolls all of it back and the message is processed again later, once.

Every outbox row created for a message records which message it answers (``payload.reply_to``),
which the panel can show and the tests use to count replies per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, exists, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from chasqui.db.models import Conversation, Message, OutboxMessage
from chasqui.db.session import session_scope
from chasqui.worker.locks import LOCKS, ConversationLocks
from chasqui.worker.media import MediaFetcher
from chasqui.worker.retry import Backoff
from chasqui.worker.services import ServiceCache, services_of

if TYPE_CHECKING:
    from chasqui.runtime import Runtime

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_ROUNDS = 50  # lock/re-check rounds of one drain call (each round drains everything it finds)
DATABASE_RETRIES = 3  # a drain stopped by a lost database connection is tried again this many times


def utcnow() -> datetime:
    return datetime.now(UTC)


def pending_conversations(db: Engine, limit: int = 500, older_than: float = 0.0) -> list[int]:
    """Conversations with unprocessed inbound messages, oldest waiting message first.

    ``older_than``: only conversations whose oldest waiting message is at least that many seconds
    old (a periodic sweep leaves fresh messages to the live signals)."""
    query = select(Message.conversation_id).where(Message.direction == "in", Message.processed.is_(False))
    if older_than > 0:
        query = query.where(Message.created_at <= utcnow() - timedelta(seconds=older_than))
    with session_scope(db) as session:
        rows = session.execute(query.group_by(Message.conversation_id).order_by(func.min(Message.id)).limit(limit))
        return [row[0] for row in rows]


def has_pending(db: Engine, conversation_id: int) -> bool:
    with session_scope(db) as session:
        return bool(
            session.scalar(
                select(
                    exists().where(
                        Message.conversation_id == conversation_id,
                        Message.direction == "in",
                        Message.processed.is_(False),
                    )
                )
            )
        )


def _oldest_unprocessed(session: Session, conversation_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "in",
            Message.processed.is_(False),
        )
        .order_by(Message.id)
        .limit(1)
    )


@contextmanager
def _tagging_replies(session: Session, message: Message) -> Iterator[None]:
    """Every outbox row added to the session in this block records which inbound message it
    answers (``payload.reply_to``), before it is inserted."""
    reply_to = {"message_id": message.id, "wamid": message.wamid}

    def tag(_session: Session, obj: object) -> None:
        if isinstance(obj, OutboxMessage):
            obj.payload = {**(obj.payload or {}), "reply_to": reply_to}

    event.listen(session, "transient_to_pending", tag)
    try:
        yield
    finally:
        event.remove(session, "transient_to_pending", tag)


def _next_message(runtime: Runtime, conversation_id: int, clock: Clock, services: ServiceCache) -> bool | None:
    """Process the oldest unprocessed message of the conversation. None: nothing left.

    The decision is taken first, reading only (the LLM teacher may take seconds, and no write lock
    may be held meanwhile: on SQLite that would stall every webhook); then one short transaction
    claims the message and writes the decision, unless the conversation changed in between (an
    operator wrote, the panel paused it): then it decides again inside that transaction."""
    now = clock()
    with runtime.session() as session:
        message = _oldest_unprocessed(session, conversation_id)
        conversation = session.get(Conversation, conversation_id)
        if message is None or conversation is None:
            return None
        service = services.get(runtime, session, conversation.tenant_id)
        plan = service.decide(session, message, now)
        seen = service.fingerprint(session, conversation)
        message_id = message.id
    with runtime.session() as session:
        conversation = session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        if conversation is None:
            return None
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.processed.is_(False))
            .values(processed=True)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            return False
        message = session.get(Message, message_id)
        assert message is not None
        if service.fingerprint(session, conversation) != seen:
            plan = service.decide(session, message, now)
        with _tagging_replies(session, message):
            service.apply_plan(session, message, plan, now, report=False)
        return True


def _give_up(runtime: Runtime, conversation_id: int) -> None:
    """The engine failed on the oldest message: mark it processed (bot silent) so the rest can go on."""
    with runtime.session() as session:
        message = _oldest_unprocessed(session, conversation_id)
        if message is not None:
            message.processed, message.source = True, "none"
            log.error("message %s of conversation %s skipped after an engine error", message.id, conversation_id)


def _drain_owned(
    runtime: Runtime, conversation_id: int, clock: Clock, services: ServiceCache, media: MediaFetcher | None
) -> tuple[int, bool]:
    """Drain while owning the lock; returns (processed, stopped by a database error)."""
    processed = 0
    while True:
        try:
            if media is not None:
                media.prepare(runtime, conversation_id)
            result = _next_message(runtime, conversation_id, clock, services)
        except OperationalError:
            log.warning("drain of conversation %s interrupted by a database error", conversation_id, exc_info=True)
            return processed, True
        except Exception:
            log.exception("engine error in conversation %s", conversation_id)
            try:
                _give_up(runtime, conversation_id)
            except OperationalError:
                return processed, True
            continue
        if result is None:
            return processed, False
        processed += int(result)


def drain(
    runtime: Runtime,
    conversation_id: int,
    *,
    locks: ConversationLocks = LOCKS,
    clock: Clock = utcnow,
    services: ServiceCache | None = None,
    media: MediaFetcher | None = None,
) -> int:
    """Process every unprocessed inbound message of the conversation; returns how many were processed.

    Returns 0 at once when another thread or process is draining the conversation. A database error
    (locked, connection lost) stops the drain, which is tried again up to ``DATABASE_RETRIES`` times
    after a short backoff; then the messages stay unprocessed and the next signal or sweep picks them
    up. Any other error skips the one message that caused it. With ``media``,
    the media of each message (a voucher photo, a voice note) is downloaded before it is processed.
    """
    services = services or services_of(runtime)
    processed = 0
    failures = Backoff()
    for _round in range(MAX_ROUNDS):
        try:
            with locks.hold(runtime.db, conversation_id) as owned:
                if not owned:
                    return processed
                count, stopped = _drain_owned(runtime, conversation_id, clock, services, media)
                processed += count
            if stopped:
                if not _pause_after_database_error(failures, conversation_id):
                    return processed
                continue
            if not has_pending(runtime.db, conversation_id):
                return processed
        except OperationalError:
            log.warning("drain of conversation %s: database unavailable", conversation_id, exc_info=True)
            if not _pause_after_database_error(failures, conversation_id):
                return processed
    return processed


def _pause_after_database_error(failures: Backoff, conversation_id: int) -> bool:
    """Wait a little before draining again after a lost connection; False once ``DATABASE_RETRIES``
    are spent (the messages stay unprocessed: the next signal or sweep finds them)."""
    if failures.attempt >= DATABASE_RETRIES:
        return False
    delay = failures.next()
    log.info("drain of conversation %s: retry %s in %.1fs", conversation_id, failures.attempt, delay)
    time.sleep(delay)
    return True
