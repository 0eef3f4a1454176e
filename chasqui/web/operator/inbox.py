"""The inbox: conversation list with filters, one conversation, and what operators do in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui.db.models import CannedResponse, Conversation, ConversationNote, Escalation, Order, User
from chasqui.web.access import (
    access_canned,
    access_conversation,
    access_member,
    access_message,
    access_note,
    panel_user,
    require_csrf,
    role_of,
    tenant_members,
)
from chasqui.web.admin.orders import status_label as order_status_label
from chasqui.web.auth import PanelUser, load_panel_user
from chasqui.web.layout import render
from chasqui.web.operator import operations
from chasqui.web.operator.media import (
    INLINE_KINDS,
    MAX_ATTACHMENT_MB,
    MAX_REQUEST_BYTES,
    AttachmentError,
    stored_path,
)
from chasqui.web.operator.queries import (
    STATE_LABELS,
    InboxFilters,
    aware,
    conversation_rows,
    display_name,
    effective_state,
    history,
    local_time,
    tenant_labels,
    tenant_timezone,
)

router = APIRouter()

FILTER_PARAMS = ("state", "label", "unread", "mine", "q")


def now_utc() -> datetime:
    return datetime.now(UTC)


def filters_of(values: Any) -> InboxFilters:
    return InboxFilters.parse(**{name: str(values.get(name, "") or "") for name in FILTER_PARAMS})


def _filters_from_form(raw: str) -> InboxFilters:
    from urllib.parse import parse_qs

    parsed = {k: v[0] for k, v in parse_qs(raw or "").items() if v}
    return filters_of(parsed)


def conversation_url(conversation_id: int, filters: InboxFilters) -> str:
    query = filters.query()
    return f"/conversations/{conversation_id}" + (f"?{query}" if query else "")


def limit_request(request: Request) -> None:
    """Refuse a body larger than any acceptable upload before it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise HTTPException(status_code=413, detail=f"El archivo es demasiado grande: máximo {MAX_ATTACHMENT_MB} MB.")


# -- page contexts ---------------------------------------------------------------------------------
def inbox_context(session: Session, user: PanelUser, filters: InboxFilters, now: datetime) -> dict[str, Any]:
    tenant_id = user.tenant.id if user.tenant else None
    rows = conversation_rows(session, tenant_id, filters, user_id=user.id, now=now) if tenant_id else []
    return {
        "user": user,
        "section": "inbox",
        "conversations": rows,
        "filters": filters,
        "filter_query": filters.query(),
        "labels": tenant_labels(session, tenant_id) if tenant_id else [],
        "states": [(s, STATE_LABELS[s]) for s in ("bot", "escalated", "paused")],
        "open_id": None,
        "live_url": "/" + (f"?{filters.query()}" if filters.query() else ""),
    }


def _resolved_by(session: Session, value: str | None) -> str:
    if not value:
        return ""
    if value.startswith("user:") and value[5:].isdigit():
        user = session.get(User, int(value[5:]))
        return user.name or user.email if user else "un usuario eliminado"
    if value == "timeout":
        return "tiempo de espera"
    return value


