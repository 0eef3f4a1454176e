"""The one path every customer message takes: record it, run the engine, apply the decision.

WhatsApp's worker, ``chasqui chat`` and ``chasqui simulate`` all call ``record_customer_message``
then ``process_message`` (or ``operator_message``); the caller owns the transaction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chasqui.conversations import flow_turn, limits
from chasqui.db.models import (
    Cart,
    CartItem,
    Contact,
    Conversation,
    Escalation,
    Message,
    Order,
    OrderItem,
    OutboxMessage,
    TrainingSample,
)
from chasqui.dialogue import choices as offers
from chasqui.dialogue.engine import Engine
from chasqui.dialogue.pricing import cart_totals, merge_lines, price_cart
from chasqui.dialogue.state import (
    BOT,
    ESCALATED,
    PAUSED,
    PAYMENT_REPORTED,
    CancelOrder,
    Choices,
    ConversationState,
    Decision,
    HistoryEntry,
    MarkPaid,
    OrderView,
    Photo,
    PlaceOrder,
    ReportPayment,
)
from chasqui.domain import CartLine, Quantity, TenantSnapshot, format_quantity
from chasqui.whatsapp import messages as wa

RELAY = re.compile(r"^\s*\+?(\d[\d \-]{6,20}\d)\s*[:,\-]?\s+(.+)$", re.DOTALL)  # "51987654321: texto"
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def order_notes(order: Order) -> str | None:
    """The order's notes for the staff and ``simulate --json``: the order's own, then each line's
    ("Jugo de papaya (grande): sin azúcar"); None when there are none."""
    parts = [order.notes] if order.notes else []
    for item in order.items:
        extras = ", ".join([*(item.modifiers or ()), *([item.notes] if item.notes else [])])
        if extras:
            parts.append(f"{item.name}: {extras}")
    return "; ".join(parts) or None  # free-form messages only within 24 h of the user's last


@dataclass
class TurnPlan:
    """A decision taken on a message, and the state it was taken on."""

    state: ConversationState
    decision: Decision


@dataclass
class TurnOutcome:
    """What happened in one turn, in the shape of ``chasqui simulate --json``."""

    conversation_id: int
    decision: Decision
    state: str
    cart: dict[str, int | str]  # as CONTRACT §4 prints it: ints, decimal strings for measured products
    cart_total: str
    order: dict[str, Any] | None
    notifications: list[dict[str, str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the conversation's labels (roles included)
    step: str | None = None  # the flow step (flow tenants)


def tapped_option(message: Message) -> str | None:
    """The id of the button or list row a customer tapped (interactive replies store it in ``media``)."""
    if message.type != "interactive" or not isinstance(message.media, dict):
        return None
    value = message.media.get("id")
    return value if isinstance(value, str) else None


def outbound_payload(text: str, choices: Choices | None) -> dict[str, Any] | None:
    """The reply as reply buttons (≤ 3 options) or a list, when it offers choices that fit WhatsApp's
    limits; None: plain text (also when the text is too long for an interactive body)."""
    if choices is None:
        return None
    try:
        if len(choices.options) <= offers.MAX_BUTTONS:
            return wa.reply_buttons(text, [(offers.wire_id(o), o.title) for o in choices.options])
        rows = [(offers.wire_id(o), o.title, o.description) for o in choices.options]
        return wa.list_message(text, choices.button, [("", rows)])
    except wa.MessageError:
        return None


def template_parameter(text: str) -> str:
    """A template body variable: one line (WhatsApp refuses new lines, tabs and runs of spaces in
    one), at most 1,000 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 1000 else flat[:999] + "…"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class ConversationService:
    """Applies engine decisions for one tenant."""

    def __init__(self, tenant: TenantSnapshot, engine: Engine, learner: Any = None) -> None:
        self.tenant = tenant
        self.engine = engine
        self.learner = learner  # chasqui.nlu.learning.Learner: retrains after enough new samples

    # -- loading ---------------------------------------------------------------------------------
    def conversation_for(self, session: Session, phone: str, name: str | None, now: datetime) -> Conversation:
        tenant_id = self.tenant.id
        contact = session.scalar(select(Contact).where(Contact.tenant_id == tenant_id, Contact.phone == phone))
        if contact is None:
            contact = Contact(tenant_id=tenant_id, phone=phone, name=name, labels=[], created_at=now, updated_at=now)
            session.add(contact)
            session.flush()
        elif name and not contact.name:
            contact.name = name
        conversation = session.scalar(
            select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.contact_id == contact.id)
        )
        if conversation is None:
            conversation = Conversation(tenant_id=tenant_id, contact_id=contact.id, state=BOT, context={},
                                        created_at=now, updated_at=now)
            session.add(conversation)
            session.flush()
        return conversation

    def _cart(self, session: Session, conversation: Conversation) -> Cart:
        cart = session.scalar(
            select(Cart).where(Cart.tenant_id == self.tenant.id, Cart.conversation_id == conversation.id)
        )
        if cart is None:
            cart = Cart(tenant_id=self.tenant.id, conversation_id=conversation.id)
            session.add(cart)
            session.flush()
        return cart

    def cart_lines_of(self, session: Session, conversation: Conversation) -> list[CartLine]:
        """The cart's stored lines, in order, with notes and modifiers; quantities as ints for whole
        units and Decimals for products sold by weight, length or volume."""
        rows = session.execute(
            select(CartItem.sku, CartItem.quantity, CartItem.notes, CartItem.modifiers)
            .join(Cart, Cart.id == CartItem.cart_id)
            .where(Cart.tenant_id == self.tenant.id, Cart.conversation_id == conversation.id)
            .order_by(CartItem.id)
        )
        return [
            CartLine(sku, self.tenant.quantity(sku, qty), notes or "", tuple(modifiers or ()))
            for sku, qty, notes, modifiers in rows
        ]

    def cart_of(self, session: Session, conversation: Conversation) -> dict[str, Quantity]:
        """{sku: total quantity} of the cart (int units; Decimal for measured products)."""
        return cart_totals(self.cart_lines_of(session, conversation))

    def latest_order(self, session: Session, conversation: Conversation) -> Order | None:
        return session.scalar(
            select(Order)
            .where(Order.tenant_id == self.tenant.id, Order.conversation_id == conversation.id)
            .order_by(Order.id.desc())
            .limit(1)
        )

    def _history(self, session: Session, conversation: Conversation) -> list[HistoryEntry]:
        limit = max(int(self.tenant.bot.context_messages), 0)
        rows = session.scalars(
            select(Message)
            .where(Message.tenant_id == self.tenant.id, Message.conversation_id == conversation.id)
            .order_by(Message.id.desc())
            .limit(limit)
        ).all()
        return [HistoryEntry(m.sender, m.text or "", m.intent) for m in reversed(rows)]

    def _next_order_number(self, session: Session) -> str:
        count = session.scalar(select(func.count(Order.id)).where(Order.tenant_id == self.tenant.id)) or 0
        return f"{count + 1:05d}"

    def load_state(self, session: Session, conversation: Conversation) -> ConversationState:
        order = self.latest_order(session, conversation)
        view = None
        if order is not None:
            view = OrderView(
                number=order.number, status=order.status, items=self._order_quantities(order),
                total=order.total, payment_method=order.payment_method, id=order.id, zone=order.zone,
            )
        contact = conversation.contact
        return ConversationState(
            customer_phone=contact.phone,
            customer_name=contact.alias or contact.name,
            status=conversation.state,
            paused_until=_aware(conversation.paused_until),
            cart=cart_totals(lines := self.cart_lines_of(session, conversation)),
            cart_lines=lines,
            order=view,
            memory=dict(conversation.context or {}),
            history=self._history(session, conversation),
            next_order_number=self._next_order_number(session),
        )

    # -- entry points --------------------------------------------------------------------------
    def record_customer_message(
        self, session: Session, phone: str, text: str | None, now: datetime, *, name: str | None = None,
        kind: str = "text", wamid: str | None = None, media: dict | None = None, raw: dict | None = None,
    ) -> Message:
        conversation = self.conversation_for(session, phone, name, now)
        message = Message(
            tenant_id=self.tenant.id, conversation_id=conversation.id, direction="in", sender="customer",
            type=kind, text=text, media=media, wamid=wamid, status="received", raw=raw, processed=False,
            created_at=now,
        )
        session.add(message)
        conversation.last_message_at = now
        conversation.unread_count = (conversation.unread_count or 0) + 1
        session.flush()
        return message

    def decide(self, session: Session, message: Message, now: datetime) -> TurnPlan:
        """The engine's decision on a recorded customer message; reads only (the LLM teacher may be
        called here, so the worker runs this outside any write transaction)."""
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None and conversation.tenant_id == self.tenant.id
        state = self.load_state(session, conversation)
        if self.is_operator(state.customer_phone):  # staff, not a customer: never sold to
            return TurnPlan(state, Decision(status=state.status, paused_until=state.paused_until,
                                            memory=dict(conversation.context or {}), cart=dict(state.cart)))
        text, cut = limits.understood_part(message.text or "")
        decision = flow_turn.decide(self.tenant, self.engine, text, state, now, kind=message.type,
                                    choice=tapped_option(message))
        if cut and decision.replies:
            decision.replies.insert(0, limits.truncation_note(self.tenant))
        return TurnPlan(state, decision)

    def is_operator(self, phone: str) -> bool:
        """One of the tenant's ``intervention.operator_numbers``."""
        return phone in self.tenant.bot.operator_numbers

    def _relay_operator(self, session: Session, sender: str, text: str, now: datetime) -> None:
        """An operator's instruction ``NUMBER: text`` (or ``NUMBER text``) sent to the business number:
        ``text`` goes to that customer as the operator's message (the bot steps aside, as when the
        operator writes from the panel). Anything else an operator writes is only recorded."""
        match = RELAY.match(text or "")
        if match is None:
            return
        target, body = re.sub(r"\D", "", match.group(1)), match.group(2).strip()
        if body and target != sender and not self.is_operator(target):
            self.operator_message(session, target, body, now, operator=f"whatsapp:{sender}")

    def fingerprint(self, session: Session, conversation: Conversation) -> tuple:
        """What a decision depends on besides the message: state, pause, memory, cart, and the latest
        reply or operator message. Equal fingerprints: a decision taken earlier is still valid."""
        last_out = session.scalar(
            select(func.max(Message.id)).where(Message.conversation_id == conversation.id, Message.direction == "out")
        )
        return (conversation.state, _aware(conversation.paused_until), json.dumps(conversation.context or {},
                sort_keys=True, default=str), tuple(self.cart_of(session, conversation).items()), last_out)

    def apply_plan(self, session: Session, message: Message, plan: TurnPlan, now: datetime, *,
                   report: bool = True) -> TurnOutcome | None:
        """Write a decision: message labels, state, cart, orders, replies (outbox), samples."""
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None
        decision = plan.decision
        message.intent, message.confidence, message.source = decision.intent, decision.confidence, decision.source
        message.processed = True
        if self.is_operator(plan.state.customer_phone):
            self._relay_operator(session, plan.state.customer_phone, message.text or "", now)
        self._apply(session, conversation, plan.state, decision, now, message)
        return self.outcome(session, conversation, decision, now) if report else None

    def process_message(self, session: Session, message: Message, now: datetime, *, report: bool = True
                        ) -> TurnOutcome | None:
        """Decide and apply in the caller's transaction (``chat``, ``simulate``). ``report=False``
        skips building the turn summary they print."""
        return self.apply_plan(session, message, self.decide(session, message, now), now, report=report)

    def customer_message(self, session: Session, phone: str, text: str, now: datetime, **kwargs: Any) -> TurnOutcome:
        message = self.record_customer_message(session, phone, text, now, **kwargs)
        outcome = self.process_message(session, message, now)
        assert outcome is not None
        return outcome

    def operator_message(self, session: Session, phone: str, text: str, now: datetime,
                         operator: str = "operator", wamid: str | None = None) -> TurnOutcome:
        """``wamid``: already sent from the WhatsApp Business app (an echo); record it, don't queue it."""
        conversation = self.conversation_for(session, phone, None, now)
        state = self.load_state(session, conversation)
        decision = self.engine.handle_operator(text, state, now)
        message = Message(
            tenant_id=self.tenant.id, conversation_id=conversation.id, direction="out", sender="operator",
            type="text", text=text, status="sent" if wamid else "queued", wamid=wamid, processed=True,
            created_at=now,
        )
        session.add(message)
        session.flush()
        if wamid is None:
            self._queue(session, conversation.id, message.id, state.customer_phone, text, now)
        conversation.state, conversation.paused_until = decision.status, decision.paused_until
        conversation.last_message_at = now
        conversation.unread_count = 0
        return self.outcome(session, conversation, decision, now)

    def resolve_escalation(self, session: Session, conversation: Conversation, now: datetime, by: str) -> None:
        for escalation in session.scalars(
            select(Escalation).where(
                Escalation.tenant_id == self.tenant.id,
                Escalation.conversation_id == conversation.id,
                Escalation.resolved_at.is_(None),
            )
        ):
            escalation.resolved_at, escalation.resolved_by = now, by
        conversation.state, conversation.paused_until = BOT, None
        context = dict(conversation.context or {})
        for key in ("fallback_streak", "complaints", "last_unanswered", "awaiting_human"):
            context.pop(key, None)
        conversation.context = context

    def effective_state(self, conversation: Conversation, now: datetime) -> str:
        paused_until = _aware(conversation.paused_until)
        if conversation.state == PAUSED and paused_until is not None and now >= paused_until:
            return BOT
        return conversation.state

    # -- applying a decision ----------------------------------------------------------------------
    def _apply(self, session: Session, conversation: Conversation, state: ConversationState,
               decision: Decision, now: datetime, inbound: Message) -> None:
        conversation.state = decision.status
        conversation.paused_until = decision.paused_until if decision.status == PAUSED else None
        conversation.context = dict(decision.memory)
        conversation.last_message_at = now
        roles = [*decision.labels, *flow_turn.role_labels(self.tenant, inbound.text)]
        if roles and (labels := flow_turn.with_labels(conversation.contact.labels, roles)) is not None:
            conversation.contact.labels = labels
        if decision.cart_lines is not None:
            self._write_cart(session, conversation, decision.cart_lines)
        elif decision.cart != state.cart:
            self._write_cart(session, conversation, merge_lines(decision.cart, state.cart_lines))
        for command in decision.order_commands:
            self._apply_order(session, conversation, command, now, inbound)
        if decision.escalation and state.status != ESCALATED:
            reason, detail = decision.escalation
            session.add(Escalation(tenant_id=self.tenant.id, conversation_id=conversation.id,
                                   reason=reason[:64], detail=detail, opened_at=now))
        replies = limits.capped_replies(decision.replies)
        for index, text in enumerate(replies):
            last = index == len(replies) - 1
            payload = outbound_payload(text, decision.choices if last else None)
            offered = {"choices": [o.title for o in decision.choices.options]} if payload and decision.choices else None
            reply = Message(
                tenant_id=self.tenant.id, conversation_id=conversation.id, direction="out", sender="bot",
                type="text", text=text, media=offered, status="queued", source=decision.source, processed=True,
                created_at=now,
            )
            session.add(reply)
            session.flush()
            self._queue(session, conversation.id, reply.id, state.customer_phone, text, now, payload=payload)
        for photo in decision.photos[: limits.MAX_PHOTOS_PER_TURN]:
            self._queue_photo(session, conversation, state.customer_phone, photo, decision.source, now)
        for note in decision.notifications:
            payload = self._staff_payload(session, note.to, note.text, now)
            self._queue(session, None, None, note.to, note.text, now, kind=note.kind, payload=payload)
        if decision.learn and inbound.text and decision.intent:
            session.add(TrainingSample(
                tenant_id=self.tenant.id, text=inbound.text[:2000], intent=decision.intent, source="ml",
                confirmed=False, ml_intent=decision.intent, ml_confidence=decision.confidence,
                message_id=inbound.id, created_at=now,
            ))
        if decision.sample is not None and inbound.text:  # labelled by the LLM teacher
            sample = decision.sample
            session.add(TrainingSample(
                tenant_id=self.tenant.id, text=inbound.text[:2000], intent=sample.intent, source=sample.source,
                confirmed=False, ml_intent=sample.ml_intent, ml_confidence=sample.ml_confidence,
                message_id=inbound.id, created_at=now,
            ))
            if self.learner is not None:
                self.learner.after_sample(session, self.tenant.id)
        if decision.llm_usage:
            from chasqui.llm.usage import record_usage

            record_usage(session, self.tenant.id, decision.llm_usage, now.astimezone(UTC).date())

    def _queue(self, session: Session, conversation_id: int | None, message_id: int | None, to: str, text: str,
               now: datetime, kind: str = "reply", payload: dict[str, Any] | None = None) -> None:
        """Queue one WhatsApp message (plain text unless ``payload`` gives the Cloud API message object)."""
        body = payload or {"type": "text", "text": {"body": text}}
        session.add(OutboxMessage(
            tenant_id=self.tenant.id, conversation_id=conversation_id, message_id=message_id, to=to,
            payload={**body, "kind": kind}, status="pending",
            attempts=0, next_attempt_at=now, created_at=now,
        ))

    def _queue_photo(self, session: Session, conversation: Conversation, to: str, photo: Photo, source: str,
                     now: datetime) -> None:
        """A product photo by its catalog URL (WhatsApp fetches it), captioned with the product's name."""
        try:
            payload = wa.image(link=photo.url, caption=photo.caption)
        except wa.MessageError:
            return
        message = Message(
            tenant_id=self.tenant.id, conversation_id=conversation.id, direction="out", sender="bot",
            type="image", text=photo.caption, media={"link": photo.url, "summary": "📷 Imagen"}, status="queued",
            source=source, processed=True, created_at=now,
        )
        session.add(message)
        session.flush()
        self._queue(session, conversation.id, message.id, to, photo.caption, now, payload=payload)

    def _staff_payload(self, session: Session, to: str, text: str, now: datetime) -> dict[str, Any] | None:
        """A staff notice goes as text while that number is inside WhatsApp's 24 h customer-service
        window (it wrote to the business in the last 24 h); outside it, as the tenant's approved
        template with the notice as its one body variable. None: plain text."""
        notes = self.tenant.notifications
        if not notes.template_name:
            return None
        last_written = session.scalar(
            select(func.max(Message.created_at))
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Message.tenant_id == self.tenant.id, Contact.phone == to, Message.direction == "in")
        )
        if last_written is not None and _aware(last_written) > now - CUSTOMER_SERVICE_WINDOW:
            return None
        return wa.template(notes.template_name, notes.template_language, [template_parameter(text)])

    def _write_cart(self, session: Session, conversation: Conversation, lines: list[CartLine]) -> None:
        cart = self._cart(session, conversation)
        session.execute(delete(CartItem).where(CartItem.tenant_id == self.tenant.id, CartItem.cart_id == cart.id))
        for line in lines:
            if Decimal(line.quantity) > 0:
                session.add(CartItem(tenant_id=self.tenant.id, cart_id=cart.id, sku=line.sku,
                                     quantity=Decimal(line.quantity), notes=line.notes or "",
                                     modifiers=list(line.modifiers) or None))
        session.expire(cart, ["items"])

    def _order_by_number(self, session: Session, number: str) -> Order | None:
        return session.scalar(select(Order).where(Order.tenant_id == self.tenant.id, Order.number == number))

    def _apply_order(self, session: Session, conversation: Conversation, command: Any, now: datetime,
                     inbound: Message) -> None:
        if isinstance(command, PlaceOrder):
            order = Order(
                tenant_id=self.tenant.id, conversation_id=conversation.id, contact_id=conversation.contact_id,
                number=command.number, status="pending_payment", fulfillment=command.fulfillment,
                zone=command.zone, delivery_address=command.address, delivery_fee=command.delivery_fee,
                subtotal=command.subtotal,
                discount=command.discount, total=command.total, payment_method=command.payment_method,
                created_at=now, confirmed_at=now, change_for=command.change_for, notes=command.notes or None,
            )
            order.items = [
                OrderItem(tenant_id=self.tenant.id, sku=line.sku, name=line.name, unit_price=line.unit_price,
                          quantity=Decimal(line.quantity), line_total=line.line_total,
                          notes=line.notes, modifiers=list(line.modifiers) or None)
                for line in command.lines
            ]
            session.add(order)
            session.flush()
            return
        order = self._order_by_number(session, command.number)
        if order is None:
            return
        if isinstance(command, ReportPayment):  # the customer says so; staff verify it (MarkPaid)
            order.status = PAYMENT_REPORTED
            if inbound.type == "image" and inbound.media:
                order.voucher_media = inbound.media
        elif isinstance(command, MarkPaid):
            order.status, order.paid_at = "paid", now
        elif isinstance(command, CancelOrder):
            order.status, order.cancelled_at = "cancelled", now

    # -- reporting ------------------------------------------------------------------------------
    def _order_quantities(self, order: Order) -> dict[str, Quantity]:
        """{sku: total quantity} of an order's lines (int units; Decimal for measured products)."""
        return cart_totals([CartLine(i.sku, self.tenant.quantity(i.sku, i.quantity)) for i in order.items])

    def _json_quantities(self, totals: dict[str, Quantity]) -> dict[str, int | str]:
        """CONTRACT §4: whole units as integers, measured products as decimal strings ("0.5")."""
        return {sku: format_quantity(q) if isinstance(q, Decimal) else q for sku, q in totals.items()}

    def outcome(self, session: Session, conversation: Conversation, decision: Decision, now: datetime) -> TurnOutcome:
        session.flush()
        lines = self.cart_lines_of(session, conversation)
        priced = price_cart(self.tenant, lines, now.date())
        order = self.latest_order(session, conversation)
        order_json = None
        if order is not None:
            order_json = {
                "id": order.number, "status": order.status,
                "items": self._json_quantities(self._order_quantities(order)), "total": f"{Decimal(order.total):.2f}",
                "delivery": (order.zone or "delivery") if order.fulfillment == "delivery" else order.fulfillment,
                "address": order.delivery_address or None,
                "payment_method": order.payment_method,
                "notes": order_notes(order),
                "change_for": f"{Decimal(order.change_for):.2f}" if order.change_for is not None else None,
            }
        return TurnOutcome(
            conversation_id=conversation.id, decision=decision, state=self.effective_state(conversation, now),
            cart=self._json_quantities(cart_totals(lines)), cart_total=f"{priced.total:.2f}", order=order_json,
            notifications=[{"to": n.to, "text": n.text} for n in decision.notifications],
            labels=list(conversation.contact.labels or []),
            step=((conversation.context or {}).get(flow_turn.MEMORY_KEY) or {}).get("step")
            or (self.tenant.bot.flow.initial_step if self.tenant.bot.flow else None),
        )
