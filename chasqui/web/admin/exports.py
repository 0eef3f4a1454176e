"""Downloads: one conversation as JSON or CSV (any member of the tenant), orders as CSV (owner/admin).

CSV files are UTF-8 with a BOM (Excel opens the accents right), every field is quoted, and a
formula start (``=``, ``+``, ``-``, ``@``, tab, CR) gets an apostrophe before it both at the start
of a field and after any separator-like character inside it (``;`` ``,`` tab, line breaks, ``|``):
Spanish locales (es-AR/CO/CL/ES) open CSVs with ``;``, so ``"a;=HYPERLINK(..)"`` would become a
second cell that starts with ``=``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chasqui.db.models import Contact, Conversation, Message, Order
from chasqui.domain import format_quantity
from chasqui.web.admin.common import admin_access, owned
from chasqui.web.admin.stats import parse_range, tenant_timezone

router = APIRouter(prefix="/admin")

MAX_EXPORT_MESSAGES = 50_000
MAX_EXPORT_ORDERS = 50_000
MESSAGE_FIELDS = ("id", "at", "direction", "sender", "type", "text", "status", "intent", "confidence", "source")
ORDER_FIELDS = (
    "number",
    "created_at",
    "status",
    "customer",
    "phone",
    "items",
    "subtotal",
    "discount",
    "delivery_fee",
    "total",
    "fulfillment",
    "zone",
    "delivery_address",
    "payment_method",
    "paid_at",
    "cancelled_at",
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


# A formula start at the beginning of the field or after a separator-like character (spaces between
# them allowed): an apostrophe goes in front of it.
_FORMULA_START = re.compile(r"(?:^|(?<=[,;|\t\r\n]))([ ]*)([=+\-@\t\r])")


def safe_cell(value: Any) -> str:
    """The text of a CSV cell that no spreadsheet runs as a formula, whatever its separator."""
    text = "" if value is None else str(value)
    return _FORMULA_START.sub(r"\1'\2", text)


def csv_bytes(header: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(row.get(name)) for name in header])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def conversation_export(session: Session, conversation: Conversation) -> dict[str, Any]:
    contact = session.get(Contact, conversation.contact_id)
    messages = session.scalars(
        select(Message)
        .where(Message.tenant_id == conversation.tenant_id, Message.conversation_id == conversation.id)
        .order_by(Message.id)
        .limit(MAX_EXPORT_MESSAGES)
    )
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "customer": {
            "phone": contact.phone if contact else None,
            "name": contact.name if contact else None,
            "alias": contact.alias if contact else None,
            "labels": list(contact.labels or []) if contact else [],
        },
        "exported_at": datetime.now(UTC).isoformat(),
        "messages": [
            {
                "id": m.id,
                "at": _iso(m.created_at),
                "direction": m.direction,
                "sender": m.sender,
                "type": m.type,
                "text": m.text,
                "media": m.media,
                "status": m.status,
                "intent": m.intent,
                "confidence": m.confidence,
                "source": m.source,
            }
            for m in messages
        ],
    }


@router.get("/conversations/{conversation_id}/export.json")
def export_conversation_json(request: Request, conversation_id: int) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "member")
        conversation = owned(session, Conversation, conversation_id, access)
        data = conversation_export(session, conversation)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    return _download(body, "application/json; charset=utf-8", f"conversacion-{conversation_id}.json")


@router.get("/conversations/{conversation_id}/export.csv")
def export_conversation_csv(request: Request, conversation_id: int) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "member")
        conversation = owned(session, Conversation, conversation_id, access)
        data = conversation_export(session, conversation)
    body = csv_bytes(MESSAGE_FIELDS, data["messages"])
    return _download(body, "text/csv; charset=utf-8", f"conversacion-{conversation_id}.csv")


def _money(value: Decimal | None) -> str:
    return f"{Decimal(value or 0):.2f}"


@router.get("/orders/export.csv")
def export_orders_csv(request: Request, desde: str | None = None, hasta: str | None = None) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "dashboard")
        tz = tenant_timezone(session, access.tenant_id)
        period, _problems = parse_range(desde, hasta, datetime.now(tz).date())
        start, end = period.utc_bounds(tz)
        orders = session.scalars(
            select(Order)
            .where(Order.tenant_id == access.tenant_id, Order.created_at >= start, Order.created_at < end)
            .options(selectinload(Order.items))
            .order_by(Order.created_at, Order.id)
            .limit(MAX_EXPORT_ORDERS)
        ).all()
        contact_ids = {o.contact_id for o in orders if o.contact_id}
        contacts = (
            {
                c.id: c
                for c in session.scalars(
                    select(Contact).where(Contact.tenant_id == access.tenant_id, Contact.id.in_(contact_ids))
                )
            }
            if contact_ids
            else {}
        )
        rows = []
        for order in orders:
            contact = contacts.get(order.contact_id or -1)
            rows.append(
                {
                    "number": order.number,
                    "created_at": _iso(order.created_at),
                    "status": order.status,
                    "customer": (contact.alias or contact.name or "") if contact else "",
                    "phone": contact.phone if contact else "",
                    "items": "; ".join(f"{format_quantity(i.quantity)} x {i.name} ({i.sku})" for i in order.items),
                    "subtotal": _money(order.subtotal),
                    "discount": _money(order.discount),
                    "delivery_fee": _money(order.delivery_fee),
                    "total": _money(order.total),
                    "fulfillment": order.fulfillment or "",
                    "zone": order.zone or "",
                    "delivery_address": order.delivery_address or "",
                    "payment_method": order.payment_method or "",
                    "paid_at": _iso(order.paid_at),
                    "cancelled_at": _iso(order.cancelled_at),
                }
            )
    filename = f"pedidos-{period.start.isoformat()}-a-{period.end.isoformat()}.csv"
    return _download(csv_bytes(ORDER_FIELDS, rows), "text/csv; charset=utf-8", filename)
