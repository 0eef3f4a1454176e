"""Validation of catalog rows (panel form, Excel import, REST API) and their upsert, all-or-nothing.

``read_product(reader)`` turns one row of raw values into the column values of a ``Product``
(or adds Spanish messages to the reader); the result also passes the tenant file's own
``ProductEntry`` schema, so whatever the panel saves can be exported as a tenant file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import Product, Promotion
from chasqui.tenants.schema import ProductEntry
from chasqui.web.admin.forms import FormReader, spanish_problems

PRODUCT_LABELS = {
    "sku": "SKU",
    "name": "Nombre",
    "category": "Categoría",
    "price": "Precio",
    "stock": "Stock",
    "unit": "Unidad",
    "description": "Descripción",
    "aliases": "Alias",
    "image_url": "Imagen (URL)",
    "active": "Activo",
}
MAX_PRICE = Decimal("9999999999.99")
MAX_STOCK = 1_000_000_000
MAX_DESCRIPTION = 2000


def read_product(reader: FormReader, *, with_sku: bool = True) -> dict[str, Any]:
    """The product's values from ``reader`` (form fields named as the ``Product`` columns)."""
    values: dict[str, Any] = {}
    if with_sku:
        values["sku"] = reader.code("sku", PRODUCT_LABELS["sku"])
    values |= {
        "name": reader.text("name", PRODUCT_LABELS["name"], required=True, max_len=255),
        "category": reader.text("category", PRODUCT_LABELS["category"], max_len=100),
        "price": reader.decimal("price", PRODUCT_LABELS["price"], high=MAX_PRICE),
        "stock": reader.integer("stock", PRODUCT_LABELS["stock"], low=0, high=MAX_STOCK, default=0),
        "unit": reader.text("unit", PRODUCT_LABELS["unit"], max_len=100),
        "description": reader.text("description", PRODUCT_LABELS["description"], max_len=MAX_DESCRIPTION),
        "aliases": reader.lines("aliases", PRODUCT_LABELS["aliases"], max_items=50, max_len=100),
        "image_url": reader.url("image_url", PRODUCT_LABELS["image_url"]),
        "active": reader.boolean("active"),
    }
    if not reader.errors:
        entry = {k: v for k, v in values.items() if k != "sku"} | {"sku": values.get("sku") or "X"}
        try:
            ProductEntry.model_validate(entry)
        except ValidationError as exc:
            for problem in spanish_problems(exc, PRODUCT_LABELS):
                reader.error(problem)
    return values


def promotion_skus(session: Session, tenant_id: int) -> dict[str, list[str]]:
    """SKU → codes of the promotions that name it (as ``sku`` or in a bundle)."""
    used: dict[str, list[str]] = {}
    for promo in session.scalars(select(Promotion).where(Promotion.tenant_id == tenant_id)):
        skus = [promo.sku] if promo.sku else []
        skus += [str(s) for s in (promo.rule or {}).get("skus", [])]
        for sku in skus:
            used.setdefault(sku, []).append(promo.code)
    return used


def next_position(session: Session, tenant_id: int) -> int:
    return int(session.scalar(select(func.max(Product.position)).where(Product.tenant_id == tenant_id)) or 0) + 1


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)


def upsert_products(
    session: Session, tenant_id: int, rows: list[dict[str, Any]], *, deactivate_missing: bool = False
) -> ImportResult:
    """Create or update the tenant's products by SKU (rows already validated). Flushes, no commit."""
    result = ImportResult()
    existing = {p.sku: p for p in session.scalars(select(Product).where(Product.tenant_id == tenant_id))}
    position = next_position(session, tenant_id)
    for values in rows:
        product = existing.get(values["sku"])
        if product is None:
            session.add(Product(tenant_id=tenant_id, position=position, **values))
            position += 1
            result.created.append(values["sku"])
            continue
        changed = False
        for attr, value in values.items():
            if getattr(product, attr) != value:
                setattr(product, attr, value)
                changed = True
        if changed:
            result.updated.append(values["sku"])
        else:
            result.unchanged += 1
    if deactivate_missing:
        wanted = {values["sku"] for values in rows}
        for sku, product in existing.items():
            if sku not in wanted and product.active:
                product.active = False
                result.deactivated.append(sku)
    session.flush()
    return result
