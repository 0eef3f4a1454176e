"""Read a tenant from the database into the immutable ``chasqui.domain.TenantSnapshot``.

Read-only; every query is filtered by the tenant's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui import crypto, domain
from chasqui.db.models import (
    BotSettings,
    BusinessSettings,
    DeliveryZone,
    NotificationSettings,
    PaymentMethod,
    Product,
    ProductVariant,
    Promotion,
    ReplyTemplate,
    Tenant,
)
from chasqui.dialogue.flows import parse_flow
from chasqui.tenants.template_defaults import default_templates


class UnknownTenantError(LookupError):
    """No tenant with that slug or id. The message is one line for the user."""

    def __init__(self, key: str | int, known: list[str] | None = None) -> None:
        self.key = key
        message = f"unknown tenant {key!r}"
        if known:
            more = ", ..." if len(known) > 10 else ""
            message += f" (known: {', '.join(known[:10])}{more})"
        elif known is not None:
            message += " (the database has no tenants yet: run `chasqui tenant import FILE`)"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


def get_tenant(session: Session, slug_or_id: str | int) -> Tenant:
    """The tenant with this slug (or numeric id). Raises ``UnknownTenantError``."""
    tenant: Tenant | None = None
    if isinstance(slug_or_id, int) and not isinstance(slug_or_id, bool):
        tenant = session.get(Tenant, slug_or_id)
    else:
        key = str(slug_or_id).strip()
        tenant = session.scalar(select(Tenant).where(Tenant.slug == key))
        if tenant is None and key.isdigit():
            tenant = session.get(Tenant, int(key))
    if tenant is None:
        known = list(session.scalars(select(Tenant.slug).order_by(Tenant.slug).limit(11)))
        raise UnknownTenantError(slug_or_id, known)
    return tenant


def _rows(session: Session, model: Any, tenant_id: int, *order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.tenant_id == tenant_id).order_by(*order)))


def _one(session: Session, model: Any, tenant_id: int) -> Any:
    return session.scalar(select(model).where(model.tenant_id == tenant_id))


def load_snapshot(session: Session, tenant_id_or_slug: str | int) -> domain.TenantSnapshot:
    """Everything the engine needs to know about a tenant, as immutable domain objects."""
    tenant = get_tenant(session, tenant_id_or_slug)
    tid = tenant.id
    variants: dict[int, list[ProductVariant]] = {}
    for variant in _rows(session, ProductVariant, tid, ProductVariant.position, ProductVariant.id):
        variants.setdefault(variant.product_id, []).append(variant)
    return domain.TenantSnapshot(
        id=tid,
        slug=tenant.slug,
        business=_business(tenant, _one(session, BusinessSettings, tid)),
        bot=_bot(_one(session, BotSettings, tid)),
        products=tuple(
            _product(p, variants.get(p.id, ())) for p in _rows(session, Product, tid, Product.position, Product.id)
        ),
        payment_methods=tuple(
            domain.PaymentMethod(code=m.code, name=m.name, details=m.details, enabled=m.enabled)
            for m in _rows(session, PaymentMethod, tid, PaymentMethod.position, PaymentMethod.id)
        ),
        delivery_zones=tuple(
            domain.DeliveryZone(name=z.name, fee=z.fee, eta=z.eta, aliases=tuple(z.aliases or ()))
            for z in _rows(session, DeliveryZone, tid, DeliveryZone.position, DeliveryZone.id)
        ),
        promotions=tuple(
            _promotion(p) for p in _rows(session, Promotion, tid, Promotion.position, Promotion.id)
        ),
        notifications=_notifications(_one(session, NotificationSettings, tid)),
        templates=_templates(session, tid),
    )


def _business(tenant: Tenant, row: BusinessSettings | None) -> domain.Business:
    if row is None:
        return domain.Business(name=tenant.name)
    return domain.Business(
        name=tenant.name,
        description=row.description,
        country=row.country,
        language=row.language,
        timezone=row.timezone,
        currency=row.currency,
        currency_symbol=row.currency_symbol,
        address=row.address,
        hours=dict(row.hours or {}),
        delivery_enabled=row.delivery_enabled,
        pickup_address=row.pickup_address,
        free_delivery_over=row.free_delivery_over,
        min_order=row.min_order,
        orders_when_closed=bool(row.orders_when_closed),
        policies=tuple(
            domain.Policy(topic=str(p.get("topic", "")), text=str(p.get("text", ""))) for p in row.policies or ()
        ),
        haggling=row.haggling or None,
        faq=tuple(domain.Faq(q=str(f.get("q", "")), a=str(f.get("a", ""))) for f in row.faq or ()),
    )


def _bot(row: BotSettings | None) -> domain.BotConfig:
    if row is None:
        return domain.BotConfig()
    return domain.BotConfig(
        name=row.name,
        personality=row.personality,
        greeting=row.greeting,
        mode=row.mode,
        confidence_threshold=Decimal(row.confidence_threshold),
        context_messages=row.context_messages,
        escalation_keywords=tuple(row.escalation_keywords or ()),
        intervention_enabled=row.intervention_enabled,
        intervention_timeout_seconds=row.intervention_timeout_seconds,
        operator_numbers=tuple(row.operator_numbers or ()),
        prompt=row.prompt or "",
        roles=tuple(
            domain.Role(str(r.get("name", "")), tuple(str(k) for k in r.get("keywords") or ())) for r in row.roles or ()
        ),
        flow=parse_flow(row.flows),
    )


def _modifier(value: Any) -> domain.Modifier:
    if isinstance(value, dict):
        price = value.get("price")
        return domain.Modifier(str(value.get("name", "")), Decimal(str(price)) if price is not None else Decimal(0))
    return domain.Modifier(str(value))


def _product(p: Product, variant_rows: Any = ()) -> domain.Product:
    measured = (p.sold_by or "unit") != "unit"
    variants = tuple(
        domain.Variant(
            sku=v.sku,
            options={o: str((v.options or {}).get(o, "")) for o in (p.variant_options or v.options or {})},
            stock=domain.as_quantity(v.stock, measured),
            price=v.price,
            active=v.active,
        )
        for v in variant_rows
    )
    stock = domain.as_quantity(p.stock, measured)
    if variants:  # a product with variants has what its active variants have
        stock = domain.as_quantity(sum((Decimal(v.stock) for v in variants if v.active), Decimal(0)), measured)
    return domain.Product(
        sku=p.sku,
        name=p.name,
        category=p.category,
        price=p.price,
        stock=stock,
        unit=p.unit,
        description=p.description,
        aliases=tuple(p.aliases or ()),
        image_url=p.image_url,
        active=p.active,
        variants=variants,
        variant_options=tuple(p.variant_options or ()),
        sold_by=p.sold_by or "unit",
        min_quantity=p.min_quantity,
        step=p.step,
        sold_by_amount=bool(p.sold_by_amount),
        modifiers=tuple(_modifier(m) for m in p.modifiers or ()),
    )


def _promotion(p: Promotion) -> domain.Promotion:
    return domain.Promotion(
        code=p.code,
        name=p.name,
        description=p.description,
        sku=p.sku,
        rule=dict(p.rule or {}),
        valid_from=p.valid_from,
        valid_to=p.valid_to,
        active=p.active,
    )


def _notifications(row: NotificationSettings | None) -> domain.NotificationConfig:
    if row is None:
        return domain.NotificationConfig()
    return domain.NotificationConfig(
        notify_sales=row.notify_sales,
        notify_escalations=row.notify_escalations,
        numbers=tuple(row.numbers or ()),
        template_name=row.template_name or "",
        template_language=row.template_language or "es",
    )


def stored_templates(session: Session, tenant_id: int) -> dict[str, list[str]]:
    """The tenant's reply templates as stored: ``{key: [variant, ...]}`` in variant order."""
    query = (
        select(ReplyTemplate.key, ReplyTemplate.text)
        .where(ReplyTemplate.tenant_id == tenant_id)
        .order_by(ReplyTemplate.key, ReplyTemplate.variant)
    )
    grouped: dict[str, list[str]] = {}
    for key, text in session.execute(query):
        grouped.setdefault(key, []).append(text)
    return grouped


