"""The outbox sender: delivers pending ``outbox`` rows through the Graph API.

Each row is accepted by WhatsApp at most once. The row is first claimed in its own transaction
(``pending`` → ``sending`` with a conditional UPDATE, so two senders never both get it), then the
HTTP call is made outside any transaction, then the outcome is written:

* accepted: ``sent`` with Meta's ``wamid`` (also stored on the message, so statuses can find it);
* transient error (5xx, 429, rate-limit codes, network): back to ``pending`` with attempts+1 and
  ``next_attempt_at`` = now + exponential backoff with jitter, never sooner than ``Retry-After``;
  after ``max_attempts`` it is ``failed``;
* permanent error (131047 re-engagement, 131026 undeliverable, bad token, ...): ``failed`` with
  ``last_error``, never retried.

A media row (``type`` image/document/audio/video with a ``local_path`` and ``mime_type``) uploads its
file first (``POST .../media``) and sends the message with the returned media id; the id is written
into the row's payload (``media_id``) right away, so a retry of the message never uploads again.

Once the first reply to a customer message is accepted, that message is marked as read (blue
ticks; ``mark_read``), best effort and once: a failed receipt is logged, never retried, and never
holds back a reply.

Every request carries ``biz_opaque_callback_data = "chasqui:<row id>"``, which Meta repeats in the
status webhooks of that message. A worker killed between the claim and the write of the outcome
leaves the row in ``sending``: if WhatsApp accepted it, its status webhook (``ingest``) marks the
row ``sent``; if the claiming process is gone (the row's ``OUTBOX_LOCKS`` lock is free) and no
status arrived within ``unknown_after``, WhatsApp most likely never got it, and
``recover_interrupted`` settles it (``reconcile_interrupted``): a row whose WhatsApp message id is
known was accepted and becomes ``sent``; one without goes back to ``pending`` to be sent again, once
only (interrupted a second time, it is ``failed`` rather than risk a third copy). The worker runs
this when it starts and at every sweep, so a customer's later replies wait at most ``unknown_after``
(``CHASQUI_WORKER_UNKNOWN_AFTER_S``, 20 s by default) behind an interrupted row.

Rows of one recipient go out in order: while an earlier row for the same number waits for a retry
(or is being sent, by this or another worker), the later ones wait too.

Pacing (``pacer``, see ``chasqui.worker.pacing``): right before a due row is sent, the pacer reserves
one message of the tenant's WhatsApp number (about 80/s) and of the pair number → customer (a burst
of 45, then one every 6 s). When the pair must wait, that customer's rows wait for the next pass (in
order); when the number must wait, all of the tenant's remaining rows do. ``SendReport.wait_s`` is the
shortest such wait, so the worker looks again then instead of after a full poll (read receipts are
not messages and are not paced). A reservation is spent even
if another sender claims the row first (rare; it only delays that customer's next message slightly).
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chasqui.crypto import DecryptionError
from chasqui.db.models import Message, OutboxMessage, Tenant
from chasqui.db.session import session_scope
from chasqui.tenants.snapshot import whatsapp_account
from chasqui.whatsapp.graph import GraphClient, GraphError
from chasqui.worker.locks import OUTBOX_LOCKS
from chasqui.worker.pacing import Pacer
from chasqui.worker.retry import retry_database

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CALLBACK_PREFIX = "chasqui:"
MARKED_MEMORY = 10_000  # customer messages remembered as already marked read (one receipt each)
INTERRUPTED = "interrupted while sending (worker stopped) and no status from WhatsApp: sent again"
INTERRUPTED_TWICE = "interrupted while sending twice, no status from WhatsApp: not sent a third time"
ACCEPTED = "interrupted after WhatsApp accepted it (message id known): not sent again"
RESENT_KEY = "resent_after_interruption"  # payload flag: a row is sent again after an interruption once
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    max_delay_s: float = 900.0
    max_attempts: int = 8

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before the next try after ``attempts`` failed ones (full backoff, half jitter)."""
        backoff = min(self.max_delay_s, self.base_s * (2 ** max(attempts - 1, 0)))
        backoff *= rng.uniform(0.5, 1.0)
        return max(backoff, retry_after or 0.0)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    wait_s: float | None = None  # the shortest wait pacing imposed in this pass (None: nothing held back)

    def paced(self, wait: float) -> None:
        self.wait_s = wait if self.wait_s is None else min(self.wait_s, wait)

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class _Job:
    id: int
    to: str
    message: dict[str, Any]
    attempts: int
    message_id: int | None
    phone_number_id: str
    token: str
    upload: tuple[str, str] | None = None  # (local path, mime type) still to upload before sending
    answers: str | None = None  # wamid of the customer message this row answers (marked read once sent)