def conversation_context(
    session: Session, user: PanelUser, conversation: Conversation, now: datetime
) -> dict[str, Any]:
    tz = tenant_timezone(session, conversation.tenant_id)
    contact = conversation.contact
    state = effective_state(conversation, now)
    until = aware(conversation.paused_until)
    notes = session.execute(
        select(ConversationNote, User.email, User.name)
        .outerjoin(User, User.id == ConversationNote.user_id)
        .where(ConversationNote.tenant_id == conversation.tenant_id,
               ConversationNote.conversation_id == conversation.id)
        .order_by(ConversationNote.id.desc())
        .limit(50)
    ).all()
    escalations = session.scalars(
        select(Escalation)
        .where(Escalation.tenant_id == conversation.tenant_id, Escalation.conversation_id == conversation.id)
        .order_by(Escalation.id.desc())
        .limit(50)
    ).all()
    order = session.scalar(
        select(Order)
        .where(Order.tenant_id == conversation.tenant_id, Order.conversation_id == conversation.id)
        .order_by(Order.id.desc())
        .limit(1)
    )
    canned = session.scalars(
        select(CannedResponse)
        .where(CannedResponse.tenant_id == conversation.tenant_id)
        .order_by(CannedResponse.position, CannedResponse.shortcut)
    ).all()
    manager = role_of(user) in ("owner", "admin", "superadmin")
    return {
        "conversation": {
            "id": conversation.id,
            "customer": display_name(contact),
            "profile_name": contact.name or "",
            "alias": contact.alias or "",
            "phone": contact.phone,
            "wa_link": f"https://wa.me/{contact.phone}",
            "labels": list(contact.labels or []),
            "state": state,
            "state_label": STATE_LABELS.get(state, state),
            "paused_until": local_time(until, tz, now) if state == "paused" else "",
            "assignee_id": conversation.assignee_user_id,
        },
        "messages": history(session, conversation, tz, now),
        "notes": [
            {"id": note.id, "text": note.text, "author": name or email or "—",
             "at": local_time(note.created_at, tz, now), "can_delete": manager or note.user_id == user.id}
            for note, email, name in notes
        ],
        "escalations": [
            {"id": e.id, "reason": e.reason, "detail": e.detail, "opened": local_time(e.opened_at, tz, now),
             "resolved": local_time(e.resolved_at, tz, now) if e.resolved_at else "",
             "resolved_by": _resolved_by(session, e.resolved_by)}
            for e in escalations
        ],
        "order": (
            {"number": order.number, "status": order.status, "status_label": order_status_label(order.status),
             "total": f"{order.total:.2f}",
             "url": f"/admin/orders?{urlencode({'estado': order.status})}#order-{order.id}"}
            if order else None
        ),
        "members": [{"id": m.id, "label": m.name or m.email} for m in tenant_members(session, user)],
        "canned": [{"id": c.id, "shortcut": c.shortcut, "text": c.text} for c in canned],
        "max_attachment_mb": MAX_ATTACHMENT_MB,
    }


def conversation_response(
    request: Request, session: Session, user: PanelUser, conversation: Conversation, filters: InboxFilters,
    *, error: str | None = None, draft: str = "", status_code: int = 200,
) -> Response:
    now = now_utc()
    context = inbox_context(session, user, filters, now) | conversation_context(session, user, conversation, now)
    url = conversation_url(conversation.id, filters)
    context |= {"open_id": conversation.id, "draft": draft, "live_url": url}
    if error:
        context["error"] = error
    response = render(request, "conversation.html", context, status_code=status_code)
    response.headers["HX-Push-Url"] = url  # after a failed POST the address stays the conversation's
    return response


# -- pages -------------------------------------------------------------------------------------------
@router.get("/")
def inbox(request: Request, tenant: str | None = None) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        if tenant:
            chosen = next((t for t in user.tenants if t.slug == tenant), None)
            if chosen is None:
                raise HTTPException(status_code=404, detail="No encontrado")
            request.session["tid"] = chosen.id
            user = load_panel_user(session, request) or user
        context = inbox_context(session, user, filters_of(request.query_params), now_utc())
        return render(request, "inbox.html", context)


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: int) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        conversation = access_conversation(session, user, conversation_id)
        if conversation.unread_count:
            conversation.unread_count = 0
            session.flush()
        return conversation_response(request, session, user, conversation, filters_of(request.query_params))


@router.get("/media/{message_id}")
def media_file(request: Request, message_id: int) -> Response:
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        user = panel_user(session, request)
        message = access_message(session, user, message_id)
        media = dict(message.media or {})
        path = stored_path(state.settings.data_dir, message.tenant_id, str(media.get("path") or ""))
    if path is None:
        raise HTTPException(status_code=404, detail="No encontrado")
    inline = media.get("kind") in INLINE_KINDS
    return FileResponse(
        path,
        media_type=str(media.get("mime_type") or "application/octet-stream"),
        filename=str(media.get("filename") or path.name),
        content_disposition_type="inline" if inline else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )


# -- actions -----------------------------------------------------------------------------------------
def _act(
    request: Request, conversation_id: int, filters_raw: str, action: Any, *, draft: str = ""
) -> Response:
    """Run ``action(runtime, session, user, conversation)``; redirect back, or show its error."""
    state = request.app.state.chasqui
    filters = _filters_from_form(filters_raw)
    with state.runtime.session() as session:
        user = panel_user(session, request)
        conversation = access_conversation(session, user, conversation_id)
        try:
            action(state.runtime, session, user, conversation)
        except (ValueError, AttachmentError) as exc:
            session.rollback()  # validation comes before any write: this only drops reads
            return conversation_response(
                request, session, user, conversation, filters, error=str(exc), draft=draft, status_code=400
            )
    return RedirectResponse(conversation_url(conversation_id, filters), status_code=303)


