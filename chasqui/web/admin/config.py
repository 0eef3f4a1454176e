"""Configuration pages (owner/admin): the bot, its reply templates, the business, notifications.

Every save validates the whole form first and writes nothing when anything is wrong; every
change is written to ``audit_log``. The bot reads the tenant from the database for every
message (``Runtime.service``), so a saved change applies from the next customer message on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from chasqui.db.models import (
    BotSettings,
    BusinessSettings,
    DeliveryZone,
    NotificationSettings,
    PaymentMethod,
    ReplyTemplate,
    Tenant,
)
from chasqui.dialogue.placeholders import template_problems
from chasqui.tenants.io import default_templates
from chasqui.tenants.schema import CLOSED, HOURS_RE, WEEKDAYS, FaqEntry, PolicyEntry, fold_name
from chasqui.tenants.snapshot import stored_templates
from chasqui.web.admin.common import (
    Access,
    PanelDenied,
    PanelForm,
    admin_access,
    assign,
    audit,
    owned,
    page,
    redirect,
)
from chasqui.web.admin.forms import FormReader

router = APIRouter(prefix="/admin/config")
SettingsRow = TypeVar("SettingsRow")

DAY_NAMES = {
    "mon": "Lunes",
    "tue": "Martes",
    "wed": "Miércoles",
    "thu": "Jueves",
    "fri": "Viernes",
    "sat": "Sábado",
    "sun": "Domingo",
}
MAX_LONG_TEXT = 2000
MAX_VARIANTS = 20
CURRENCIES = ("PEN", "USD", "EUR", "BOB", "CLP", "COP", "MXN", "ARS")


def _session(request: Request) -> Any:
    return request.app.state.chasqui.runtime.session()


def _settings_row(session: Session, model: type[SettingsRow], tenant_id: int) -> SettingsRow:
    """The tenant's one row of a settings table (bot, business, notifications), created when missing."""
    row = session.scalar(select(model).where(model.tenant_id == tenant_id))  # type: ignore[attr-defined]
    if row is None:
        row = model(tenant_id=tenant_id)
        session.add(row)
        session.flush()
    return row


def _bot(session: Session, tenant_id: int) -> BotSettings:
    return _settings_row(session, BotSettings, tenant_id)


def _business(session: Session, tenant_id: int) -> BusinessSettings:
    return _settings_row(session, BusinessSettings, tenant_id)


def _notifications(session: Session, tenant_id: int) -> NotificationSettings:
    return _settings_row(session, NotificationSettings, tenant_id)


@router.get("")
def config_home(request: Request) -> Response:
    with _session(request) as session:
        admin_access(request, session, "config")
    return redirect(request, "/admin/config/bot")


# ------------------------------------------------------------------ bot


def _bot_form_values(bot: BotSettings, hours: dict[str, str]) -> dict[str, Any]:
    return {
        "name": bot.name,
        "personality": bot.personality,
        "greeting": bot.greeting,
        "prompt": bot.prompt,
        "confidence_threshold": f"{Decimal(bot.confidence_threshold):.2f}",
        "context_messages": str(bot.context_messages),
        "escalation_keywords": "\n".join(bot.escalation_keywords or []),
        "intervention_enabled": bot.intervention_enabled,
        "intervention_timeout_seconds": str(bot.intervention_timeout_seconds),
        "operator_numbers": "\n".join(bot.operator_numbers or []),
        **{f"hours_{day}": "cerrado" if hours.get(day) == CLOSED else hours.get(day, "") for day in WEEKDAYS},
    }


