"""The orders page (every member of the shop): the tenant's orders, newest first, filtered by status
and paged, with each order's lines (variant names, decimal quantities with their unit, line notes),
delivery or pickup (zone, address), payment method, cash change, notes, total, status in Spanish and
the customer's payment voucher; and the staff's payment check: "Verificar pago" / "Rechazar pago".

Who may do what: agents answer the chats where customers say "ya te yapeé", so every role of the
shop (owner, admin, agent; the superadmin inside a tenant) may see the orders and verify or reject a
reported payment, like they may act on conversations. Every action is CSRF-checked, audited
(``order.payment.verify`` / ``order.payment.reject`` with the user) and tells the customer through
the outbox (``chasqui.conversations.payments``). Another tenant's order answers 404; its voucher too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from chasqui.conversations.payments import (
    REJECTABLE,
    VERIFIABLE,
    PaymentActionError,
    reject_payment,
    verify_payment,
)
from chasqui.db.models import Contact, Order
from chasqui.dialogue.composer import fmt_money
from chasqui.domain import TenantSnapshot, as_quantity, format_quantity
from chasqui.tenants.snapshot import load_snapshot
from chasqui.web.admin.common import NOT_FOUND, PanelDenied, PanelForm, admin_access, owned, page, redirect
from chasqui.web.admin.stats import tenant_timezone
from chasqui.web.operator.media import stored_path

router = APIRouter(prefix="/admin/orders")

AREA = "member"  # owner, admin, agent and the superadmin: see the module's docstring
PAGE_SIZE = 25
STATUS_LABELS: dict[str, str] = {
    "pending_payment": "Pendiente de pago",
    "payment_reported": "Pago por verificar",
    "paid": "Pagado",
    "preparing": "En preparación",
    "on_the_way": "En camino",
    "delivered": "Entregado",
    "cancelled": "Cancelado",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    page: int = 1

    def query(self, **changes: Any) -> str:
        values = {"estado": self.status, "pagina": self.page} | changes
        kept = {k: v for k, v in values.items() if v and not (k == "pagina" and v == 1)}
        return urlencode(kept)


def filters_of(estado: str | None, pagina: str | None) -> Filters:
    status = estado if estado in STATUS_LABELS else ""
    try:
        number = max(1, min(int(pagina or 1), 10_000))
    except ValueError:
        number = 1
    return Filters(status, number)


def _line(tenant: TenantSnapshot, item: Any) -> dict[str, Any]:
    product = tenant.product_of(item.sku)
    quantity = as_quantity(item.quantity, measured=bool(product and product.measured))
    unit = product.unit if product and product.measured else ""
    return {
        "name": item.name,
        "sku": item.sku,
        "quantity": format_quantity(quantity) + (f" {unit}" if unit else ""),
        "modifiers": list(item.modifiers or []),
        "notes": item.notes or "",
        "total": fmt_money(tenant, item.line_total),
    }


def _payment_name(tenant: TenantSnapshot, code: str | None) -> str:
    if not code:
        return ""
    return next((m.name for m in tenant.payment_methods if m.code == code), code)


def order_view(tenant: TenantSnapshot, order: Order, contact: Contact | None, tz: Any) -> dict[str, Any]:
    voucher = order.voucher_media or {}
    return {
        "id": order.id,
        "number": order.number,
        "created": order.created_at.replace(tzinfo=order.created_at.tzinfo or UTC).astimezone(tz).strftime(
            "%d/%m/%Y %H:%M"
        ),
        "customer": (contact.alias or contact.name or contact.phone) if contact else "—",
        "phone": contact.phone if contact else "",
        "conversation_id": order.conversation_id,
        "lines": [_line(tenant, item) for item in order.items],
        "pickup": order.fulfillment == "pickup",
        "delivery": order.fulfillment == "delivery",
        "zone": order.zone or "",
        "address": order.delivery_address or "",
        "delivery_fee": fmt_money(tenant, order.delivery_fee) if order.delivery_fee else "",
        "discount": fmt_money(tenant, order.discount) if order.discount else "",
        "payment": _payment_name(tenant, order.payment_method),
        "change_for": fmt_money(tenant, order.change_for) if order.change_for is not None else "",
        "notes": order.notes or "",
        "total": fmt_money(tenant, order.total),
        "status": order.status,
        "status_label": status_label(order.status),
        "voucher": bool(voucher.get("path")),
        "voucher_error": bool(voucher) and not voucher.get("path"),
        "can_verify": order.status in VERIFIABLE,
        "can_reject": order.status in REJECTABLE,
    }


def _orders(session: Session, tenant_id: int, filters: Filters) -> tuple[list[tuple[Order, Contact | None]], int]:
    where = [Order.tenant_id == tenant_id]
    if filters.status:
        where.append(Order.status == filters.status)
    total = int(session.scalar(select(func.count(Order.id)).where(*where)) or 0)
    rows = session.execute(
        select(Order, Contact)
        .outerjoin(Contact, Contact.id == Order.contact_id)
        .where(*where)
        .options(selectinload(Order.items))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset((filters.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return [(order, contact) for order, contact in rows], total


@router.get("")
def orders_list(request: Request, estado: str | None = None, pagina: str | None = None) -> Response:
    filters = filters_of(estado, pagina)
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, AREA)
        tenant = load_snapshot(session, access.tenant_id)
        tz = tenant_timezone(session, access.tenant_id)
        rows, total = _orders(session, access.tenant_id, filters)
        orders = [order_view(tenant, order, contact, tz) for order, contact in rows]
        reported = int(session.scalar(
            select(func.count(Order.id)).where(Order.tenant_id == access.tenant_id, Order.status == "payment_reported")
        ) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "orders": orders,
        "total": total,
        "reported": reported,
        "filters": filters,
        "statuses": list(STATUS_LABELS.items()),
        "pages": pages,
        "prev_url": f"/admin/orders?{filters.query(pagina=filters.page - 1)}" if filters.page > 1 else "",
        "next_url": f"/admin/orders?{filters.query(pagina=filters.page + 1)}" if filters.page < pages else "",
        "back": filters.query(),
    }
    return page(request, "admin/orders.html", access, "orders", context)


def _back_url(form: Any) -> str:
    """The list the action came from (its filter and page), rebuilt from known values only."""
    values = parse_qs(str(form.get("back", ""))[:200])
    filters = filters_of((values.get("estado") or [None])[0], (values.get("pagina") or [None])[0])
    query = filters.query()
    return "/admin/orders" + (f"?{query}" if query else "")


def _payment_action(request: Request, order_id: int, form: Any, action: Any, done: str) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, AREA)
        order = owned(session, Order, order_id, access)
        try:
            result = action(session, order, datetime.now(UTC), user_id=access.user.id, by={"panel": True})
        except PaymentActionError as exc:
            return redirect(request, _back_url(form), str(exc))
        told = " Se avisó al cliente." if result.customer_text else ""
        number = order.number
    return redirect(request, _back_url(form), f"Pedido {number}: {done}.{told}")


@router.post("/{order_id}/verify-payment")
def order_verify_payment(request: Request, order_id: int, form: PanelForm) -> Response:
    return _payment_action(request, order_id, form, verify_payment, "pago verificado")


@router.post("/{order_id}/reject-payment")
def order_reject_payment(request: Request, order_id: int, form: PanelForm) -> Response:
    return _payment_action(request, order_id, form, reject_payment, "pago rechazado, vuelve a pendiente de pago")


@router.get("/{order_id}/voucher")
def order_voucher(request: Request, order_id: int) -> Response:
    """The customer's payment screenshot, only to the order's tenant (404 otherwise)."""
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        access = admin_access(request, session, AREA)
        order = owned(session, Order, order_id, access)
        media = dict(order.voucher_media or {})
        path = stored_path(state.settings.data_dir, order.tenant_id, str(media.get("path") or ""))
    if path is None:
        raise PanelDenied(404, NOT_FOUND)
    return FileResponse(
        path,
        media_type=str(media.get("mime_type") or "application/octet-stream"),
        filename=str(media.get("filename") or path.name),
        content_disposition_type="inline" if str(media.get("mime_type", "")).startswith("image/") else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
