"""Catalog pages (owner/admin): products (CRUD, stock, image URL), promotions, Excel import/export."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from chasqui.db.models import Product, Promotion
from chasqui.tenants.schema import PromotionEntry
from chasqui.web.admin.catalog_excel import CatalogFileError, export_catalog
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
    PRODUCT_LABELS,
    next_position,
    promotion_skus,
    read_product,
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
    context = {"products": products, "q": q, "categoria": categoria, "categories": categories, "tab": "products"}
    return page(request, "admin/catalog_list.html", access, "catalog", context)


def _product_page(
    request: Request,
    access: Access,
    product: Product | None,
    values: dict[str, Any],
    errors: list[str],
    status: int = 200,
) -> Response:
    context = {"product": product, "values": values, "errors": errors, "tab": "products"}
    return page(request, "admin/catalog_product.html", access, "catalog", context, status_code=status)


def _product_values(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": f"{product.price:.2f}",
        "stock": str(product.stock),
        "unit": product.unit,
        "description": product.description,
        "aliases": ", ".join(product.aliases or []),
        "image_url": product.image_url or "",
        "active": product.active,
    }


@router.get("/new")
def product_new(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
    return _product_page(request, access, None, {"active": True, "stock": "0"}, [])


@router.post("/new")
def product_create(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    values = read_product(reader)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        if not reader.errors:
            taken = session.scalar(
                select(Product.id).where(Product.tenant_id == access.tenant_id, Product.sku == values["sku"])
            )
            if taken is not None:
                reader.error(f"SKU: ya existe un producto con el SKU «{values['sku']}».")
        if reader.errors:
            return _product_page(request, access, None, reader.raw, reader.errors, 400)
        position = next_position(session, access.tenant_id)
        session.add(Product(tenant_id=access.tenant_id, position=position, **values))
        audit(session, access, access.tenant_id, "catalog.product.create", sku=values["sku"], name=values["name"])
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
    values = read_product(reader, with_sku=False)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        if reader.errors:
            return _product_page(request, access, product, reader.raw | {"sku": product.sku}, reader.errors, 400)
        changed = assign(product, values)
        if changed:
            audit(session, access, access.tenant_id, "catalog.product.update", sku=product.sku, changes=changed)
        name = product.name
    return redirect(request, "/admin/catalog", f"Producto «{name}» guardado." if changed else "Sin cambios.")


@router.post("/products/{product_id}/stock")
def product_stock(request: Request, product_id: int, form: PanelForm) -> Response:
    reader = FormReader(form)
    stock = reader.integer("stock", "Stock", low=0, high=1_000_000_000)
    with _session(request) as session:
        access = admin_access(request, session, "catalog")
        product = owned(session, Product, product_id, access)
        if reader.errors:
            flash_text = f"{product.name}: " + " ".join(reader.errors)
            return redirect(request, "/admin/catalog", flash_text)
        changed = assign(product, {"stock": stock})
        if changed:
            audit(session, access, access.tenant_id, "catalog.product.stock", sku=product.sku, changes=changed)
        name = product.name
    return redirect(request, "/admin/catalog", f"Stock de «{name}»: {stock}.")


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
    request: Request, access: Access, *, problems: list[str] | None = None, error: str | None = None, status: int = 200
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
        result = upsert_products(session, access.tenant_id, parsed.rows, deactivate_missing=deactivate)
        audit(
            session,
            access,
            access.tenant_id,
            "catalog.import",
            filename=filename,
            created=result.created[:200],
            updated=result.updated[:200],
            deactivated=result.deactivated[:200],
        )
    summary = (
        f"Catálogo importado: {len(result.created)} nuevo(s), {len(result.updated)} actualizado(s), "
        f"{result.unchanged} sin cambios"
    )
    if result.deactivated:
        summary += f", {len(result.deactivated)} desactivado(s)"
    if parsed.ignored_columns:
        summary += f". Columnas ignoradas: {', '.join(parsed.ignored_columns)}"
    return redirect(request, "/admin/catalog", summary + ".")


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
