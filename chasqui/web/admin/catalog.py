"""Catalog pages (owner/admin): products (CRUD, stock, image URL), promotions, Excel import/export."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from chasqui.db.models import AuditLog, Product, Promotion
from chasqui.tenants.schema import PromotionEntry
from chasqui.web.admin.catalog_excel import CatalogFileError, ParsedCatalog, export_catalog
from chasqui.web.admin.catalog_sandbox import parse_isolated
from chasqui.web.admin.common import (
    MAX_UPLOAD_BYTES,
    Access,
    PanelDenied,
    PanelForm,
    admin_access,
    assign,
    audit,
    owned,
    page,
    read_form,
    redirect,
    too_large_message,
)
from chasqui.web.admin.forms import FormReader, spanish_problems
from chasqui.web.admin.products import (
    MAX_OPTIONS,
    MAX_QUANTITY,
    MAX_VARIANTS,
    PRODUCT_LABELS,
    SOLD_BY_LABELS,
    ImportResult,
    apply_row,
    catalog_problems,
    modifiers_text,
    next_position,
    product_row,
    promotion_skus,
    quantity_text,
    read_product,
    read_variant,
    schema_problems,
    upsert_products,
)

router = APIRouter(prefix="/admin/catalog")

RULE_TYPES = {"percent": "Descuento en %", "buy_x_get_y": "Lleva X, paga Y", "bundle": "Combo a precio fijo"}
PROMOTION_LABELS = {
    "code": "Código",
    "name": "Nombre",
    "description": "Descripción",
    "sku": "Producto",
    "skus": "Productos del combo",
    "price": "Precio del combo",
    "percent": "Porcentaje",
    "buy": "Lleva",
    "pay": "Paga",
    "valid_from": "Válida desde",
    "valid_to": "Válida hasta",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _session(request: Request) -> Any:
    return request.app.state.chasqui.runtime.session()


def _products(session: Session, tenant_id: int) -> list[Product]:
    query = select(Product).where(Product.tenant_id == tenant_id).order_by(Product.position, Product.id)
    return list(session.scalars(query))


# ------------------------------------------------------------------ products


@router.get("")
def catalog_list(request: Request, q: str = "", categoria: str = "") -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        query = select(Product).where(Product.tenant_id == access.tenant_id)
        q = q.strip()[:100]
        if q:
            like = f"%{q}%"
            query = query.where(or_(Product.name.ilike(like), Product.sku.ilike(like)))
        if categoria:
            query = query.where(Product.category == categoria[:100])
        products = list(session.scalars(query.order_by(Product.position, Product.id)))
        categories = sorted(
            {c for c in session.scalars(select(Product.category).where(Product.tenant_id == access.tenant_id)) if c}
        )
        context = {
            "products": products, "q": q, "categoria": categoria, "categories": categories, "tab": "products",
            "qty": quantity_text,
            "report": _last_import_report(request, session, access),
        }
        return page(request, "admin/catalog_list.html", access, "catalog", context)


def _product_page(
    request: Request,
    access: Access,
    product: Product | None,
    values: dict[str, Any],
    errors: list[str],
    status: int = 200,
) -> Response:
    options = [o.strip() for o in str(values.get("variant_options") or "").split(",") if o.strip()][:MAX_OPTIONS]
    columns = options + [""] * (max(2, len(options)) - len(options))
    rows = list(values.get("variant_rows") or [])
    rows += [{} for _ in range(3)]  # empty rows to add variants
    context = {
        "product": product,
        "values": values,
        "errors": errors,
        "tab": "products",
        "sold_by_labels": SOLD_BY_LABELS,
        "option_columns": columns,
        "variant_rows": rows,
    }
    return page(request, "admin/catalog_product.html", access, "catalog", context, status_code=status)


def _product_values(product: Product) -> dict[str, Any]:
    options = list(product.variant_options or [])
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": f"{product.price:.2f}",
        "stock": quantity_text(product.stock),
        "unit": product.unit,
        "description": product.description,
        "aliases": ", ".join(product.aliases or []),
        "image_url": product.image_url or "",
        "active": product.active,
        "sold_by": product.sold_by or "unit",
        "min_quantity": quantity_text(product.min_quantity),
        "step": quantity_text(product.step),
        "sold_by_amount": product.sold_by_amount,
        "modifiers": modifiers_text(product.modifiers),
        "variant_options": ", ".join(options),
        "variant_rows": [
            {
                "sku": v.sku,
                "cells": [str((v.options or {}).get(o, "")) for o in options],
                "stock": quantity_text(v.stock),
                "price": f"{v.price:.2f}" if v.price is not None else "",
                "active": v.active,
            }
            for v in product.variants
        ],
    }


def _form_values(reader: FormReader, product: Product | None) -> dict[str, Any]:
    """What was typed, to show the form again with the errors."""
    raw = dict(reader.raw)
    if product is not None:
        raw["sku"] = product.sku
    rows = []
    for index in _variant_indexes(reader.form):
        prefix = f"v{index}_"
        form = reader.form
        rows.append(
            {
                "sku": str(form.get(f"{prefix}sku") or ""),
                "cells": [str(form.get(f"{prefix}opt{i}") or "") for i in range(MAX_OPTIONS)],
                "stock": str(form.get(f"{prefix}stock") or ""),
                "price": str(form.get(f"{prefix}price") or ""),
                "active": bool(form.get(f"{prefix}active")),
                "remove": bool(form.get(f"{prefix}remove")),
            }
        )
    raw["variant_rows"] = [r for r in rows if any(r[k] for k in ("sku", "stock", "price")) or any(r["cells"])]
    raw["active"] = reader.boolean("active")
    raw["sold_by_amount"] = reader.boolean("sold_by_amount")
    return raw


def _variant_indexes(form: FormData) -> list[int]:
    indexes = set()
    for key in form:
        match = re.fullmatch(r"v(\d{1,3})_\w+", key)
        if match:
            indexes.add(int(match.group(1)))
    return sorted(indexes)[:MAX_VARIANTS]


def _read_form_product(reader: FormReader, *, with_sku: bool) -> dict[str, Any]:
    values = read_product(reader, with_sku=with_sku)
    options = values["variant_options"]
    variants = []
    for number, index in enumerate(_variant_indexes(reader.form), start=1):
        prefix = f"v{index}_"
        if reader.boolean(f"{prefix}remove"):
            continue
        variant = read_variant(reader, prefix, f"Variante {number}", options)
        if variant is not None:
            variants.append(variant)
    values["variants"] = variants
    return values


def _check_product(
    reader: FormReader, session: Session, tenant_id: int, product: Product | None, values: dict[str, Any]
) -> None:
    """The tenant file's checks on the whole catalog with this product changed; Spanish errors."""
    if reader.errors:
        return
    products = _products(session, tenant_id)
    before = [product_row(p) for p in products]
    after = [dict(row) for row in before]
    full = values if product is None else values | {"sku": product.sku}
    index = next((i for i, p in enumerate(products) if product is not None and p.id == product.id), None)
    if index is None:
        after.append(full)
    else:
        after[index] = full
    for problem in schema_problems(full):
        reader.error(problem)
    if reader.errors:
        return
    for found in catalog_problems(before, after):
        reader.error(found.message)


