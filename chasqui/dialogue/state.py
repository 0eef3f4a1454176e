"""What the engine reads (conversation state) and what it returns (a decision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chasqui.domain import CartLine, Quantity

BOT, ESCALATED, PAUSED = "bot", "escalated", "paused"
PENDING_PAYMENT, PAID, CANCELLED = "pending_payment", "paid", "cancelled"
PAYMENT_REPORTED = "payment_reported"  # the customer says they paid; staff have not verified it yet


@dataclass(frozen=True)
class OrderView:
    """The customer's latest order as the engine sees it."""

    number: str
    status: str
    items: dict[str, int]
    total: Decimal
    payment_method: str | None = None
    id: int | None = None
    zone: str | None = None  # delivery zone (None: pickup)


@dataclass(frozen=True)
class HistoryEntry:
    sender: str  # customer | bot | operator
    text: str
    intent: str | None = None


@dataclass
class ConversationState:
    customer_phone: str
    customer_name: str | None = None
    status: str = BOT
    paused_until: datetime | None = None
    cart: dict[str, Quantity] = field(default_factory=dict)  # sku -> total quantity of its lines
    order: OrderView | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    next_order_number: str = "1"
    cart_lines: list[CartLine] = field(default_factory=list)  # the stored lines, with notes and modifiers


@dataclass(frozen=True)
class PlaceOrder:
    number: str
    items: dict[str, int]
    lines: tuple  # tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    delivery_fee: Decimal
    total: Decimal
    fulfillment: str  # pickup | delivery
    zone: str | None
    payment_method: str
    notes: str | None = None  # for the whole order ("tocar el timbre"); line notes travel in ``lines``
    address: str | None = None  # the delivery street address the customer gave
    change_for: Decimal | None = None  # the bill a cash payer hands over ("pago con 50")


@dataclass(frozen=True)
class MarkPaid:
    """Staff verified the payment (the engine never sends this: a customer can only report one)."""

    number: str


@dataclass(frozen=True)
class ReportPayment:
    """The customer says they paid ("ya te yapeé", a screenshot): staff still have to verify it."""

    number: str


@dataclass(frozen=True)
class CancelOrder:
    number: str


OrderCommand = PlaceOrder | ReportPayment | MarkPaid | CancelOrder


@dataclass(frozen=True)
class Notification:
    to: str
    text: str
    kind: str  # sale | payment | cancel | escalation


@dataclass(frozen=True)
class SampleLabel:
    """A training sample the turn produced: the label, who gave it, and what the model said."""

    intent: str
    source: str  # llm (the teacher labelled it)
    ml_intent: str | None = None
    ml_confidence: float | None = None


@dataclass(frozen=True)
class Choice:
    """One option the customer can tap. ``id`` says what the tap means to the engine
    (``intent:<intent>``, ``pay:<code>``, ``zone:<name>``, ``pickup``, ``delivery``); ``title`` is
    what WhatsApp shows and what comes back as the message text."""

    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class Choices:
    """Options offered with the turn's last reply (reply buttons, or a list when there are more than
    three). Typing the answer works as well: they are a shortcut, never the only way."""

    options: tuple[Choice, ...]
    button: str = ""  # the label of the button that opens a list


@dataclass(frozen=True)
class Photo:
    """A product's photo (its ``image_url`` in the catalog), captioned with the product's name."""

    url: str
    caption: str


@dataclass
class Decision:
    replies: list[str] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    source: str = "none"  # ml | llm | rule | fallback | none
    status: str = BOT
    paused_until: datetime | None = None
    cart: dict[str, Quantity] = field(default_factory=dict)
    # None: the cart is ``cart`` (lines keep their stored notes, see pricing.merge_lines); a list: the
    # cart's lines exactly, with notes and modifiers (``cart`` must then hold their totals per SKU)
    cart_lines: list[CartLine] | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    order_commands: list[OrderCommand] = field(default_factory=list)
    escalation: tuple[str, str] | None = None  # (reason, detail)
    notifications: list[Notification] = field(default_factory=list)
    entities: dict[str, Any] = field(default_factory=dict)
    learn: bool = False  # the message is worth a training sample
    sample: SampleLabel | None = None  # a labelled sample to store (the LLM teacher's label)
    llm_usage: list[Any] = field(default_factory=list)  # chasqui.llm.client.Usage of this turn's LLM calls
    choices: Choices | None = None  # tap-able options for the last reply (WhatsApp buttons or list)
    photos: list[Photo] = field(default_factory=list)  # product photos sent after the replies
    labels: list[str] = field(default_factory=list)  # chat roles to label the conversation with (flows)
    step: str | None = None  # the flow step after this message (flow tenants)
    answered: list[str] = field(default_factory=list)  # what the shop's answers were about (hours, policy...)
    commands: list[Any] = field(default_factory=list)  # chasqui.dialogue.commands.Command carried out, in order
