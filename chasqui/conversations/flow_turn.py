"""The step flow in front of the sales assistant, and chat roles by keyword (CONTRACT §8).

``decide`` is what ``ConversationService.decide`` calls instead of the engine: for a tenant
without a flow it is the engine's decision unchanged. For a flow tenant the flow
(``chasqui.dialogue.flows``) answers first; the sales assistant answers the same message when the
flow hands the chat to it (its ``handoff_step``), or, for ``bot.mode: sales``, when no rule of
the step matched. The flow state lives in the conversation's memory under ``"flow"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chasqui.dialogue import choices as offers
from chasqui.dialogue import flows
from chasqui.dialogue.composer import Composer
from chasqui.dialogue.state import BOT, ESCALATED, PAUSED, Choice, ConversationState, Decision, Notification, Photo
from chasqui.domain import TenantSnapshot

MEMORY_KEY = "flow"
LABEL_MAX = 32


def decide(tenant: TenantSnapshot, engine: Any, text: str, state: ConversationState, now: datetime, *,
           kind: str = "text", choice: str | None = None) -> Decision:
    flow: flows.Flow | None = tenant.bot.flow
    paused = state.status == PAUSED and state.paused_until is not None and now < state.paused_until
    if flow is None or state.status == ESCALATED or paused:
        decision = engine.handle_customer(text, state, now, kind=kind, choice=choice)
        if flow is not None:
            decision.step = (state.memory.get(MEMORY_KEY) or {}).get("step") or flow.initial_step
        return decision
    turn = flows.run(flow, text, state.memory.get(MEMORY_KEY), now)
    sales = turn.handoff or (not turn.matched and tenant.bot.mode != "flow")
    if sales:
        decision = engine.handle_customer(text, state, now, kind=kind, choice=choice)
        decision.replies[:0] = turn.replies
    else:
        decision = Decision(
            replies=list(turn.replies), source="rule" if turn.matched else "none", status=BOT,
            cart=dict(state.cart), memory=dict(state.memory),
        )
        titles = turn.buttons or turn.rows
        if titles:
            options = [Choice(f"flow:{n}", t) for n, t in enumerate(titles)]
            decision.choices = offers._choices(options, "Ver opciones")  # noqa: SLF001 - WhatsApp's limits
    for media, url in turn.media:
        if media == "image":
            decision.photos.append(Photo(url, ""))
        elif decision.replies:
            decision.replies[-1] += f"\n{url}"
        else:
            decision.replies.append(url)
    decision.memory = {**decision.memory, MEMORY_KEY: turn.state}
    decision.labels = [*decision.labels, *turn.roles]
    decision.step = turn.step
    if turn.human and decision.status != ESCALATED:
        _escalate(tenant, decision, state, text, bool(turn.replies))
    return decision


def _escalate(tenant: TenantSnapshot, decision: Decision, state: ConversationState, text: str,
              answered: bool) -> None:
    say = Composer(tenant, 0, state.customer_name).say
    decision.status, decision.paused_until = ESCALATED, None
    decision.escalation = ("flow", text[:500])
    if not answered:
        decision.replies.append(say("escalado"))
    if tenant.notifications.notify_escalations:
        note = say("notificacion_escalado", customer=state.customer_name or state.customer_phone,
                   phone=state.customer_phone, reason="flow", text=text[:300])
        decision.notifications.extend(Notification(n, note, "escalation") for n in tenant.notifications.numbers)


def role_labels(tenant: TenantSnapshot, text: str | None) -> list[str]:
    """The roles a customer message names by keyword."""
    return flows.matched_roles(text or "", tenant.bot.roles) if text and tenant.bot.roles else []


def as_label(name: str) -> str:
    """A role's name as an inbox label (lower case, single spaces: ``parse_labels``' form)."""
    return " ".join(name.split()).lower()[:LABEL_MAX]


def with_labels(current: Iterable[str] | None, names: Iterable[str]) -> list[str] | None:
    """The contact's labels with ``names`` added; None when nothing changes."""
    labels = list(current or [])
    added = [label for name in names if (label := as_label(name)) and label not in labels]
    return [*labels, *dict.fromkeys(added)] if added else None
