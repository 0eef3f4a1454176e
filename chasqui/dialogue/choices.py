"""Tap-able options the bot offers with a question, and what a tap on one means.

The engine offers choices where a tap is quicker than typing: the payment method, pickup or
delivery, the delivery zone, and "confirm / view my order" after the cart changes. On WhatsApp they
become reply buttons (up to three) or a list; elsewhere (``simulate``, the panel) the reply text
alone is shown, and the text always says the options too, so typing the answer works the same.

A tap comes back as an interactive reply carrying the option's id (``cq:<kind>[:<value>]``) and
its title. ``tapped_text`` turns it into the words the engine understands anyway (the payment
method's or zone's full name, never a title cut to WhatsApp's 20 characters), and ``tapped_intent``
says which intent a tap decides by itself.

Every label comes from the tenant's reply templates (``opcion_*`` keys); a tenant whose templates
lack a label simply gets no buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chasqui.dialogue.state import Choice, Choices
from chasqui.domain import DeliveryZone, PaymentMethod, TenantSnapshot

ID_PREFIX = "cq:"
MAX_BUTTONS = 3
MAX_ROWS = 10
BUTTON_TITLE = 20  # WhatsApp's limits on a reply button's and a list row's title
ROW_TITLE = 24
ROW_DESCRIPTION = 72

Say = Callable[..., str]


@dataclass(frozen=True)
class Tap:
    kind: str  # intent | pay | zone | pickup | delivery
    value: str = ""


def wire_id(choice: Choice) -> str:
    """The id sent to WhatsApp for ``choice`` (and returned by it when the customer taps)."""
    return f"{ID_PREFIX}{choice.id}"


def decode(reply_id: str | None) -> Tap | None:
    """The tap behind an interactive reply id; None when the id is not one of ours."""
    if not reply_id or not reply_id.startswith(ID_PREFIX):
        return None
    kind, _sep, value = reply_id[len(ID_PREFIX) :].partition(":")
    if kind not in {"intent", "pay", "zone", "pickup", "delivery"}:
        return None
    return Tap(kind, value)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _choices(options: Sequence[Choice], button: str = "") -> Choices | None:
    options = [o for o in options if o.title]
    if not options or len(options) > MAX_ROWS:
        return None
    if len(options) > MAX_BUTTONS and not button:
        return None  # a list needs the label of its button
    limit = BUTTON_TITLE if len(options) <= MAX_BUTTONS else ROW_TITLE
    cut = tuple(
        Choice(o.id, _cut(o.title, limit), _cut(o.description, ROW_DESCRIPTION) if o.description else None)
        for o in options
    )
    return Choices(cut, button=_cut(button, BUTTON_TITLE) if button else "")


def payment_methods(say: Say, methods: Sequence[PaymentMethod]) -> Choices | None:
    return _choices([Choice(f"pay:{m.code}", m.name) for m in methods], say("opcion_ver_opciones"))


def fulfillment(say: Say) -> Choices | None:
    pickup, delivery = say("opcion_recojo"), say("opcion_delivery")
    if not (pickup and delivery):
        return None
    return _choices([Choice("pickup", pickup), Choice("delivery", delivery)])


def zones(say: Say, zones: Sequence[DeliveryZone], fee_of: Callable[[DeliveryZone], str]) -> Choices | None:
    options = [Choice(f"zone:{z.name}", z.name, fee_of(z)) for z in zones]
    return _choices(options, say("opcion_ver_opciones"))


def order_next_step(say: Say, *, with_view: bool) -> Choices | None:
    """After the cart changes: confirm it, or look at it (or empty it, when it was just shown)."""
    confirm = say("opcion_confirmar_pedido")
    other = ("ver_carrito", say("opcion_ver_pedido")) if with_view else ("vaciar_carrito", say("opcion_vaciar_pedido"))
    if not (confirm and other[1]):
        return None
    return _choices([Choice("intent:confirmar_pedido", confirm), Choice(f"intent:{other[0]}", other[1])])


def confirm_order(say: Say) -> Choices | None:
    """Under the order's read-back: confirm it (typing "sí" works as well)."""
    return _choices([Choice("intent:confirmar_pedido", say("opcion_confirmar_pedido"))])


def tapped_text(tenant: TenantSnapshot, say: Say, tap: Tap) -> str | None:
    """The words the tap stands for, in full (the payment method's or zone's name)."""
    if tap.kind == "pay":
        method = next((m for m in tenant.payment_methods if m.code == tap.value), None)
        return method.name if method else None
    if tap.kind == "zone":
        zone = next((z for z in tenant.delivery_zones if z.name == tap.value), None)
        return zone.name if zone else None
    if tap.kind == "pickup":
        return say("opcion_recojo") or None
    if tap.kind == "delivery":
        return say("opcion_delivery") or None
    return None


def tapped_intent(tap: Tap, cart_has_items: bool, known: Callable[[str], bool]) -> str | None:
    """The intent a tap decides by itself: an intent button, or a checkout answer while there is a cart."""
    if tap.kind == "intent":
        return tap.value if known(tap.value) else None
    if tap.kind in {"pay", "zone", "pickup", "delivery"} and cart_has_items:
        return "confirmar_pedido"
    return None


def values(say: Say, options: Sequence[Choice]) -> Choices | None:
    """A product's option values to pick from ("37", "38", "40"): a tap comes back as the value itself."""
    return _choices(list(options), say("opcion_ver_opciones"))
