"""Store one webhook body: route it, check its signature, record its messages, statuses and echoes.

Everything a body carries is written in ONE transaction together with the raw ``webhook_events``
row; the caller answers 200 only after the commit, then wakes the worker for the conversations
returned. No engine, no LLM and no Graph call happen here.

* Routing: each change goes to the tenant whose ``phone_number_id`` is in its ``metadata``; changes
  without metadata (account/template updates) go by the entry id (the WhatsApp Business Account id)
  or the display phone number. A body for no known tenant is NOT stored: it gets one truncated,
  rate-limited log line and a 200 (Meta would otherwise retry it for days).
* Signature, before anything is parsed: ``X-Hub-Signature-256`` must match the app secret of some
  tenant (401 otherwise: nothing is parsed, stored or logged beyond a rate-limited line); after
  routing it must match the app secret of EVERY tenant the body is routed to (401 otherwise).
* Shape: a body nesting deeper than ``sanitize.MAX_DEPTH`` is refused (400) before ``json.loads``;
  every string is cleaned (lone surrogates, NUL; ``sanitize.clean``) and ids and names are cut to
  their column lengths.
* Isolation: each event is applied in its own savepoint; one that fails is logged and skipped, the
  others of the delivery are stored and answered.
* Messages: a ``wamid`` already stored is skipped, so a redelivered message is never processed
  twice (a concurrent duplicate makes the transaction fail; it is retried and then skipped).
* Statuses move an outbound message forward only (sent < delivered < read < played; failed is final).
  A status whose ``biz_opaque_callback_data`` names one of our outbox rows also confirms that row as
  accepted by WhatsApp (``sent``) even if the worker that sent it died before writing the outcome,
  so it is never sent again (see ``chasqui.worker.outbox``).
* Echoes (messages the business wrote in the WhatsApp Business app) count as operator messages.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from chasqui.crypto import DecryptionError
from chasqui.db.models import Message, OutboxMessage, Tenant, WebhookEvent
from chasqui.tenants.snapshot import whatsapp_account
from chasqui.whatsapp.inbound import stored_content
from chasqui.whatsapp.payloads import (
    EchoEvent,
    Event,
    InboundEvent,
    MessageType,
    OtherEvent,
    Route,
    StatusEvent,
    StatusKind,
    parse_events,
    routes_of,
)
from chasqui.whatsapp.sanitize import clean, clip, too_deep
from chasqui.whatsapp.signature import verify
from chasqui.worker.outbox import FAILED, SENT, row_of_callback
from chasqui.worker.services import services_of

if TYPE_CHECKING:
    from chasqui.conversations.service import ConversationService
    from chasqui.runtime import Runtime

log = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4}
RETRIES = 3
WAMID_SIZE = 255  # messages.wamid / outbox.wamid
NAME_SIZE = 255  # customers.name
KIND_SIZE = 32  # messages.type
LOG_EXCERPT = 200  # characters of an unroutable body that reach the log


class RateLimitedLog:
    """At most ``per_minute`` lines a minute; the lines held back are counted in the next one."""

    def __init__(self, per_minute: int = 10) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._lines = 0
        self._held = 0

    def warning(self, message: str, *args: object) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= 60:
                self._window_start, self._lines = now, 0
            if self._lines >= self.per_minute:
                self._held += 1
                return
            self._lines += 1
            held, self._held = self._held, 0
        log.warning(message + (" (%s similar lines held back)" if held else ""), *args, *((held,) if held else ()))


refused_log = RateLimitedLog()


def _excerpt(raw: bytes) -> str:
    """The start of a body for a log line: printable ASCII only, at most ``LOG_EXCERPT`` characters."""
    text = raw[: LOG_EXCERPT * 4].decode("utf-8", "replace")
    return ascii(text[:LOG_EXCERPT])


class _AppSecrets:
    """The distinct app secrets of the tenants, re-read when the tenants table changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[tuple[Any, ...], frozenset[str]]] = {}

    def of(self, runtime: Runtime) -> frozenset[str]:
        with runtime.session() as session:
            mark = tuple(session.execute(select(func.count(Tenant.id), func.max(Tenant.updated_at))).one())
            with self._lock:
                cached = self._cache.get(id(runtime))
            if cached is not None and cached[0] == mark:
                return cached[1]
            secrets = frozenset(self._read(session, runtime.settings.secret()))
        with self._lock:
            self._cache[id(runtime)] = (mark, secrets)
        return secrets

    @staticmethod
    def _read(session: Session, secret_key: str) -> set[str]:
        found = set()
        for tenant in session.scalars(select(Tenant).where(Tenant.app_secret_encrypted.is_not(None))):
            try:
                account = whatsapp_account(tenant, secret_key)
            except DecryptionError:
                continue
            if account is not None and account.app_secret:
                found.add(account.app_secret)
        return found