CSRF = [Depends(require_csrf)]


@router.post("/conversations/{conversation_id}/reply", dependencies=[Depends(limit_request), *CSRF])
def reply(
    request: Request,
    conversation_id: int,
    text: str = Form(""),
    canned_id: str = Form(""),
    attachment: UploadFile | None = File(None),
    filters: str = Form(""),
) -> Response:
    upload: tuple[str, bytes] | None = None
    if attachment is not None and attachment.filename:
        if (attachment.size or 0) > MAX_ATTACHMENT_MB * 1024 * 1024:
            upload = (attachment.filename, b"")  # checked below without reading it
            too_big = True
        else:
            upload, too_big = (attachment.filename, attachment.file.read()), False
    else:
        too_big = False

    def action(runtime: Any, session: Session, user: PanelUser, conversation: Conversation) -> None:
        if too_big:
            raise AttachmentError(f"El archivo pesa más de {MAX_ATTACHMENT_MB} MB: envía uno más liviano.")
        message = text
        if canned_id.strip() and not message.strip():
            if not canned_id.strip().isdigit():
                raise ValueError("Respuesta rápida no válida.")
            message = access_canned(session, user, int(canned_id)).text
        operations.reply(runtime, session, user, conversation, message, now_utc(), attachment=upload)

    return _act(request, conversation_id, filters, action, draft=text)


@router.post("/conversations/{conversation_id}/takeover", dependencies=CSRF)
def take_over(request: Request, conversation_id: int, filters: str = Form("")) -> Response:
    return _act(request, conversation_id, filters,
                lambda runtime, session, user, c: operations.take_over(session, user, c))


@router.post("/conversations/{conversation_id}/release", dependencies=CSRF)
def return_to_bot(request: Request, conversation_id: int, filters: str = Form("")) -> Response:
    return _act(request, conversation_id, filters,
                lambda runtime, session, user, c: operations.return_to_bot(runtime, session, user, c, now_utc()))


@router.post("/conversations/{conversation_id}/alias", dependencies=CSRF)
def set_alias(request: Request, conversation_id: int, alias: str = Form(""), filters: str = Form("")) -> Response:
    return _act(request, conversation_id, filters,
                lambda runtime, session, user, c: operations.set_alias(session, c.contact, alias))


@router.post("/conversations/{conversation_id}/labels", dependencies=CSRF)
def set_labels(request: Request, conversation_id: int, labels: str = Form(""), filters: str = Form("")) -> Response:
    return _act(request, conversation_id, filters,
                lambda runtime, session, user, c: operations.set_labels(session, c.contact, labels))


@router.post("/conversations/{conversation_id}/notes", dependencies=CSRF)
def add_note(request: Request, conversation_id: int, note: str = Form(""), filters: str = Form("")) -> Response:
    return _act(request, conversation_id, filters,
                lambda runtime, session, user, c: operations.add_note(session, user, c, note, now_utc()))


@router.post("/conversations/{conversation_id}/notes/{note_id}/delete", dependencies=CSRF)
def delete_note(request: Request, conversation_id: int, note_id: int, filters: str = Form("")) -> Response:
    def action(runtime: Any, session: Session, user: PanelUser, conversation: Conversation) -> None:
        note = access_note(session, user, note_id)
        if note.conversation_id != conversation.id:
            raise HTTPException(status_code=404, detail="No encontrado")
        if note.user_id != user.id and role_of(user) not in ("owner", "admin", "superadmin"):
            raise HTTPException(status_code=403, detail="Solo quien escribió la nota puede borrarla")
        session.delete(note)

    return _act(request, conversation_id, filters, action)


@router.post("/conversations/{conversation_id}/assign", dependencies=CSRF)
def assign(request: Request, conversation_id: int, user_id: str = Form(""), filters: str = Form("")) -> Response:
    def action(runtime: Any, session: Session, user: PanelUser, conversation: Conversation) -> None:
        if user_id and not user_id.isdigit():
            raise ValueError("Elige a alguien de la lista.")
        member = access_member(session, user, int(user_id)) if user_id else None
        operations.assign(session, user, conversation, member)

    return _act(request, conversation_id, filters, action)