def _bot_page(
    request: Request, access: Access, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    return page(
        request,
        "admin/config_bot.html",
        access,
        "config",
        {"values": values, "errors": errors, "days": DAY_NAMES, "tab": "bot"},
        status_code=status,
    )


@router.get("/bot")
def bot_form(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        values = _bot_form_values(
            _bot(session, access.tenant_id), dict(_business(session, access.tenant_id).hours or {})
        )
    return _bot_page(request, access, values, [])


def read_hours(reader: FormReader) -> dict[str, str]:
    """One value per day: a range "09:00-20:00", split shifts "07:00-13:00, 16:00-20:00", or "cerrado"
    (stored as "closed"); an empty box leaves the day out (closed when other days are listed)."""
    hours: dict[str, str] = {}
    for day in WEEKDAYS:
        field = f"Horario del {DAY_NAMES[day].lower()}"
        span = reader.text(f"hours_{day}", field, max_len=60).replace(" ", "").lower()
        if not span:
            continue
        if span in ("cerrado", CLOSED):
            hours[day] = CLOSED
            continue
        shifts = span.split(",")
        if not all(_shift_ok(shift) for shift in shifts) or not _in_order(shifts):
            reader.error(f"{field}: escribe un rango como 09:00-20:00, turnos partidos como "
                         "07:00-13:00,16:00-20:00 o «cerrado».")
            continue
        hours[day] = ",".join(shifts)
    return hours


def _shift_ok(shift: str) -> bool:
    return bool(HOURS_RE.fullmatch(shift)) and shift.split("-")[0] < shift.split("-")[1]


def _in_order(shifts: list[str]) -> bool:
    """Split shifts come in order and do not overlap."""
    return all(a.split("-")[1] <= b.split("-")[0] for a, b in zip(shifts, shifts[1:], strict=False))


@router.post("/bot")
def bot_save(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    values = {
        "name": reader.text("name", "Nombre del bot", required=True, max_len=100),
        "personality": reader.text("personality", "Personalidad", max_len=MAX_LONG_TEXT),
        "greeting": reader.text("greeting", "Saludo", max_len=MAX_LONG_TEXT),
        "prompt": reader.text("prompt", "Instrucciones extra para el LLM", max_len=MAX_LONG_TEXT),
        "confidence_threshold": reader.decimal(
            "confidence_threshold", "Umbral de confianza", low=Decimal("0"), high=Decimal("1"), places=2
        ),
        "context_messages": reader.integer("context_messages", "Mensajes de contexto", low=0, high=50),
        "escalation_keywords": reader.lines("escalation_keywords", "Palabras de escalación", max_items=100),
        "intervention_enabled": reader.boolean("intervention_enabled"),
        "intervention_timeout_seconds": reader.integer(
            "intervention_timeout_seconds", "Tiempo de intervención (segundos)", low=30, high=600
        ),
        "operator_numbers": reader.phones("operator_numbers", "Números de operadores"),
    }
    hours = read_hours(reader)
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if reader.errors:
            return _bot_page(request, access, reader.raw, reader.errors, 400)
        changed = assign(_bot(session, access.tenant_id), values)
        changed |= assign(_business(session, access.tenant_id), {"hours": hours})
        if changed:
            audit(session, access, access.tenant_id, "config.bot", changes=changed)
    return redirect(request, "/admin/config/bot", "Configuración del bot guardada." if changed else "Sin cambios.")


# ------------------------------------------------------------------ reply templates


def _known_key(session: Session, tenant_id: int, key: str) -> bool:
    if key in default_templates():
        return True
    query = select(func.count(ReplyTemplate.id)).where(ReplyTemplate.tenant_id == tenant_id, ReplyTemplate.key == key)
    return bool(session.scalar(query))


@router.get("/templates")
def templates_list(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        stored = stored_templates(session, access.tenant_id)
    defaults = default_templates()
    keys = sorted(set(defaults) | set(stored))
    # a key the tenant has not stored (imported before the key existed) is answered by the default
    rows = [
        {
            "key": key,
            "variants": stored.get(key) or defaults.get(key, []),
            "customized": key in stored and stored[key] != defaults.get(key, []),
        }
        for key in keys
    ]
    return page(request, "admin/config_templates.html", access, "config", {"rows": rows, "tab": "templates"})


def _template_page(
    request: Request, access: Access, key: str, variants: list[str], errors: list[str], status: int = 200
) -> Response:
    context = {
        "key": key,
        "variants": variants,
        "defaults": default_templates().get(key, []),
        "errors": errors,
        "max_variants": MAX_VARIANTS,
        "tab": "templates",
    }
    return page(request, "admin/config_template_edit.html", access, "config", context, status_code=status)


@router.get("/templates/{key}")
def template_form(request: Request, key: str) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if not _known_key(session, access.tenant_id, key):
            raise PanelDenied(404, "No existe esa plantilla.")
        variants = stored_templates(session, access.tenant_id).get(key) or default_templates().get(key, [])
    return _template_page(request, access, key, variants, [])


def _replace_variants(session: Session, tenant_id: int, key: str, variants: list[str]) -> None:
    session.execute(delete(ReplyTemplate).where(ReplyTemplate.tenant_id == tenant_id, ReplyTemplate.key == key))
    session.flush()
    for number, text in enumerate(variants):
        session.add(ReplyTemplate(tenant_id=tenant_id, key=key, variant=number, text=text))


@router.post("/templates/{key}")
def template_save(request: Request, key: str, form: PanelForm) -> Response:
    reader = FormReader(form)
    variants = reader.texts("variant", "Variantes", max_items=MAX_VARIANTS)
    if not variants and not reader.errors:
        reader.error("Variantes: escribe al menos una variante.")
    for number, text in enumerate(variants, start=1):
        for problem in template_problems(key, text):
            reader.error(f"Variante {number}: {problem}.")
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if not _known_key(session, access.tenant_id, key):
            raise PanelDenied(404, "No existe esa plantilla.")
        if reader.errors:
            return _template_page(request, access, key, reader.raw.get("variant", []), reader.errors, 400)
        before = stored_templates(session, access.tenant_id).get(key, [])
        if before != variants:
            _replace_variants(session, access.tenant_id, key, variants)
            audit(session, access, access.tenant_id, "config.template", key=key, before=before, after=variants)
    return redirect(request, "/admin/config/templates", f"Plantilla «{key}» guardada.")


@router.post("/templates/{key}/reset")
def template_reset(request: Request, key: str, _form: PanelForm) -> Response:
    defaults = default_templates().get(key)
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if not defaults:
            raise PanelDenied(404, "Esa plantilla no tiene textos por defecto.")
        before = stored_templates(session, access.tenant_id).get(key, [])
        _replace_variants(session, access.tenant_id, key, defaults)
        audit(session, access, access.tenant_id, "config.template.reset", key=key, before=before)
    return redirect(request, "/admin/config/templates", f"Plantilla «{key}» restaurada.")


# ------------------------------------------------------------------ business


def _business_values(tenant: Tenant, biz: BusinessSettings) -> dict[str, Any]:
    return {
        "business_name": tenant.name,
        "description": biz.description,
        "address": biz.address,
        "timezone": biz.timezone,
        "currency": biz.currency,
        "currency_symbol": biz.currency_symbol,
        "delivery_enabled": biz.delivery_enabled,
        "pickup_address": biz.pickup_address,
        "free_delivery_over": "" if biz.free_delivery_over is None else f"{biz.free_delivery_over:.2f}",
        "min_order": "" if biz.min_order is None else f"{biz.min_order:.2f}",
        "orders_when_closed": biz.orders_when_closed,
        "haggling": biz.haggling or "",
    }


def _business_page(
    request: Request, session: Session, access: Access, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    tid = access.tenant_id
    context = {
        "values": values,
        "errors": errors,
        "payments": list(
            session.scalars(
                select(PaymentMethod)
                .where(PaymentMethod.tenant_id == tid)
                .order_by(PaymentMethod.position, PaymentMethod.id)
            )
        ),
        "zones": list(
            session.scalars(
                select(DeliveryZone)
                .where(DeliveryZone.tenant_id == tid)
                .order_by(DeliveryZone.position, DeliveryZone.id)
            )
        ),
        "currencies": CURRENCIES,
        "knowledge": _knowledge(_business(session, tid), values),
        "tab": "business",
    }
    return page(request, "admin/config_business.html", access, "config", context, status_code=status)


@router.get("/business")
def business_form(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        tenant = session.get(Tenant, access.tenant_id)
        assert tenant is not None
        values = _business_values(tenant, _business(session, access.tenant_id))
        return _business_page(request, session, access, values, [])


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@router.post("/business")
def business_save(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    name = reader.text("business_name", "Nombre del negocio", required=True, max_len=255)
    values = {
        "description": reader.text("description", "Descripción", max_len=MAX_LONG_TEXT),
        "address": reader.text("address", "Dirección", max_len=500),
        "timezone": reader.text("timezone", "Zona horaria", required=True, max_len=64),
        "currency": reader.choice("currency", "Moneda", CURRENCIES),
        "currency_symbol": reader.text("currency_symbol", "Símbolo de la moneda", required=True, max_len=8),
        "delivery_enabled": reader.boolean("delivery_enabled"),
        "pickup_address": reader.text("pickup_address", "Dirección de recojo", max_len=500),
        "free_delivery_over": reader.decimal("free_delivery_over", "Delivery gratis desde", required=False),
        "min_order": reader.decimal("min_order", "Pedido mínimo para delivery", required=False),
        "orders_when_closed": reader.boolean("orders_when_closed"),
        "haggling": reader.text("haggling", "Regateo", max_len=MAX_LONG_TEXT) or None,
    }
    if values["timezone"] and not _valid_timezone(values["timezone"]):
        reader.error("Zona horaria: no existe (usa por ejemplo America/Lima).")
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if reader.errors:
            return _business_page(request, session, access, reader.raw, reader.errors, 400)
        tenant = session.get(Tenant, access.tenant_id)
        assert tenant is not None
        changed = assign(tenant, {"name": name})
        changed |= assign(_business(session, access.tenant_id), values)
        if changed:
            audit(session, access, access.tenant_id, "config.business", changes=changed)
    return redirect(request, "/admin/config/business", "Datos del negocio guardados." if changed else "Sin cambios.")


# ------------------------------------------------------------------ payment methods and zones


def _read_payment(reader: FormReader) -> dict[str, Any]:
    return {
        "code": reader.code("code", "Código"),
        "name": reader.text("name", "Nombre", required=True, max_len=255),
        "details": reader.text("details", "Datos para pagar", max_len=MAX_LONG_TEXT),
        "enabled": reader.boolean("enabled"),
    }


def _read_zone(reader: FormReader) -> dict[str, Any]:
    return {
        "name": reader.text("name", "Zona", required=True, max_len=255),
        "fee": reader.decimal("fee", "Costo de envío"),
        "eta": reader.text("eta", "Tiempo de entrega", max_len=100),
        "aliases": reader.lines("aliases", "Otros nombres de la zona", max_items=20, max_len=255) or None,
    }


# ------------------------------------------------------------------ policies and FAQ

KNOWLEDGE_KINDS: dict[str, dict[str, Any]] = {
    "policies": {
        "anchor": "politicas", "title": "Políticas", "action": "/admin/config/policies", "column": "policies",
        "keys": ("topic", "text"), "first_label": "Tema", "second_label": "Texto",
        "help": "Cambios, factura, garantía…: el bot las responde con tus palabras cuando se las preguntan.",
        "model": PolicyEntry, "saved": "Políticas guardadas.",
    },
    "faq": {
        "anchor": "preguntas", "title": "Preguntas frecuentes", "action": "/admin/config/faq", "column": "faq",
        "keys": ("q", "a"), "first_label": "Pregunta", "second_label": "Respuesta",
        "help": "Preguntas que te hacen seguido y su respuesta.",
        "model": FaqEntry, "saved": "Preguntas frecuentes guardadas.",
    },
}
MAX_KNOWLEDGE_ROWS = 100


def _knowledge(biz: BusinessSettings, values: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = []
    for name, kind in KNOWLEDGE_KINDS.items():
        first, second = kind["keys"]
        rows = values.get(f"{name}_rows")
        if rows is None:
            stored = getattr(biz, kind["column"]) or []
            rows = [(str(item.get(first, "")), str(item.get(second, ""))) for item in stored]
        kinds.append(kind | {"rows": list(rows) + [("", "")] * 3})
    return kinds


def _save_knowledge(request: Request, form: FormData, name: str) -> Response:
    """Policies (topic, text) or FAQ (q, a): the whole list as typed; an empty row is deleted. Each
    row passes the tenant file's own schema (``PolicyEntry`` / ``FaqEntry``)."""
    kind = KNOWLEDGE_KINDS[name]
    first, second = kind["keys"]
    reader = FormReader(form)
    indexes = sorted({int(m.group(1)) for key in form if (m := re.fullmatch(r"r(\d{1,3})_[ab]", key))})
    rows: list[tuple[str, str]] = []
    items: list[dict[str, str]] = []
    for number, index in enumerate(indexes[:MAX_KNOWLEDGE_ROWS], start=1):
        a = reader.text(f"r{index}_a", f"{kind['first_label']} {number}", max_len=255)
        b = reader.text(f"r{index}_b", f"{kind['second_label']} {number}", max_len=4000)
        if not a and not b:
            continue
        rows.append((a, b))
        if not a or not b:
            missing = kind["first_label"] if not a else kind["second_label"]
            reader.error(f"{kind['title']}, fila {number}: falta «{missing}» (o deja la fila vacía para borrarla).")
            continue
        try:
            items.append(kind["model"].model_validate({first: a, second: b}).model_dump())
        except ValidationError:
            reader.error(f"{kind['title']}, fila {number}: no es válida.")
    folded = [item[first].casefold() for item in items]
    for position, key in enumerate(folded):
        if key in folded[:position]:
            reader.error(f"{kind['title']}: «{items[position][first]}» está repetido.")
    with _session(request) as session:
        access = admin_access(request, session, "config")
        biz = _business(session, access.tenant_id)
        if reader.errors:
            tenant = session.get(Tenant, access.tenant_id)
            assert tenant is not None
            values = _business_values(tenant, biz) | {f"{name}_rows": rows}
            return _business_page(request, session, access, values, reader.errors, 400)
        changed = assign(biz, {kind["column"]: items or None})
        if changed:
            audit(session, access, access.tenant_id, f"config.{name}", count=len(items))
    return redirect(request, f"/admin/config/business#{kind['anchor']}", kind["saved"] if changed else "Sin cambios.")


@router.post("/policies")
def policies_save(request: Request, form: PanelForm) -> Response:
    return _save_knowledge(request, form, "policies")


@router.post("/faq")
def faq_save(request: Request, form: PanelForm) -> Response:
    return _save_knowledge(request, form, "faq")


def _business_error(request: Request, session: Session, access: Access, errors: list[str]) -> Response:
    tenant = session.get(Tenant, access.tenant_id)
    assert tenant is not None
    values = _business_values(tenant, _business(session, access.tenant_id))
    return _business_page(request, session, access, values, errors, 400)


def _next_position(session: Session, model: Any, tenant_id: int) -> int:
    return int(session.scalar(select(func.max(model.position)).where(model.tenant_id == tenant_id)) or 0) + 1


def _duplicate(session: Session, model: Any, tenant_id: int, column: Any, value: str, exclude: int | None) -> bool:
    query = select(model.id).where(model.tenant_id == tenant_id, column == value)
    if exclude is not None:
        query = query.where(model.id != exclude)
    return session.scalar(query) is not None


@dataclass(frozen=True)
class _RowKind:
    """A list of rows edited on the business page (payment methods, delivery zones)."""

    model: Any
    read: Callable[[FormReader], dict[str, Any]]
    key: str  # the column that must be unique per tenant
    taken: str  # error when the key is already used, with {value}
    action: str  # audit action prefix
    anchor: str  # section of the business page
    saved: str
    deleted: str

    def audit_fields(self, values: dict[str, Any]) -> dict[str, Any]:
        fields = {self.key: values[self.key]}
        if "fee" in values:
            fields["fee"] = str(values["fee"])
        return fields


_PAYMENTS = _RowKind(PaymentMethod, _read_payment, "code", "Código: ya existe un medio de pago «{value}».",
                     "config.payment", "pagos", "Medio de pago guardado.", "Medio de pago eliminado.")
_ZONES = _RowKind(DeliveryZone, _read_zone, "name", "Zona: ya existe la zona «{value}».",
                  "config.zone", "zonas", "Zona de delivery guardada.", "Zona de delivery eliminada.")


def _check_zone_names(
    session: Session, tenant_id: int, row_id: int | None, values: dict[str, Any], reader: FormReader
) -> None:
    """A zone's name and aliases may not be another zone's name or alias (the customer's «SMP» must
    name one zone)."""
    others: dict[str, str] = {}
    for zone in session.scalars(select(DeliveryZone).where(DeliveryZone.tenant_id == tenant_id)):
        if zone.id != row_id:
            for word in [zone.name, *(zone.aliases or [])]:
                others.setdefault(fold_name(word), zone.name)
    for alias in values.get("aliases") or []:
        owner = others.get(fold_name(alias))
        if owner is not None:
            reader.error(f"Otros nombres de la zona: «{alias}» ya es un nombre de la zona «{owner}».")


def _save_row(request: Request, form: FormData, kind: _RowKind, row_id: int | None) -> Response:
    """Create (``row_id`` None) or update one payment method / zone of the signed-in tenant."""
    reader = FormReader(form)
    values = kind.read(reader)
    with _session(request) as session:
        access = admin_access(request, session, "config")
        row = owned(session, kind.model, row_id, access) if row_id is not None else None
        key_column = getattr(kind.model, kind.key)
        value = values[kind.key]
        if not reader.errors and _duplicate(session, kind.model, access.tenant_id, key_column, value, row_id):
            reader.error(kind.taken.format(value=value))
        if kind.model is DeliveryZone and not reader.errors:
            _check_zone_names(session, access.tenant_id, row_id, values, reader)
        if reader.errors:
            return _business_error(request, session, access, reader.errors)
        if row is None:
            position = _next_position(session, kind.model, access.tenant_id)
            session.add(kind.model(tenant_id=access.tenant_id, position=position, **values))
            audit(session, access, access.tenant_id, f"{kind.action}.create", **kind.audit_fields(values))
        else:
            changed = assign(row, values)
            if changed:
                audit(session, access, access.tenant_id, f"{kind.action}.update", id=row.id, changes=changed)
    return redirect(request, f"/admin/config/business#{kind.anchor}", kind.saved)


def _delete_row(request: Request, kind: _RowKind, row_id: int) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        row = owned(session, kind.model, row_id, access)
        fields = {kind.key: getattr(row, kind.key), "name": row.name}
        audit(session, access, access.tenant_id, f"{kind.action}.delete", **fields)
        session.delete(row)
    return redirect(request, f"/admin/config/business#{kind.anchor}", kind.deleted)


@router.post("/payments")
def payment_create(request: Request, form: PanelForm) -> Response:
    return _save_row(request, form, _PAYMENTS, None)


@router.post("/payments/{row_id}")
def payment_update(request: Request, row_id: int, form: PanelForm) -> Response:
    return _save_row(request, form, _PAYMENTS, row_id)


@router.post("/payments/{row_id}/delete")
def payment_delete(request: Request, row_id: int, _form: PanelForm) -> Response:
    return _delete_row(request, _PAYMENTS, row_id)


@router.post("/zones")
def zone_create(request: Request, form: PanelForm) -> Response:
    return _save_row(request, form, _ZONES, None)


@router.post("/zones/{row_id}")
def zone_update(request: Request, row_id: int, form: PanelForm) -> Response:
    return _save_row(request, form, _ZONES, row_id)


@router.post("/zones/{row_id}/delete")
def zone_delete(request: Request, row_id: int, _form: PanelForm) -> Response:
    return _delete_row(request, _ZONES, row_id)


# ------------------------------------------------------------------ notifications


def _notifications_page(
    request: Request, access: Access, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    context = {"values": values, "errors": errors, "tab": "notifications"}
    return page(request, "admin/config_notifications.html", access, "config", context, status_code=status)


@router.get("/notifications")
def notifications_form(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "config")
        row = _notifications(session, access.tenant_id)
        values = {
            "notify_sales": row.notify_sales,
            "notify_escalations": row.notify_escalations,
            "numbers": "\n".join(row.numbers or []),
            "template_name": row.template_name,
            "template_language": row.template_language,
        }
    return _notifications_page(request, access, values, [])


@router.post("/notifications")
def notifications_save(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    values = {
        "notify_sales": reader.boolean("notify_sales"),
        "notify_escalations": reader.boolean("notify_escalations"),
        "numbers": reader.phones("numbers", "Números del equipo"),
        "template_name": reader.text("template_name", "Plantilla fuera de las 24 h", max_len=512).lower(),
        "template_language": reader.text("template_language", "Idioma de la plantilla", max_len=16) or "es",
    }
    if not re.fullmatch(r"[a-z0-9_]*", values["template_name"]):
        reader.error("Plantilla fuera de las 24 h: solo minúsculas, números y guion bajo (como en WhatsApp Manager).")
    if not re.fullmatch(r"[A-Za-z_]{2,16}", values["template_language"]):
        reader.error("Idioma de la plantilla: un código como es, es_PE o es_MX.")
    with _session(request) as session:
        access = admin_access(request, session, "config")
        if reader.errors:
            return _notifications_page(request, access, reader.raw, reader.errors, 400)
        changed = assign(_notifications(session, access.tenant_id), values)
        if changed:
            audit(session, access, access.tenant_id, "config.notifications", changes=changed)
    return redirect(request, "/admin/config/notifications", "Notificaciones guardadas." if changed else "Sin cambios.")