class NotConfigured(Exception):
    """The tenant has no WhatsApp number or token: nothing can be sent."""


MEDIA_TYPES = frozenset({"image", "document", "audio", "video"})


def needs_upload(payload: dict[str, Any]) -> bool:
    """A media payload whose local file has not been uploaded to WhatsApp yet."""
    return payload.get("type") in MEDIA_TYPES and bool(payload.get("local_path")) and not payload.get("media_id")


def _media_object(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = dict(payload.get(kind) or {})
    if payload.get("media_id"):
        body["id"] = payload["media_id"]
    if payload.get("caption") and kind != "audio":  # WhatsApp takes no caption on audio
        body["caption"] = payload["caption"]
    if kind == "document" and payload.get("filename"):
        body.setdefault("filename", payload["filename"])
    return body


def graph_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The Graph API message object of an outbox payload (internal keys such as ``kind``, ``local_path``
    dropped; a media payload carries its uploaded ``media_id`` as ``{"id": ...}``)."""
    kind = payload.get("type", "text")
    if kind in MEDIA_TYPES:
        return {"type": kind, kind: _media_object(kind, payload)}
    message = {"type": kind, kind: payload.get(kind)}
    if kind == "text" and isinstance(message["text"], dict):
        message["text"] = {"preview_url": False, **message["text"]}
    return message


def callback_data(row_id: int) -> str:
    """The ``biz_opaque_callback_data`` of an outbox row (echoed by Meta in its status webhooks)."""
    return f"{CALLBACK_PREFIX}{row_id}"


def row_of_callback(value: str | None) -> int | None:
    """The outbox row id in a status's ``biz_opaque_callback_data`` (None when it is not ours)."""
    if not value or not value.startswith(CALLBACK_PREFIX):
        return None
    tail = value[len(CALLBACK_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def _mark_message(session: Session, message_id: int, status: str, wamid: str | None) -> None:
    """Copy the outcome onto the outbound message (its wamid lets status webhooks find it)."""
    message = session.get(Message, message_id)
    if message is None:
        return
    if message.status in (None, "queued"):
        message.status = status
    if wamid and not message.wamid:
        message.wamid = wamid


@dataclass
class OutboxSender:
    db: Engine
    graph: GraphClient
    secret_key: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = utcnow
    rng: random.Random = field(default_factory=random.Random)
    batch: int = 200
    pacer: Pacer | None = None  # Meta's rate limits (``chasqui.worker.pacing``); None: no pacing
    mark_read: bool = True  # mark the customer's message as read when its reply is accepted
    _marked: OrderedDict[str, None] = field(default_factory=OrderedDict, init=False, repr=False)

    # -- one pass --------------------------------------------------------------------------------
    def send_due(self, now: datetime | None = None) -> SendReport:
        """Send every due row (in id order, per recipient in order); returns what happened."""
        report = SendReport()
        now = now or self.clock()
        blocked: set[tuple[int, str]] = set()
        paced_tenants: set[int] = set()  # the number's budget is spent for this pass
        for row_id, tenant_id, to, status, next_at in self._candidates():
            key = (tenant_id, to)
            if key in blocked or tenant_id in paced_tenants:
                continue
            if status == SENDING or next_at > now:
                blocked.add(key)
                continue
            wait = self._pace(tenant_id, to)
            if wait > 0:
                report.paced(wait)
                if getattr(wait, "number", False):
                    paced_tenants.add(tenant_id)
                blocked.add(key)
                continue
            outcome = self.send_one(row_id, now)
            if outcome is None:  # claimed by another sender meanwhile: its later rows must wait
                blocked.add(key)
            elif outcome == SENT:
                report.sent += 1
            elif outcome == PENDING:
                report.retried += 1
                blocked.add(key)
            elif outcome == FAILED:
                report.failed += 1
        return report

    def _pace(self, tenant_id: int, to: str) -> float:
        """0.0 when the row may go now (its pacing budget spent), else the seconds to wait."""
        if self.pacer is None:
            return 0.0
        return self.pacer.reserve(str(tenant_id), to)

    def _candidates(self) -> list[tuple[int, int, str, str, datetime]]:
        """(id, tenant, to, status, next attempt) of the rows to look at, in id order."""
        with session_scope(self.db) as session:
            rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.tenant_id,
                    OutboxMessage.to,
                    OutboxMessage.status,
                    OutboxMessage.next_attempt_at,
                )
                .where(OutboxMessage.status.in_((PENDING, SENDING)))
                .order_by(OutboxMessage.id)
                .limit(self.batch)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    # -- one row ---------------------------------------------------------------------------------
    def send_one(self, row_id: int, now: datetime | None = None) -> str | None:
        """Claim, send and record one row; returns its new status, or None if it was not claimable."""
        now = now or self.clock()
        # Held from the claim to the recorded outcome: while this process lives, nobody treats
        # the row as abandoned (``recover_interrupted``); the database drops the lock if it dies.
        with OUTBOX_LOCKS.hold(self.db, row_id) as owned:
            if not owned:
                return None
            return self._send_owned(row_id, now)

    def _send_owned(self, row_id: int, now: datetime) -> str | None:
        try:
            job = self._claim(row_id, now)
        except NotConfigured as exc:
            self._finish(row_id, FAILED, now, error=str(exc))
            return FAILED
        if job is None:
            return None
        try:
            if job.upload is not None:
                self._upload(job)
            wamid = self.graph.send_message(job.phone_number_id, job.token, job.to, job.message)
        except GraphError as exc:
            return self._failed_attempt(job, exc, now)
        except Exception as exc:  # a bug or an unexpected client error: never leave the row claimed
            log.exception("outbox row %s: unexpected error while sending", job.id)
            return self._failed_attempt(job, GraphError(repr(exc), transient=True), now)
        self._finish(job.id, SENT, now, wamid=wamid or None, message_id=job.message_id)
        self._mark_read(job)
        return SENT

    def _mark_read(self, job: _Job) -> None:
        """Blue ticks on the customer's message once its first reply is accepted (best effort: a
        failure only leaves the ticks grey, so it is logged and never retried)."""
        if job.answers is None or job.answers in self._marked:
            return
        self._marked[job.answers] = None
        while len(self._marked) > MARKED_MEMORY:
            self._marked.popitem(last=False)
        try:
            self.graph.mark_read(job.phone_number_id, job.token, job.answers)
        except Exception as exc:  # never let a receipt disturb the sending of replies
            log.info("outbox: could not mark %s as read: %s", job.answers, exc)

    def _upload(self, job: _Job) -> None:
        """Upload the row's file, keep the media id on the row (a retry reuses it), put it in the message."""
        assert job.upload is not None
        path, mime_type = job.upload
        media_id = self.graph.upload_media(job.phone_number_id, job.token, path, mime_type)
        with session_scope(self.db) as session:
            row = session.get(OutboxMessage, job.id)
            if row is not None:
                row.payload = {**(row.payload or {}), "media_id": media_id}
        kind = job.message["type"]
        job.message[kind] = {**job.message[kind], "id": media_id}

    def _claim(self, row_id: int, now: datetime) -> _Job | None:
        with session_scope(self.db) as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(status=SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return None
            row = session.get(OutboxMessage, row_id)
            tenant = session.get(Tenant, row.tenant_id) if row else None
            if row is None or tenant is None:
                return None
            try:
                account = whatsapp_account(tenant, self.secret_key)
            except DecryptionError as exc:
                raise NotConfigured(str(exc)) from exc
            if account is None or not account.access_token:
                raise NotConfigured(f"tenant {tenant.slug} has no WhatsApp phone_number_id/access token")
            payload = row.payload or {}
            message = graph_message(payload)
            message["biz_opaque_callback_data"] = callback_data(row.id)
            upload = None
            if needs_upload(payload):
                upload = (str(payload["local_path"]), str(payload.get("mime_type") or ""))
            answers = (payload.get("reply_to") or {}).get("wamid") if self.mark_read else None
            return _Job(
                row.id,
                row.to,
                message,
                row.attempts,
                row.message_id,
                account.phone_number_id,
                account.access_token,
                upload,
                answers if isinstance(answers, str) else None,
            )

    def _failed_attempt(self, job: _Job, error: GraphError, now: datetime) -> str:
        if error.transient and job.attempts < self.policy.max_attempts:
            wait = self.policy.delay(job.attempts, error.retry_after, self.rng)
            log.info("outbox row %s: %s; retry %s in %.1fs", job.id, error, job.attempts + 1, wait)
            self._finish(job.id, PENDING, now, error=str(error), next_at=now + timedelta(seconds=wait))
            return PENDING
        reason = str(error) if not error.transient else f"gave up after {job.attempts} attempts: {error}"
        log.warning("outbox row %s failed: %s", job.id, reason)
        self._finish(job.id, FAILED, now, error=reason, message_id=job.message_id)
        return FAILED

    def _finish(
        self,
        row_id: int,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        wamid: str | None = None,
        next_at: datetime | None = None,
        message_id: int | None = None,
    ) -> None:
        """Record the outcome; a lost database connection is retried (for about a minute): an accepted
        row whose outcome was never written would otherwise be sent again."""

        def write(message: int | None) -> Callable[[], None]:
            return lambda: self._write_outcome(row_id, status, now, error, wamid, next_at, message)

        try:
            retry_database(write(message_id), f"recording outbox row {row_id} as {status}")
        except IntegrityError:  # Meta's wamid already on another message (never seen): the row alone
            log.warning("outbox: wamid %s already belongs to another message", wamid)
            retry_database(write(None), f"recording outbox row {row_id} as {status}")

    def _write_outcome(
        self,
        row_id: int,
        status: str,
        now: datetime,
        error: str | None,
        wamid: str | None,
        next_at: datetime | None,
        message_id: int | None,
    ) -> None:
        with session_scope(self.db) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            if row.status == SENT and status != SENT:
                return  # a status webhook already confirmed that WhatsApp accepted it: never resend
            row.status, row.last_error = status, (error[:2000] if error else None)
            if next_at is not None:
                row.next_attempt_at = next_at
            if status == SENT:
                row.wamid, row.sent_at = wamid, now
            if message_id and status in (SENT, FAILED):
                _mark_message(session, message_id, status, wamid)

    # -- crash recovery --------------------------------------------------------------------------
    def recover_interrupted(
        self, older_than: timedelta = timedelta(minutes=5), now: datetime | None = None
    ) -> int:
        """Rows left in ``sending`` by a dead worker and never confirmed by a status webhook.

        A row is only touched when no live process is sending it (its ``OUTBOX_LOCKS`` lock is free:
        on PostgreSQL/MySQL the lock dies with its process; on SQLite the one worker process runs
        this between its own sends) and it was claimed more than ``older_than`` ago: a row WhatsApp
        accepted gets a status webhook within seconds (``ingest`` then marks it ``sent``), so one
        still ``sending`` after that was never accepted. It goes back to ``pending`` and is sent
        again (``failed`` if it already used all its attempts)."""
        now = now or self.clock()
        with session_scope(self.db) as session:
            stale = list(
                session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status == SENDING, OutboxMessage.next_attempt_at < now - older_than
                    )
                )
            )
        count = 0
        for row_id in stale:
            with OUTBOX_LOCKS.hold(self.db, row_id) as owned:
                if owned:
                    count += self._recover(row_id, now, older_than)
        if count:
            log.warning("outbox: %s row(s) interrupted while sending were recovered", count)
        return count

    def _recover(self, row_id: int, now: datetime, older_than: timedelta) -> int:
        with session_scope(self.db) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != SENDING or row.next_attempt_at >= now - older_than:
                return 0  # confirmed, finished or re-claimed meanwhile
            reconcile_interrupted(session, row, now, self.policy.max_attempts)
            return 1


def reconcile_interrupted(session: Session, row: OutboxMessage, now: datetime, max_attempts: int) -> None:
    """Settle a row a dead sender left in ``sending``: WhatsApp's message id known (on the row or its
    message): it was accepted, ``sent``, never sent again; else it goes back to ``pending`` to be
    sent again ONCE (marked in its payload); interrupted again, or out of attempts: ``failed``."""
    message = session.get(Message, row.message_id) if row.message_id else None
    wamid = row.wamid or (message.wamid if message is not None else None)
    payload = row.payload or {}
    if wamid:
        row.status, row.wamid, row.sent_at, row.last_error = SENT, wamid, row.sent_at or now, ACCEPTED
        if message is not None and message.status in (None, "queued"):
            message.status = SENT
    elif payload.get(RESENT_KEY):
        row.status, row.last_error = FAILED, INTERRUPTED_TWICE
    elif row.attempts >= max_attempts:
        row.status, row.last_error = FAILED, f"{INTERRUPTED} (no attempts left)"
    else:
        row.status, row.next_attempt_at, row.last_error = PENDING, now, INTERRUPTED
        row.payload = {**payload, RESENT_KEY: True}


def safe_send_due(sender: OutboxSender) -> SendReport:
    """``send_due`` that logs instead of raising (for the worker loops)."""
    try:
        return sender.send_due()
    except IntegrityError:
        log.exception("outbox: integrity error")
    except Exception:
        log.exception("outbox: pass failed")
    return SendReport()