def _templates(session: Session, tenant_id: int) -> dict[str, tuple[str, ...]]:
    """The tenant's stored templates, and the packaged default for every key it has not stored
    (a tenant imported before that key existed must not answer with an empty text)."""
    merged = {key: tuple(texts) for key, texts in default_templates().items()}
    merged.update((key, tuple(texts)) for key, texts in stored_templates(session, tenant_id).items())
    return merged


def tenant_count(session: Session) -> int:
    """How many tenants the database holds (``make run`` imports the demo when it is 0)."""
    return int(session.scalar(select(func.count()).select_from(Tenant)) or 0)


@dataclass(frozen=True)
class WhatsAppAccount:
    """A tenant's WhatsApp Cloud API credentials, decrypted (never log this)."""

    tenant_id: int
    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str

    def __repr__(self) -> str:
        return f"WhatsAppAccount(tenant_id={self.tenant_id!r}, phone_number_id={self.phone_number_id!r})"


def find_tenant_by_phone_number_id(session: Session, phone_number_id: str) -> Tenant | None:
    """The tenant that owns this WhatsApp phone number id (webhook routing), or None."""
    return session.scalar(select(Tenant).where(Tenant.phone_number_id == str(phone_number_id)))


def whatsapp_account(tenant: Tenant, secret_key: str | None = None) -> WhatsAppAccount | None:
    """The tenant's decrypted WhatsApp credentials; None when it has no WhatsApp number."""
    if not tenant.phone_number_id:
        return None

    def reveal(value: str | None) -> str:
        return crypto.decrypt(value, secret_key) if value else ""

    return WhatsAppAccount(
        tenant_id=tenant.id,
        phone_number_id=tenant.phone_number_id,
        access_token=reveal(tenant.access_token_encrypted),
        app_secret=reveal(tenant.app_secret_encrypted),
        verify_token=reveal(tenant.verify_token_encrypted),
    )
