"""A message of several commands runs as its clauses, one after the other, as one turn.

``chasqui.dialogue.commands.plan`` cuts the message; each clause is decided by the engine on the
state the previous clause left (cart, memory, order), and the decisions become the one decision
the caller applies: every reply in order, the last cart and memory, every order command and staff
notice. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from chasqui.dialogue.modifiers import lines_of
from chasqui.dialogue.state import (
    BOT,
    CANCELLED,
    PAYMENT_REPORTED,
    PENDING_PAYMENT,
    CancelOrder,
    ConversationState,
    Decision,
    HistoryEntry,
    OrderView,
    PlaceOrder,
    ReportPayment,
)

Decide = Callable[[str, ConversationState], Decision]
# The intents that say most about a turn, for its single ``intent`` field (the first one found).
_LEADING = ("confirmar_pedido", "confirmar_pago", "cancelar_pedido", "vaciar_carrito", "modificar_cantidad",
            "agregar_producto")


def run(clauses: Sequence[str], state: ConversationState, now: datetime, decide: Decide) -> Decision:
    """Decide each clause on the state the previous one left; one decision for the whole message."""
    decisions: list[Decision] = []
    current = state
    for text in clauses:
        decision = decide(text, current)
        decisions.append(decision)
        current = state_after(current, decision, text)
        if decision.status != BOT:
            break  # escalated or paused: the rest waits for a person
    merged = merge(decisions)
    if any(d.cart_lines is not None for d in decisions):
        merged.cart_lines = list(current.cart_lines)
    return merged


def state_after(state: ConversationState, d: Decision, text: str) -> ConversationState:
    """The conversation as it stands once ``d`` is applied (what the service would load next)."""
    order, number = state.order, state.next_order_number
    for command in d.order_commands:
        if isinstance(command, PlaceOrder):
            order = OrderView(command.number, PENDING_PAYMENT, dict(command.items), command.total,
                              command.payment_method, zone=command.zone)
            number = _next(number)
        elif isinstance(command, ReportPayment) and order is not None:
            order = dataclasses.replace(order, status=PAYMENT_REPORTED)
        elif isinstance(command, CancelOrder) and order is not None:
            order = dataclasses.replace(order, status=CANCELLED)
    lines = d.cart_lines if d.cart_lines is not None else lines_of(d.cart, state.cart_lines, [])
    history = [*state.history, HistoryEntry("customer", text, d.intent),
               *(HistoryEntry("bot", r) for r in d.replies)]
    return dataclasses.replace(state, status=d.status, paused_until=d.paused_until, cart=dict(d.cart),
                               order=order, memory=d.memory, history=history, next_order_number=number,
                               cart_lines=list(lines))


def merge(decisions: Sequence[Decision]) -> Decision:
    last = decisions[-1]
    leading = next((d for name in _LEADING for d in decisions if d.intent == name), decisions[0])
    merged = dataclasses.replace(last)
    merged.intent, merged.confidence, merged.source = leading.intent, leading.confidence, leading.source
    merged.replies = [r for d in decisions for r in d.replies]
    merged.order_commands = [c for d in decisions for c in d.order_commands]
    merged.notifications = [n for d in decisions for n in d.notifications]
    merged.escalation = next((d.escalation for d in decisions if d.escalation), None)
    merged.photos = [p for d in decisions for p in d.photos]
    merged.labels = list(dict.fromkeys(label for d in decisions for label in d.labels))
    merged.llm_usage = [u for d in decisions for u in d.llm_usage]
    merged.learn = any(d.learn for d in decisions)
    merged.sample = next((d.sample for d in decisions if d.sample), None)
    merged.commands = [c for d in decisions for c in d.commands]
    merged.answered = [a for d in decisions for a in d.answered]
    merged.entities = _entities(decisions)
    return merged


def _entities(decisions: Sequence[Decision]) -> dict:
    out: dict = {}
    for d in decisions:
        for key, values in d.entities.items():
            out.setdefault(key, [])
            out[key] = out[key] + [v for v in values if v not in out[key]]
    return out


def _next(number: str) -> str:
    return f"{int(number) + 1:0{len(number)}d}" if number.isdigit() else number
