"""Staff verify payments: the bot never marks an order paid (a customer's "ya te yapeé" or voucher
only reports it, ``payment_reported``); someone of the shop checks the money arrived and verifies it
(``paid``, ``paid_at``) or rejects the report (back to ``pending_payment``, the customer is told).

Plain functions on a session, shared by the panel and the REST API; the caller checks who may do it
and that the order is the tenant's. The customer's message comes from the tenant's reply templates
(``pago_verificado``, ``pago_rechazado``) and goes through the outbox like any bot reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chasqui.db.models import AuditLog, Contact, Conversation, Message, Order, OutboxMessage
from chasqui.dialogue.composer import Composer, fmt_money
from chasqui.domain import TenantSnapshot
from chasqui.tenants.snapshot import load_snapshot

VERIFIABLE = frozenset({"payment_reported", "pending_payment"})
REJECTABLE = frozenset({"payment_reported"})
VERIFIED_KEY = "pago_verificado"
REJECTED_KEY = "pago_rechazado"


class PaymentActionError(ValueError):
    """The order is not in a state the action applies to (HTTP 409); the message is Spanish."""


@dataclass(frozen=True)
class PaymentResult:
    order: Order
    before: str
    customer_text: str | None  # what was queued for the customer (None: no conversation to write to)


def _tell_customer(session: Session, order: Order, key: str, now: datetime) -> str | None:
    """Queue the template ``key`` for the order's customer, as the bot, through the outbox."""
    conversation = session.get(Conversation, order.conversation_id) if order.conversation_id else None
    if conversation is None or conversation.tenant_id != order.tenant_id:
        return None
    contact = session.get(Contact, conversation.contact_id)
    if contact is None:
        return None
    tenant = load_snapshot(session, order.tenant_id)
    composer = Composer(tenant, 0, contact.alias or contact.name)
    text = composer.say(
        key,
        0,
        order_number=order.number,
        total=fmt_money(tenant, order.total),
        payment_instructions=_payment_details(tenant, order.payment_method),
    )
    if not text:
        return None
    message = Message(
        tenant_id=order.tenant_id, conversation_id=conversation.id, direction="out", sender="bot", type="text",
        text=text, status="queued", source="rule", processed=True, created_at=now,
    )
    session.add(message)
    session.flush()
    session.add(OutboxMessage(
        tenant_id=order.tenant_id, conversation_id=conversation.id, message_id=message.id, to=contact.phone,
        payload={"type": "text", "text": {"body": text}, "kind": "reply"}, status="pending", attempts=0,
        next_attempt_at=now, created_at=now,
    ))
    conversation.last_message_at = now
    return text


def _payment_details(tenant: TenantSnapshot, code: str | None) -> str:
    for method in tenant.payment_methods:
        if method.code == code:
            return method.details or ""
    return ""


def _audit(session: Session, order: Order, action: str, user_id: int | None, **detail: object) -> None:
    session.add(AuditLog(
        tenant_id=order.tenant_id, user_id=user_id, action=action,
        detail={"order_id": order.id, "number": order.number, **detail},
    ))


def verify_payment(
    session: Session, order: Order, now: datetime, *, user_id: int | None = None, by: dict | None = None
) -> PaymentResult:
    """``payment_reported``/``pending_payment`` → ``paid`` (``paid_at`` = now), audited; the customer
    gets the ``pago_verificado`` reply."""
    if order.status not in VERIFIABLE:
        raise PaymentActionError(f"El pedido {order.number} está «{order.status}»: no hay un pago por verificar.")
    before = order.status
    order.status, order.paid_at = "paid", now
    _audit(session, order, "order.payment.verify", user_id, before=before, **(by or {}))
    text = _tell_customer(session, order, VERIFIED_KEY, now)
    session.flush()
    return PaymentResult(order, before, text)


def reject_payment(
    session: Session, order: Order, now: datetime, *, user_id: int | None = None, by: dict | None = None
) -> PaymentResult:
    """``payment_reported`` → ``pending_payment``, audited; the customer gets the ``pago_rechazado``
    reply (the payment was not found, with the payment details again)."""
    if order.status not in REJECTABLE:
        raise PaymentActionError(f"El pedido {order.number} está «{order.status}»: no tiene un pago reportado.")
    before = order.status
    order.status = "pending_payment"
    _audit(session, order, "order.payment.reject", user_id, before=before, **(by or {}))
    text = _tell_customer(session, order, REJECTED_KEY, now)
    session.flush()
    return PaymentResult(order, before, text)