@router.get("/new")
def product_new(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
    return _product_page(request, access, None, {"active": True, "stock": "0", "sold_by": "unit"}, [])


@router.post("/new")
def product_create(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    values = _read_form_product(reader, with_sku=True)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        if not reader.errors:
            taken = session.scalar(
                select(Product.id).where(Product.tenant_id == access.tenant_id, Product.sku == values["sku"])
            )
            if taken is not None:
                reader.error(f"SKU: ya existe un producto con el SKU «{values['sku']}».")
        _check_product(reader, session, access.tenant_id, None, values)
        if reader.errors:
            return _product_page(request, access, None, _form_values(reader, None), reader.errors, 400)
        position = next_position(session, access.tenant_id)
        columns = {k: v for k, v in values.items() if k != "variants"}
        product = Product(tenant_id=access.tenant_id, position=position, **columns)
        session.add(product)
        apply_row(session, product, {"variants": values["variants"]})
        audit(
            session, access, access.tenant_id, "catalog.product.create", sku=values["sku"], name=values["name"],
            variants=[v["sku"] for v in values["variants"]][:50],
        )
    return redirect(request, "/admin/catalog", f"Producto «{values['name']}» creado.")


@router.get("/products/{product_id}")
def product_form(request: Request, product_id: int) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        return _product_page(request, access, product, _product_values(product), [])


@router.post("/products/{product_id}")
def product_update(request: Request, product_id: int, form: PanelForm) -> Response:
    reader = FormReader(form)
    values = _read_form_product(reader, with_sku=False)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        _check_product(reader, session, access.tenant_id, product, values)
        if reader.errors:
            return _product_page(request, access, product, _form_values(reader, product), reader.errors, 400)
        changed = apply_row(session, product, values)
        if changed:
            audit(session, access, access.tenant_id, "catalog.product.update", sku=product.sku, changes=changed)
        name = product.name
    return redirect(request, "/admin/catalog", f"Producto «{name}» guardado." if changed else "Sin cambios.")


@router.post("/products/{product_id}/stock")
def product_stock(request: Request, product_id: int, form: PanelForm) -> Response:
    """The quick stock field of the list: whole numbers for products sold by unit, up to 3 decimals
    for measured ones (kg, m, l)."""
    reader = FormReader(form)
    stock = reader.decimal("stock", "Stock", high=MAX_QUANTITY, places=3)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        if stock is not None and product.sold_by == "unit" and stock != stock.to_integral_value():
            reader.error("Stock: debe ser un número entero (se vende por unidad).")
        if reader.errors:
            flash_text = f"{product.name}: " + " ".join(reader.errors)
            return redirect(request, "/admin/catalog", flash_text)
        changed = assign(product, {"stock": stock})
        if changed:
            audit(session, access, access.tenant_id, "catalog.product.stock", sku=product.sku, changes=changed)
        name = product.name
        unit = product.unit if product.sold_by != "unit" else ""
    shown = f"{quantity_text(stock)} {unit}".strip()
    return redirect(request, "/admin/catalog", f"Stock de «{name}»: {shown}.")


@router.post("/products/{product_id}/delete")
def product_delete(request: Request, product_id: int, _form: PanelForm) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        promotions = promotion_skus(session, access.tenant_id).get(product.sku, [])
        if promotions:
            message = (
                f"No se puede eliminar «{product.name}»: está en la promoción {', '.join(promotions)}. "
                "Quítalo de la promoción o desactiva el producto."
            )
            return redirect(request, "/admin/catalog", message)
        audit(session, access, access.tenant_id, "catalog.product.delete", sku=product.sku, name=product.name)
        name = product.name
        session.delete(product)
    return redirect(request, "/admin/catalog", f"Producto «{name}» eliminado.")


# ------------------------------------------------------------------ Excel


@router.get("/export.xlsx")
def catalog_export(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        data = export_catalog(_products(session, access.tenant_id))
        slug = next((t.slug for t in access.user.tenants if t.id == access.tenant_id), "catalogo")
    filename = f"catalogo-{slug}-{datetime.now(UTC):%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _import_page(
    request: Request,
    access: Access,
    *,
    problems: list[str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "problems": problems or [],
        "import_error": error,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "tab": "import",
    }
    return page(request, "admin/catalog_import.html", access, "catalog", context, status_code=status)


@router.get("/import")
def catalog_import_form(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
    return _import_page(request, access)


def _last_import_report(request: Request, session: Session, access: Access) -> list[Any]:
    """The row-by-row report of the import just made (shown once, after its redirect)."""
    report_id = request.session.pop("import_report", None)
    if not isinstance(report_id, int) or not 0 < report_id < 2**31:
        return []
    entry = session.get(AuditLog, report_id)
    if entry is None or entry.tenant_id != access.tenant_id or entry.action != "catalog.import":
        return []
    return list((entry.detail or {}).get("report") or [])


Upload = tuple[bytes | None, str, bool, str | None]


async def _read_upload(request: Request) -> Upload:
    """(file bytes, file name, deactivate-missing flag, error) of the import form."""
    try:
        form = await read_form(request, max_bytes=MAX_UPLOAD_BYTES + 64 * 1024, files=1)
    except PanelDenied as exc:
        if exc.status == 413:
            return None, "", False, too_large_message(MAX_UPLOAD_BYTES)
        raise
    upload = form.get("file")
    deactivate = str(form.get("deactivate_missing", "")) in ("on", "1", "true")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, "", deactivate, "Elige un archivo Excel (.xlsx) para importar."
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        return None, upload.filename, deactivate, too_large_message(MAX_UPLOAD_BYTES)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return None, upload.filename, deactivate, too_large_message(MAX_UPLOAD_BYTES)
    if not data:
        return None, upload.filename, deactivate, "El archivo está vacío."
    return data, upload.filename[:200], deactivate, None


@router.post("/import")
def catalog_import(request: Request, upload: Annotated[Upload, Depends(_read_upload)]) -> Response:
    """Plain ``def``: FastAPI runs it in a worker thread, and the file is parsed in a child process
    (``parse_isolated``), so neither the parse nor the DB work ever blocks the event loop."""
    data, filename, deactivate, error = upload
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        if error is not None or data is None:
            status = 413 if error and "demasiado grande" in error else 400
            return _import_page(request, access, error=error, status=status)
        try:
            parsed = parse_isolated(data)
        except CatalogFileError as exc:
            return _import_page(request, access, error=str(exc), status=400)
        if parsed.problems:
            message = (
                f"No se importó nada: el archivo tiene {len(parsed.problems)} problema(s). "
                "Corrígelos y vuelve a subirlo."
            )
            return _import_page(request, access, problems=parsed.problems, error=message, status=400)
        if not parsed.rows:
            return _import_page(request, access, error="El archivo no tiene productos.", status=400)
        problems = _import_problems(session, access.tenant_id, parsed)
        if problems:
            message = (
                f"No se importó nada: el archivo tiene {len(problems)} problema(s). Corrígelos y vuelve a subirlo."
            )
            return _import_page(request, access, problems=problems, error=message, status=400)
        existing = {p.sku for p in _products(session, access.tenant_id)}
        result = upsert_products(session, access.tenant_id, parsed.rows, deactivate_missing=deactivate)
        report = _import_report(parsed, existing, result)
        entry = AuditLog(
            tenant_id=access.tenant_id,
            user_id=access.user.id,
            action="catalog.import",
            detail={
                "filename": filename,
                "created": result.created[:200],
                "updated": result.updated[:200],
                "deactivated": result.deactivated[:200],
                "report": report[:1000],
            },
        )
        session.add(entry)
        session.flush()
        report_id = entry.id
    summary = (
        f"Catálogo importado: {len(result.created)} nuevo(s), {len(result.updated)} actualizado(s), "
        f"{result.unchanged} sin cambios"
    )
    if result.deactivated:
        summary += f", {len(result.deactivated)} desactivado(s)"
    if parsed.ignored_columns:
        summary += f". Columnas ignoradas: {', '.join(parsed.ignored_columns)}"
    request.session["import_report"] = report_id  # the list shows the row-by-row report once
    return redirect(request, "/admin/catalog", summary + ".")


def _import_problems(session: Session, tenant_id: int, parsed: ParsedCatalog) -> list[str]:
    """The tenant file's cross checks over the catalog as it would be after the import, each named
    by the row of the file it comes from (or by the stored product it collides with)."""
    products = _products(session, tenant_id)
    before = [product_row(p) for p in products]
    after = [dict(row) for row in before]
    index_of = {row["sku"]: i for i, row in enumerate(before)}
    lines: dict[int, tuple[int, list[int]]] = {}
    for values, line, variant_lines in zip(parsed.rows, parsed.lines, parsed.variant_lines, strict=True):
        index = index_of.get(values["sku"])
        if index is None:
            index = len(after)
            after.append(values)
        else:
            after[index] = values
        lines[index] = (line, variant_lines)
    problems: list[str] = []
    for problem in catalog_problems(before, after):
        if problem.index not in lines:
            row = after[problem.index]
            problems.append(f"Producto «{row['name']}» ({row['sku']}, ya guardado): {problem.message}")
            continue
        line, variant_lines = lines[problem.index]
        if problem.variant is not None and problem.variant < len(variant_lines):
            line = variant_lines[problem.variant]
        problems.append(f"Fila {line}: {problem.message}")
    return problems


def _import_report(parsed: ParsedCatalog, existing: set[str], result: ImportResult) -> list[list[Any]]:
    """[row, SKU, what happened] for every row of the file."""
    updated = set(result.updated)
    report: list[list[Any]] = []
    for values, line, variant_lines in zip(parsed.rows, parsed.lines, parsed.variant_lines, strict=True):
        sku = values["sku"]
        what = "creado" if sku not in existing else ("actualizado" if sku in updated else "sin cambios")
        report.append([line, sku, what])
        for variant_line, variant in zip(variant_lines, values.get("variants") or [], strict=False):
            report.append([variant_line, f"{sku} / {variant['sku']}", what])
    return sorted(report)


# ------------------------------------------------------------------ promotions


@router.get("/promotions")
def promotions_list(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        query = (
            select(Promotion).where(Promotion.tenant_id == access.tenant_id).order_by(Promotion.position, Promotion.id)
        )
        promotions = list(session.scalars(query))
        names = {p.sku: p.name for p in _products(session, access.tenant_id)}
        context = {"promotions": promotions, "names": names, "rule_types": RULE_TYPES, "tab": "promotions"}
        return page(request, "admin/catalog_promotions.html", access, "catalog", context)


def _promotion_values(promo: Promotion) -> dict[str, Any]:
    rule = dict(promo.rule or {})
    return {
        "code": promo.code,
        "name": promo.name,
        "description": promo.description,
        "sku": promo.sku or "",
        "rule_type": rule.get("type", "percent"),
        "percent": str(rule.get("percent", "")),
        "buy": str(rule.get("buy", "")),
        "pay": str(rule.get("pay", "")),
        "bundle_skus": ", ".join(rule.get("skus", [])),
        "bundle_price": str(rule.get("price", "")),
        "valid_from": promo.valid_from.isoformat() if promo.valid_from else "",
        "valid_to": promo.valid_to.isoformat() if promo.valid_to else "",
        "active": promo.active,
    }


def _promotion_page(
    request: Request,
    session: Session,
    access: Access,
    promo: Promotion | None,
    values: dict[str, Any],
    errors: list[str],
    status: int = 200,
) -> Response:
    context = {
        "promotion": promo,
        "values": values,
        "errors": errors,
        "rule_types": RULE_TYPES,
        "products": _products(session, access.tenant_id),
        "tab": "promotions",
    }
    return page(request, "admin/catalog_promotion.html", access, "catalog", context, status_code=status)


def _read_rule(reader: FormReader, rule_type: str | None) -> dict[str, Any] | None:
    if rule_type == "percent":
        percent = reader.decimal("percent", "Porcentaje", low=Decimal("0.01"), high=Decimal("100"))
        return None if percent is None else {"type": "percent", "percent": str(percent)}
    if rule_type == "buy_x_get_y":
        buy = reader.integer("buy", "Lleva", low=2, high=1000)
        pay = reader.integer("pay", "Paga", low=0, high=999)
        if buy is not None and pay is not None and pay >= buy:
            reader.error("Paga: debe ser menor que «Lleva».")
        return None if buy is None or pay is None else {"type": "buy_x_get_y", "buy": buy, "pay": pay}
    if rule_type == "bundle":
        skus = reader.lines("bundle_skus", "Productos del combo", max_items=20, max_len=64)
        price = reader.decimal("bundle_price", "Precio del combo")
        if len(skus) < 2:
            reader.error("Productos del combo: escribe al menos 2 SKU.")
        return None if price is None else {"type": "bundle", "skus": skus, "price": str(price)}
    return None


def read_promotion(reader: FormReader, known_skus: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": reader.code("code", "Código"),
        "name": reader.text("name", "Nombre", required=True, max_len=255),
        "description": reader.text("description", "Descripción", max_len=2000),
        "sku": reader.text("sku", "Producto", max_len=64) or None,
        "valid_from": reader.day("valid_from", "Válida desde"),
        "valid_to": reader.day("valid_to", "Válida hasta"),
        "active": reader.boolean("active"),
    }
    rule_type = reader.choice("rule_type", "Tipo de promoción", tuple(RULE_TYPES))
    rule = _read_rule(reader, rule_type)
    if values["sku"] and values["sku"] not in known_skus:
        reader.error(f"Producto: «{values['sku']}» no está en el catálogo.")
    if rule_type == "buy_x_get_y" and not values["sku"]:
        reader.error("Producto: elige el producto de la promoción «lleva X, paga Y».")
    for sku in (rule or {}).get("skus", []):
        if sku not in known_skus:
            reader.error(f"Productos del combo: «{sku}» no está en el catálogo.")
    if values["valid_from"] and values["valid_to"] and values["valid_from"] > values["valid_to"]:
        reader.error("Válida hasta: debe ser igual o posterior a «Válida desde».")
    if not reader.errors and rule is not None:
        try:
            entry = PromotionEntry.model_validate(values | {"rule": rule})
            rule = entry.rule.model_dump(mode="json")
        except ValidationError as exc:
            for problem in spanish_problems(exc, PROMOTION_LABELS):
                reader.error(problem)
    values["rule"] = rule or {}
    return values


@router.get("/promotions/new")
def promotion_new(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        return _promotion_page(request, session, access, None, {"active": True, "rule_type": "percent"}, [])


@router.get("/promotions/{promotion_id}")
def promotion_form(request: Request, promotion_id: int) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        promo = owned(session, Promotion, promotion_id, access)
        return _promotion_page(request, session, access, promo, _promotion_values(promo), [])


@router.post("/promotions/new")
def promotion_create(request: Request, form: PanelForm) -> Response:
    return _save_promotion(request, form, None)


@router.post("/promotions/{promotion_id}")
def promotion_update(request: Request, promotion_id: int, form: PanelForm) -> Response:
    return _save_promotion(request, form, promotion_id)


def _save_promotion(request: Request, form: FormData, promotion_id: int | None) -> Response:
    reader = FormReader(form)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        promo = owned(session, Promotion, promotion_id, access) if promotion_id is not None else None
        known = {p.sku for p in _products(session, access.tenant_id)}
        values = read_promotion(reader, known)
        if not reader.errors:
            query = select(Promotion.id).where(
                Promotion.tenant_id == access.tenant_id, Promotion.code == values["code"]
            )
            if promo is not None:
                query = query.where(Promotion.id != promo.id)
            if session.scalar(query) is not None:
                reader.error(f"Código: ya existe una promoción «{values['code']}».")
        if reader.errors:
            return _promotion_page(request, session, access, promo, reader.raw, reader.errors, 400)
        if promo is None:
            position = (
                int(
                    max(
                        (
                            p.position
                            for p in session.scalars(select(Promotion).where(Promotion.tenant_id == access.tenant_id))
                        ),
                        default=0,
                    )
                )
                + 1
            )
            session.add(Promotion(tenant_id=access.tenant_id, position=position, **values))
            audit(
                session, access, access.tenant_id, "catalog.promotion.create", code=values["code"], rule=values["rule"]
            )
        else:
            changed = assign(promo, values)
            if changed:
                audit(session, access, access.tenant_id, "catalog.promotion.update", code=promo.code, changes=changed)
    return redirect(request, "/admin/catalog/promotions", f"Promoción «{values['name']}» guardada.")


@router.post("/promotions/{promotion_id}/delete")
def promotion_delete(request: Request, promotion_id: int, _form: PanelForm) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        promo = owned(session, Promotion, promotion_id, access)
        audit(session, access, access.tenant_id, "catalog.promotion.delete", code=promo.code, name=promo.name)
        session.delete(promo)
    return redirect(request, "/admin/catalog/promotions", "Promoción eliminada.")


__all__ = ["PRODUCT_LABELS", "router"]
