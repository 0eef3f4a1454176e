"""Escalations: what waits for a human, since when and why; resolving one gives the chat back to the bot."""

from __future__ import annotations

from datetime import UTC, datetime, time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import Contact, Conversation, Escalation
from chasqui.web.access import access_escalation, panel_user, require_csrf, tenant_id_of
from chasqui.web.layout import render
from chasqui.web.operator import operations
from chasqui.web.operator.queries import age, display_name, local_time, tenant_timezone

router = APIRouter()
RECENT = 30


def _rows(session: Session, tenant_id: int, *, pending: bool, now: datetime) -> list[dict]:
    tz = tenant_timezone(session, tenant_id)
    query = (
        select(Escalation, Contact)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Escalation.tenant_id == tenant_id, Conversation.tenant_id == tenant_id)
    )
    if pending:
        query = query.where(Escalation.resolved_at.is_(None)).order_by(Escalation.opened_at, Escalation.id)
    else:
        query = query.where(Escalation.resolved_at.is_not(None)).order_by(Escalation.resolved_at.desc()).limit(RECENT)
    rows = []
    for escalation, contact in session.execute(query).all():
        rows.append({
            "id": escalation.id,
            "conversation_id": escalation.conversation_id,
            "customer": display_name(contact),
            "phone": contact.phone,
            "wa_link": f"https://wa.me/{contact.phone}",
            "reason": escalation.reason,
            "detail": escalation.detail,
            "opened": local_time(escalation.opened_at, tz, now),
            "age": age(escalation.opened_at, now),
            "resolved": local_time(escalation.resolved_at, tz, now) if escalation.resolved_at else "",
        })
    return rows


def escalation_stats(session: Session, tenant_id: int, now: datetime) -> dict[str, int]:
    tz = tenant_timezone(session, tenant_id)
    midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(UTC)
    pending = session.scalar(
        select(func.count(Escalation.id)).where(Escalation.tenant_id == tenant_id, Escalation.resolved_at.is_(None))
    )
    resolved_today = session.scalar(
        select(func.count(Escalation.id)).where(Escalation.tenant_id == tenant_id, Escalation.resolved_at >= midnight)
    )
    opened_today = session.scalar(
        select(func.count(Escalation.id)).where(Escalation.tenant_id == tenant_id, Escalation.opened_at >= midnight)
    )
    return {"pending": pending or 0, "resolved_today": resolved_today or 0, "opened_today": opened_today or 0}


@router.get("/escalations")
def escalations_page(request: Request) -> Response:
    now = datetime.now(UTC)
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        context = {"user": user, "section": "escalations", "pending": [], "resolved": [],
                   "stats": {"pending": 0, "resolved_today": 0, "opened_today": 0}}
        if user.tenant is not None:
            tenant_id = tenant_id_of(user)
            context |= {
                "pending": _rows(session, tenant_id, pending=True, now=now),
                "resolved": _rows(session, tenant_id, pending=False, now=now),
                "stats": escalation_stats(session, tenant_id, now),
            }
        return render(request, "escalations.html", context)


@router.post("/escalations/{escalation_id}/resolve", dependencies=[Depends(require_csrf)])
def resolve(request: Request, escalation_id: int, next: str = Form("")) -> Response:  # noqa: A002
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        user = panel_user(session, request)
        escalation = access_escalation(session, user, escalation_id)
        done = operations.resolve_escalation(state.runtime, session, user, escalation, datetime.now(UTC))
        conversation_id = escalation.conversation_id
    request.session["flash"] = (
        {"notice": "Escalación resuelta: el bot vuelve a responder."} if done
        else {"notice": "Esa escalación ya estaba resuelta."}
    )
    target = f"/conversations/{conversation_id}" if next == "conversation" else "/escalations"
    return RedirectResponse(target, status_code=303)
