"""Validation of catalog rows (panel form, Excel import, REST API) and their upsert, all-or-nothing.

``read_product(reader)`` turns one row of raw values into the column values of a ``Product``
(or adds Spanish messages to the reader); the result also passes the tenant file's own
``ProductEntry`` schema, so whatever the panel saves can be exported as a tenant file again.

Catalog version 2 (CONTRACT §8): a row also holds ``sold_by``/``min_quantity``/``step``/
``sold_by_amount``, ``modifiers`` and ``variant_options``, and under ``variants`` its variants
(``{sku, options, stock, price, active}``). ``catalog_problems(before, after)`` runs the tenant
file's own cross checks (``chasqui.tenants.schema.cross_check``: a variant without a value for each
option, whole-number stock for unit products, min_quantity/step > 0, SKUs unique across products
and variants, aliases that steal another product's name) over the whole catalog and answers, in
Spanish and naming the field, the problems the change would introduce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import Product, ProductVariant, Promotion
from chasqui.domain import format_quantity
from chasqui.tenants.schema import BusinessSection, ProductEntry, TenantFile, cross_check
from chasqui.web.admin.forms import FormReader
from chasqui.web.admin.forms import _spanish as spanish_message

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
    "sold_by": "Se vende por",
    "min_quantity": "Cantidad mínima",
    "step": "Incremento",
    "sold_by_amount": "Se vende por monto",
    "modifiers": "Modificadores",
    "variant_options": "Opciones de variante",
    "variants": "Variantes",
    "options": "Opciones",
    "name_modifier": "Modificador",
}
SOLD_BY_LABELS = {"unit": "Por unidad", "weight": "Por peso", "length": "Por longitud", "volume": "Por volumen"}
MAX_PRICE = Decimal("9999999999.99")
MAX_STOCK = 1_000_000_000
MAX_QUANTITY = Decimal("999999999.999")
MAX_DESCRIPTION = 2000
MAX_VARIANTS = 200
MAX_OPTIONS = 4
COLUMNS = (
    "sku", "name", "category", "price", "stock", "unit", "description", "aliases", "image_url", "active",
    "sold_by", "min_quantity", "step", "sold_by_amount", "modifiers", "variant_options",
)


# ------------------------------------------------------------------ quantities and modifiers as text


def quantity_text(value: Decimal | None) -> str:
    """``6.000`` → ``6``, ``0.250`` → ``0.25`` (no exponent); None → ``""``."""
    return "" if value is None else format_quantity(Decimal(value))


def modifiers_text(modifiers: list[Any] | None) -> str:
    """``["sin ají", {"name": "extra pescado", "price": "8.00"}]`` → ``sin ají; extra pescado=8.00``."""
    parts: list[str] = []
    for item in modifiers or []:
        if isinstance(item, dict):
            price = item.get("price")
            name = str(item.get("name", ""))
            parts.append(f"{name}={Decimal(str(price)):.2f}" if price is not None else name)
        else:
            parts.append(str(item))
    return "; ".join(parts)


def parse_modifiers(text: str, label: str = "Modificadores") -> tuple[list[Any], list[str]]:
    """``sin ají; extra pescado=8.00`` → ``(["sin ají", {"name": "extra pescado", "price": "8.00"}], [])``;
    the second item lists the Spanish problems."""
    modifiers: list[Any] = []
    problems: list[str] = []
    seen: set[str] = set()
    for raw in re.split(r"[;\n]", text or ""):
        part = raw.strip()
        if not part:
            continue
        name, _, price_text = part.partition("=")
        name = name.strip()
        if not name:
            problems.append(f"{label}: «{part[:30]}» no tiene nombre (escribe «sin ají» o «extra pescado=8.00»).")
            continue
        if len(name) > 100:
            problems.append(f"{label}: «{name[:30]}…» es demasiado largo (máximo 100 caracteres).")
            continue
        if name.lower() in seen:
            problems.append(f"{label}: «{name}» está repetido.")
            continue
        seen.add(name.lower())
        if not price_text.strip():
            modifiers.append(name)
            continue
        price_reader = FormReader({"p": price_text})
        price = price_reader.decimal("p", label, high=MAX_PRICE)
        if price is None:
            problems.append(f"{label}: el precio de «{name}» no es un monto válido (p. ej. «extra pescado=8.00»).")
            continue
        modifiers.append({"name": name, "price": f"{price:.2f}"})
    if len(modifiers) > 50:
        problems.append(f"{label}: como máximo 50 modificadores.")
    return modifiers, problems


# ------------------------------------------------------------------ one row


def read_product(reader: FormReader, *, with_sku: bool = True) -> dict[str, Any]:
    """The product's values from ``reader`` (form fields named as the ``Product`` columns; modifiers
    as text, ``sin ají; extra pescado=8.00``). Variants are read by the caller (``variants`` key)."""
    values: dict[str, Any] = {}
    if with_sku:
        values["sku"] = reader.code("sku", PRODUCT_LABELS["sku"])
    values |= {
        "name": reader.text("name", PRODUCT_LABELS["name"], required=True, max_len=255),
        "category": reader.text("category", PRODUCT_LABELS["category"], max_len=100),
        "price": reader.decimal("price", PRODUCT_LABELS["price"], high=MAX_PRICE),
        "stock": reader.decimal(
            "stock", PRODUCT_LABELS["stock"], high=MAX_QUANTITY, places=3, required=False
        ) or Decimal(0),
        "unit": reader.text("unit", PRODUCT_LABELS["unit"], max_len=100),
        "description": reader.text("description", PRODUCT_LABELS["description"], max_len=MAX_DESCRIPTION),
        "aliases": reader.lines("aliases", PRODUCT_LABELS["aliases"], max_items=50, max_len=100),
        "image_url": reader.url("image_url", PRODUCT_LABELS["image_url"]),
        "active": reader.boolean("active"),
        "sold_by": reader.choice("sold_by", PRODUCT_LABELS["sold_by"], tuple(SOLD_BY_LABELS), required=False)
        or "unit",
        "min_quantity": _positive(reader, "min_quantity"),
        "step": _positive(reader, "step"),
        "sold_by_amount": reader.boolean("sold_by_amount"),
        "variant_options": reader.lines(
            "variant_options", PRODUCT_LABELS["variant_options"], max_items=MAX_OPTIONS, max_len=50
        ),
    }
    modifiers, problems = parse_modifiers(reader.text("modifiers", PRODUCT_LABELS["modifiers"], max_len=5000))
    for problem in problems:
        reader.error(problem)
    values["modifiers"] = modifiers
    return values


def _positive(reader: FormReader, name: str) -> Decimal | None:
    """min_quantity / step: empty is None; 0 and negatives are refused by the catalog checks."""
    return reader.decimal(name, PRODUCT_LABELS[name], low=Decimal("-1"), high=MAX_QUANTITY, places=3, required=False)


def read_variant(reader: FormReader, prefix: str, label: str, options: list[str]) -> dict[str, Any] | None:
    """One variant row of a form: fields ``{prefix}sku``, ``{prefix}opt0``…, ``{prefix}stock``,
    ``{prefix}price``, ``{prefix}active``. An all-empty row is None."""
    texts = [reader.form.get(f"{prefix}{k}") for k in ("sku", "stock", "price")]
    texts += [reader.form.get(f"{prefix}opt{i}") for i in range(MAX_OPTIONS)]
    if not any(isinstance(t, str) and t.strip() for t in texts):
        return None
    sku = reader.code(f"{prefix}sku", f"{label}, SKU")
    values: dict[str, str] = {}
    for index, option in enumerate(options):
        value = reader.text(f"{prefix}opt{index}", f"{label}, {option}", max_len=100)
        if value:
            values[option] = value
    return {
        "sku": sku,
        "options": values,
        "stock": reader.decimal(f"{prefix}stock", f"{label}, stock", high=MAX_QUANTITY, places=3, required=False)
        or Decimal(0),
        "price": reader.decimal(f"{prefix}price", f"{label}, precio", high=MAX_PRICE, required=False),
        "active": reader.boolean(f"{prefix}active"),
    }


# ------------------------------------------------------------------ the tenant file's checks, in Spanish


def entry_of(values: dict[str, Any]) -> dict[str, Any]:
    """A row (or a ``Product``'s values) as the tenant file's ``ProductEntry`` input."""
    entry = {k: values.get(k) for k in COLUMNS if values.get(k) is not None}
    entry["variants"] = [
        {k: v for k, v in variant.items() if k in ("sku", "options", "stock", "price", "active") and v is not None}
        for variant in values.get("variants") or []
    ]
    entry.setdefault("sku", "X")
    entry["aliases"] = list(entry.get("aliases") or [])
    entry["modifiers"] = list(entry.get("modifiers") or [])
    entry["variant_options"] = list(entry.get("variant_options") or [])
    return entry


def product_row(product: Product) -> dict[str, Any]:
    """A stored product as a row (the shape ``read_product`` answers, variants included)."""
    row = {column: getattr(product, column) for column in COLUMNS}
    row["aliases"] = list(product.aliases or [])
    row["modifiers"] = list(product.modifiers or [])
    row["variant_options"] = list(product.variant_options or [])
    row["variants"] = [
        {"sku": v.sku, "options": dict(v.options or {}), "stock": v.stock, "price": v.price, "active": v.active}
        for v in product.variants
    ]
    return row


def schema_problems(values: dict[str, Any]) -> list[str]:
    """The ``ProductEntry`` schema's complaints about one row, in Spanish, naming the field
    (``Variante 2 (ZAP-39), stock: no puede ser negativo.``)."""
    try:
        ProductEntry.model_validate(entry_of(values))
    except ValidationError as exc:
        lines: list[str] = []
        for error in exc.errors(include_url=False):
            loc = list(error["loc"])
            prefix = ""
            if len(loc) >= 2 and loc[0] == "variants" and isinstance(loc[1], int):
                prefix = _variant_label(values, loc[1]) + ", "
                loc = loc[2:]
            names = [str(part) for part in loc if not isinstance(part, int)]
            name = names[-1] if names else ""
            label = PRODUCT_LABELS.get(name, name or "Dato")
            if names[:1] == ["modifiers"]:
                label = PRODUCT_LABELS["modifiers"]
            if prefix:
                label = label.lower()
            message = spanish_message(error)
            if error["type"] == "greater_than_equal" and str((error.get("ctx") or {}).get("ge")) == "0":
                message = "no puede ser negativo"
            line = f"{prefix}{label}: {message}."
            if line not in lines:
                lines.append(line)
        return lines
    return []


def _variant_label(values: dict[str, Any], index: int) -> str:
    variants = values.get("variants") or []
    sku = variants[index].get("sku") if index < len(variants) else ""
    return f"Variante {index + 1}" + (f" ({sku})" if sku else "")


def _tenant(rows: list[dict[str, Any]]) -> TenantFile | None:
    entries = []
    for row in rows:
        try:
            entries.append(ProductEntry.model_validate(entry_of(row)))
        except ValidationError:
            entries.append(None)
    valid = [e for e in entries if e is not None]
    if len(valid) != len(entries):
        return None
    return TenantFile.model_construct(business=BusinessSection(name="x"), catalog=valid, promotions=[])


_PROBLEM = re.compile(r"^catalog\[(\d+)\](?:\.variants\[(\d+)\])?(?:\.([^\[:]+)(?:\[(\d+)\])?)?: (.*)$")


@dataclass(frozen=True)
class CatalogProblem:
    index: int  # the product's position in the rows checked
    variant: int | None  # the variant's position, if the problem is a variant's
    message: str  # Spanish, naming the field


def catalog_problems(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[CatalogProblem]:
    """The tenant file's cross checks over the whole catalog ``after`` a change (rows in the shape of
    ``product_row``), minus the problems the catalog already had ``before`` (a stored catalog that
    predates a check is never blocked by it). Each answered in Spanish, naming the field."""
    tenant_after = _tenant(after)
    if tenant_after is None:
        return []  # rows that fail the schema are reported by schema_problems
    tenant_before = _tenant(before)
    old = set(cross_check(tenant_before)) if tenant_before is not None else set()
    problems: list[CatalogProblem] = []
    for line in cross_check(tenant_after):
        if line in old:
            continue
        problem = _spanish(line, after)
        if problem is not None and problem not in problems:
            problems.append(problem)
    return problems


def _where(path: str, rows: list[dict[str, Any]]) -> str:
    match = re.match(r"catalog\[(\d+)\](?:\.variants\[(\d+)\])?", path)
    if match is None:
        return path
    row = rows[int(match.group(1))]
    if match.group(2) is not None:
        return f"la variante {row['variants'][int(match.group(2))]['sku']} de «{row['name']}»"
    return f"el producto «{row['name']}» ({row['sku']})"


def _of(where: str) -> str:
    return "del " + where[3:] if where.startswith("el ") else "de " + where


def _spanish(line: str, rows: list[dict[str, Any]]) -> CatalogProblem | None:
    match = _PROBLEM.match(line)
    if match is None:
        return None
    index, variant = int(match.group(1)), match.group(2)
    field_name, position, text = match.group(3) or "", match.group(4), match.group(5)
    row = rows[index]
    variant_index = int(variant) if variant is not None else None
    prefix = _variant_label(row, variant_index) + ", " if variant_index is not None else ""
    label = PRODUCT_LABELS.get(field_name, field_name)
    if variant_index is not None and field_name not in ("sku", "stock", ""):
        # an option of the variant (talla, color)
        if text.startswith("required"):
            message = f"{prefix}{field_name}: falta el valor (cada variante necesita uno por opción)."
        else:
            message = f"{prefix}{field_name}: no es una de las opciones de variante."
        return CatalogProblem(index, variant_index, message)
    if text.startswith("duplicate") and field_name == "sku":
        other = re.search(r"\(also (.+)\)$", text)
        where = _where(other.group(1), rows) if other else "otro producto"
        sku = (row["variants"][variant_index]["sku"] if variant_index is not None else row["sku"])
        return CatalogProblem(index, variant_index, f"{prefix}SKU: «{sku}» ya lo usa {where}.")
    if text.startswith("duplicate"):
        return CatalogProblem(index, None, f"{label}: «{position_value(row, field_name, position)}» está repetida.")
    if text.startswith("same options as"):
        other = re.search(r"variants\[(\d+)\]$", text)
        number = int(other.group(1)) + 1 if other else "?"
        message = f"{prefix.rstrip(', ')}: tiene las mismas opciones que la variante {number}."
        return CatalogProblem(index, variant_index, message)
    if field_name == "variants":
        return CatalogProblem(index, None, "Variantes: agrega al menos una variante (hay opciones de variante).")
    if field_name == "variant_options" and position is None:
        return CatalogProblem(
            index, None, "Opciones de variante: escribe las opciones de las variantes (p. ej. talla, color)."
        )
    if field_name == "variant_options":
        option = position_value(row, field_name, position)
        return CatalogProblem(index, None, f"Opciones de variante: «{option}» no la usa ninguna variante.")
    if "more than 0" in text:
        return CatalogProblem(index, None, f"{label}: debe ser mayor que 0.")
    if "whole number" in text:
        field_label = "stock" if variant_index is not None else label
        return CatalogProblem(
            index, variant_index, f"{prefix}{field_label}: debe ser un número entero (se vende por unidad)."
        )
    if field_name == "aliases":
        alias = position_value(row, field_name, position)
        other = re.search(r"is also (catalog\[\d+\])\.(name|aliases)", text)
        where = _where(other.group(1), rows) if other else "otro producto"
        what = "el nombre" if other and other.group(2) == "name" else "un alias"
        return CatalogProblem(index, None, f"Alias: «{alias}» ya es {what} {_of(where)}.")
    return CatalogProblem(index, variant_index, f"{prefix}{label}: {text}.")


def position_value(row: dict[str, Any], field_name: str, position: str | None) -> str:
    items = row.get(field_name) or []
    if position is None or int(position) >= len(items):
        return ""
    return str(items[int(position)])


# ------------------------------------------------------------------ storing


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


def tenant_products(session: Session, tenant_id: int) -> list[Product]:
    query = select(Product).where(Product.tenant_id == tenant_id).order_by(Product.position, Product.id)
    return list(session.scalars(query))


def apply_row(session: Session, product: Product, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the product's columns and sync its variants (by SKU) with ``values``; answers
    ``{field: [old, new]}`` of what changed (variants as a list of SKUs)."""
    changed: dict[str, list[Any]] = {}
    for attr, value in values.items():
        if attr == "variants":
            continue
        old = getattr(product, attr)
        if attr in ("modifiers", "variant_options") and not old and not value:
            continue
        if old != value:
            changed[attr] = [_short(old), _short(value)]
            setattr(product, attr, value)
    if "variants" in values:
        wanted = values["variants"] or []
        current = {v.sku: v for v in product.variants}
        before = [(v.sku, dict(v.options or {}), v.stock, v.price, v.active) for v in product.variants]
        keep: list[ProductVariant] = []
        for position, item in enumerate(wanted):
            variant = current.get(item["sku"])
            if variant is None:
                variant = ProductVariant(tenant_id=product.tenant_id, sku=item["sku"])
            variant.options = dict(item.get("options") or {})
            variant.stock = item.get("stock") or Decimal(0)
            variant.price = item.get("price")
            variant.active = bool(item.get("active", True))
            variant.position = position
            keep.append(variant)
        after = [(v.sku, dict(v.options or {}), v.stock, v.price, v.active) for v in keep]
        if _same(before) != _same(after):
            changed["variants"] = [[a[0] for a in before], [a[0] for a in after]]
            # deleted variants first: a SKU moved between products must not collide in one flush
            removed = [v for v in product.variants if v not in keep]
            for variant in removed:
                product.variants.remove(variant)
            if removed:
                session.flush()
            product.variants[:] = keep
    return changed


def _short(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def _same(variants: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(sku, options, Decimal(stock), price, active) for sku, options, stock, price, active in variants]


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
    existing = {p.sku: p for p in tenant_products(session, tenant_id)}
    position = next_position(session, tenant_id)
    for values in rows:
        product = existing.get(values["sku"])
        if product is None:
            columns = {k: v for k, v in values.items() if k != "variants"}
            product = Product(tenant_id=tenant_id, position=position, **columns)
            session.add(product)
            apply_row(session, product, {"variants": values.get("variants") or []})
            position += 1
            result.created.append(values["sku"])
            continue
        if apply_row(session, product, values):
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
