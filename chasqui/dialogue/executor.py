"""Carry out one :class:`~chasqui.dialogue.commands.Command` on a turn through the engine's handlers.

The LLM teacher's validated tool calls become commands (``chasqui.llm.tools.to_command``) and run
here, by the same code that runs what the customer typed: the handler reads the turn as if the
message had said exactly the command's item, quantity, zone or payment method.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chasqui.dialogue import commands as c
from chasqui.dialogue.state import ESCALATED
from chasqui.nlu.entities import Entities, ProductMention

# Words the handlers' cues read (pickup, delivery, removal): the command says it, not the customer.
_PICKUP_TEXT = "recojo en tienda"
_DELIVERY_TEXT = "delivery"
_REMOVE_TEXT = "quita"


@contextmanager
def _reading(turn: Any, entities: Entities, folded: str = "") -> Iterator[None]:
    """Run a handler as if the message had said exactly ``entities``."""
    saved = turn.entities, turn.folded
    turn.entities, turn.folded = entities, folded
    try:
        yield
    finally:
        turn.entities, turn.folded = saved


def _mention(sku: str, quantity: Any) -> ProductMention:
    return ProductMention(sku=sku, candidates=(sku,), quantity=quantity, score=100.0, start=0, end=0)


def run(engine: Any, turn: Any, command: c.Command) -> None:
    """Apply ``command`` to ``turn`` (nothing once the conversation is with a person)."""
    if turn.decision.status == ESCALATED:
        return
    op, sku = command.op, (command.items[0] if command.items else None)
    if op == c.ADD and sku:
        with _reading(turn, Entities(products=(_mention(sku, command.quantity),), quantities=(command.quantity,))):
            engine._add_items(turn, [(sku, command.quantity)])
    elif op == c.SET_QUANTITY and sku:
        with _reading(turn, Entities(products=(_mention(sku, command.quantity),), quantities=(command.quantity,))):
            engine.h_modificar_cantidad(turn)
    elif op == c.REMOVE and sku:
        with _reading(turn, Entities(products=(_mention(sku, None),)), _REMOVE_TEXT):
            engine.h_modificar_cantidad(turn)
    elif op == c.EMPTY:
        engine.h_vaciar_carrito(turn)
    elif op == c.VIEW_CART:
        engine.h_ver_carrito(turn)
    elif op == c.CONFIRM:
        with _reading(turn, Entities()):
            engine.h_confirmar_pedido(turn)
    elif op == c.FACT:
        _fact(engine, turn, command)
    elif op == c.PAY:
        with _reading(turn, Entities()):
            engine.h_confirmar_pago(turn)
    elif op == c.CANCEL:
        engine.h_cancelar_pedido(turn)
    elif op == c.HUMAN:
        engine._escalate(turn, command.value or "derivado")


def _fact(engine: Any, turn: Any, command: c.Command) -> None:
    """A checkout fact (pickup or delivery and its zone, a payment method): the checkout goes on."""
    if command.kind == "fulfillment":
        entities = Entities(zones=(command.zone,)) if command.zone else Entities()
        with _reading(turn, entities, _PICKUP_TEXT if command.value == "pickup" else _DELIVERY_TEXT):
            engine.h_confirmar_pedido(turn)
    elif command.kind == "payment" and command.value:
        with _reading(turn, Entities(payment_methods=(command.value,))):
            engine.h_confirmar_pedido(turn)