app_secrets = _AppSecrets()


def signed_by_a_known_app(runtime: Runtime, raw: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``raw`` with the app secret of some tenant."""
    if not header:
        return False
    return any(verify(raw, header, secret) for secret in app_secrets.of(runtime))


@dataclass
class IngestResult:
    status: int
    detail: str = "ok"
    conversations: list[int] = field(default_factory=list)
    stored_messages: int = 0
    duplicates: int = 0
    failed_events: int = 0


class _BadSignature(Exception):
    pass


def _lookup(session: Session, route: Route) -> Tenant | None:
    if route.phone_number_id:
        return session.scalar(select(Tenant).where(Tenant.phone_number_id == route.phone_number_id))
    conditions = []
    if route.waba_id:
        conditions.append(Tenant.waba_id == route.waba_id)
    if route.display_phone_number:
        conditions.append(Tenant.display_phone_number == route.display_phone_number)
    if not conditions:
        return None
    return session.scalars(select(Tenant).where(or_(*conditions)).order_by(Tenant.id)).first()


def _check_signature(tenants: list[Tenant], raw: bytes, header: str | None, secret_key: str) -> None:
    for tenant in tenants:
        try:
            account = whatsapp_account(tenant, secret_key)
        except DecryptionError:
            log.error("webhook: the app secret of tenant %s cannot be decrypted", tenant.slug)
            account = None
        secret = account.app_secret if account else ""
        if not verify(raw, header, secret):
            raise _BadSignature(tenant.slug)


class _Apply:
    """Applies the events of one body inside one session."""

    def __init__(self, runtime: Runtime, session: Session, now: datetime) -> None:
        self.runtime, self.session, self.now = runtime, session, now
        self._services: dict[int, ConversationService] = {}
        self.seen: set[str] = set()
        self.result = IngestResult(200)
        self._conversations: dict[int, None] = {}

    def service(self, tenant: Tenant) -> ConversationService:
        if tenant.id not in self._services:
            self._services[tenant.id] = services_of(self.runtime).get(self.runtime, self.session, tenant.id)
        return self._services[tenant.id]

    def _duplicate(self, wamid: str) -> bool:
        if not wamid:
            return False
        if wamid in self.seen:
            return True
        self.seen.add(wamid)
        return self.session.scalar(select(Message.id).where(Message.wamid == wamid)) is not None

    def inbound(self, tenant: Tenant, event: InboundEvent) -> None:
        wamid = event.message.id[:WAMID_SIZE]
        if self._duplicate(wamid):
            self.result.duplicates += 1
            return
        phone = event.customer
        if not phone:
            log.warning("webhook: message %s without a sender; kept only in webhook_events", wamid)
            return
        content = stored_content(event.message)
        message = self.service(tenant).record_customer_message(
            self.session,
            phone[:32],
            content.text,
            self.now,
            name=clip(event.contact_name, NAME_SIZE),
            kind=content.kind[:KIND_SIZE],
            wamid=wamid or None,
            media=content.media,
            raw=event.raw,
        )
        self.result.stored_messages += 1
        if content.answer:
            self._conversations[message.conversation_id] = None
        else:
            message.processed, message.source = True, "none"

    def status(self, tenant: Tenant, event: StatusEvent) -> None:
        status = event.status
        kind = status.kind
        wamid = status.id[:WAMID_SIZE]
        if not wamid or kind in (StatusKind.UNKNOWN, StatusKind.DELETED):
            return
        error = "; ".join(e.describe() for e in status.errors) or None
        row_id = row_of_callback(status.biz_opaque_callback_data)
        if row_id is not None and kind != StatusKind.FAILED:
            self._confirm(tenant, row_id, wamid)
        message = self.session.scalar(
            select(Message).where(Message.tenant_id == tenant.id, Message.wamid == wamid)
        )
        if message is not None and message.status != "failed":
            if kind == StatusKind.FAILED:
                message.status = "failed"
            elif STATUS_RANK.get(kind.value, 0) > STATUS_RANK.get(message.status or "queued", 0):
                message.status = kind.value
        if kind == StatusKind.FAILED:
            for row in self.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.tenant_id == tenant.id, OutboxMessage.wamid == wamid
                )
            ):
                row.status, row.last_error = "failed", (error or "failed (status webhook)")[:2000]

    def _confirm(self, tenant: Tenant, row_id: int, wamid: str) -> None:
        """WhatsApp accepted outbox row ``row_id`` as ``wamid``: record it, whatever the sender wrote."""
        row = self.session.get(OutboxMessage, row_id)
        if row is None or row.tenant_id != tenant.id or row.status == SENT:
            return
        if row.status == FAILED and row.wamid and row.wamid != wamid:
            return
        log.info("webhook: outbox row %s confirmed by a status webhook (%s)", row_id, row.status)
        row.status, row.wamid, row.sent_at = SENT, row.wamid or wamid, row.sent_at or self.now
        message = self.session.get(Message, row.message_id) if row.message_id else None
        if message is None:
            return
        if not message.wamid:
            taken = self.session.scalar(select(Message.id).where(Message.wamid == wamid))
            if taken is None:
                message.wamid = wamid
                self.session.flush()
        if message.status in (None, "queued", FAILED):
            message.status = SENT

    def echo(self, tenant: Tenant, event: EchoEvent) -> None:
        echo = event.echo
        if echo.kind != MessageType.TEXT or not echo.text or not echo.to:
            return
        wamid = echo.id[:WAMID_SIZE]
        if self._duplicate(wamid):
            self.result.duplicates += 1
            return
        service = self.service(tenant)
        service.operator_message(
            self.session, echo.to[:32], echo.text.body, self.now, operator="whatsapp-business-app",
            wamid=wamid or None,
        )

    def apply(self, tenant_of: dict[Route, Tenant | None], events: list[Event]) -> None:
        for event in events:
            tenant = tenant_of.get(event.route)
            if tenant is None:
                if not isinstance(event, OtherEvent):
                    log.info(
                        "webhook: %s for unknown phone number %s skipped",
                        type(event).__name__,
                        event.route.phone_number_id or event.route.waba_id,
                    )
                continue
            if isinstance(event, OtherEvent):
                log.info("webhook: %s for tenant %s kept in webhook_events", event.field, tenant.slug)
            else:
                self._isolated(tenant, event)
        self.result.conversations = list(self._conversations)

    def _isolated(self, tenant: Tenant, event: InboundEvent | StatusEvent | EchoEvent) -> None:
        """Apply one event in a savepoint: if it fails, only it is lost (and logged), never the
        other events of the delivery. Lock/connection errors still fail the whole body (retried)."""
        try:
            with self.session.begin_nested():
                if isinstance(event, InboundEvent):
                    self.inbound(tenant, event)
                elif isinstance(event, StatusEvent):
                    self.status(tenant, event)
                else:
                    self.echo(tenant, event)
        except OperationalError:
            raise
        except Exception:
            self.result.failed_events += 1
            log.exception("webhook: %s for tenant %s could not be stored; skipped", type(event).__name__, tenant.slug)


def _once(
    runtime: Runtime, raw: bytes, body: dict[str, Any], signature: str | None, now: datetime
) -> IngestResult:
    events = parse_events(body)
    text = raw.decode("utf-8", "replace").replace("\x00", "")
    with runtime.session() as session:
        tenant_of = {route: _lookup(session, route) for route in routes_of(body)}
        tenants = list({t.id: t for t in tenant_of.values() if t is not None}.values())
        if not tenants:
            unknown = sorted({r.phone_number_id or r.waba_id for r in tenant_of} - {""})
            refused_log.warning(
                "webhook: no tenant for %s; not stored: %s", ascii(", ".join(unknown)[:100]), _excerpt(raw)
            )
            return IngestResult(200, "unroutable")
        try:
            _check_signature(tenants, raw, signature, runtime.settings.secret())
        except _BadSignature as exc:
            log.warning("webhook: bad or missing signature for tenant %s", exc)
            return IngestResult(401, "bad signature")
        apply = _Apply(runtime, session, now)
        apply.apply(tenant_of, events)
        session.add(
            WebhookEvent(
                tenant_id=tenants[0].id, received_at=now, body=text, signature_ok=True, processed=True
            )
        )
        session.flush()
        return apply.result


def ingest(runtime: Runtime, raw: bytes, signature: str | None, now: datetime | None = None) -> IngestResult:
    """Store a webhook body; ``status`` is the HTTP status to answer (200, 400 or 401)."""
    if not signed_by_a_known_app(runtime, raw, signature):
        refused_log.warning("webhook: bad or missing signature; %s bytes refused", len(raw))
        return IngestResult(401, "bad signature")
    if too_deep(raw):
        return IngestResult(400, "JSON nested too deeply")
    try:
        body = clean(json.loads(raw))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return IngestResult(400, "malformed JSON")
    if not isinstance(body, dict):
        return IngestResult(400, "the body is not a JSON object")
    now = now or datetime.now(UTC)
    for attempt in range(1, RETRIES + 1):
        try:
            return _once(runtime, raw, body, signature, now)
        except (IntegrityError, OperationalError):
            if attempt == RETRIES:
                raise
            log.info("webhook: concurrent write, retrying (%s)", attempt, exc_info=True)
    raise AssertionError("unreachable")
