"""Catalog: product CRUD and stock, promotions, Excel export/import (all-or-nothing, row report)."""

from __future__ import annotations

import io
from decimal import Decimal

from fakes.admin_panel import audit_count, flash_follow
from fakes.webapp import runtime_of
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from chasqui.db.models import Product, Promotion, Tenant

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEW_PRODUCT = {
    "sku": "ALF-MAIC",
    "name": "Alfajor de maicena",
    "category": "Galletas",
    "price": "2.50",
    "stock": "40",
    "unit": "unidad",
    "description": "Con manjar blanco",
    "aliases": "alfajorcito, alfajor con manjar",
    "image_url": "https://example.com/alfajor.jpg",
    "active": "on",
}


def _products(client, slug: str = "dulce-lima") -> dict[str, Product]:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        return {p.sku: p for p in session.scalars(select(Product).where(Product.tenant_id == tenant.id))}


def _snapshot_skus(client) -> dict[str, object]:
    runtime = runtime_of(client)
    with runtime.session() as session:
        return {p.sku: p for p in runtime.snapshot(session, "dulce-lima").products}


def test_product_create_edit_stock_and_delete(client, login_as) -> None:
    owner = login_as("owner")
    page = flash_follow(owner, owner.post("/admin/catalog/new", NEW_PRODUCT))
    assert "Producto «Alfajor de maicena» creado." in page and "ALF-MAIC" in page
    product = _products(client)["ALF-MAIC"]
    assert product.price == Decimal("2.50") and product.aliases == ["alfajorcito", "alfajor con manjar"]
    assert _snapshot_skus(client)["ALF-MAIC"].stock == 40  # the bot knows it at once

    duplicate = owner.post("/admin/catalog/new", NEW_PRODUCT)
    assert duplicate.status_code == 400 and "ya existe un producto con el SKU «ALF-MAIC»" in duplicate.text

    edited = NEW_PRODUCT | {"price": "3", "image_url": "https://example.com/alfajor-2.jpg"}
    assert owner.post(f"/admin/catalog/products/{product.id}", edited).status_code == 303
    assert _products(client)["ALF-MAIC"].price == Decimal("3.00")
    assert "alfajor-2.jpg" in owner.get(f"/admin/catalog/products/{product.id}").text

    assert owner.post(f"/admin/catalog/products/{product.id}/stock", {"stock": "0"}).status_code == 303
    assert _snapshot_skus(client)["ALF-MAIC"].stock == 0
    bad_stock = flash_follow(owner, owner.post(f"/admin/catalog/products/{product.id}/stock", {"stock": "-3"}))
    assert "Stock: debe estar entre 0" in bad_stock and _products(client)["ALF-MAIC"].stock == 0

    assert owner.post(f"/admin/catalog/products/{product.id}/delete").status_code == 303
    assert "ALF-MAIC" not in _products(client)
    assert audit_count(client, "catalog.product.create") == 1 and audit_count(client, "catalog.product.delete") == 1


def test_bad_product_input_is_reported_and_nothing_is_saved(client, login_as) -> None:
    owner = login_as("admin")
    before = len(_products(client))
    bad = NEW_PRODUCT | {
        "sku": "con espacios",
        "name": "",
        "price": "-5",
        "stock": "tres",
        "image_url": "javascript:alert(1)",
        "category": "c" * 101,
    }
    response = owner.post("/admin/catalog/new", bad)
    assert response.status_code == 400
    for message in (
        "SKU: usa solo letras, números",
        "Nombre: es obligatorio.",
        "Precio: debe estar entre 0",
        "Stock: no es un número válido",
        "Imagen (URL): debe ser una dirección web completa",
        "Categoría: es demasiado largo (máximo 100 caracteres).",
    ):
        assert message in response.text, message
    assert owner.post("/admin/catalog/new", NEW_PRODUCT | {"price": "abc"}).status_code == 400
    assert owner.post("/admin/catalog/new", NEW_PRODUCT | {"price": "1.234"}).status_code == 400
    assert len(_products(client)) == before


def _sheet(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header if header is not None else ["sku", "nombre", "categoria", "precio", "stock", "activo"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(owner, data: bytes, name: str = "catalogo.xlsx", **form: str):
    return owner.post("/admin/catalog/import", form, files={"file": (name, data, XLSX)})


def test_excel_export_then_import_updates_and_creates_products(client, login_as) -> None:
    owner = login_as("owner")
    assert owner.post("/admin/catalog/new", NEW_PRODUCT | {"sku": "FORMULA", "name": "=1+1"}).status_code == 303
    exported = owner.get("/admin/catalog/export.xlsx")
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["sku", "nombre", "categoria", "precio"]
    products = _products(client)
    assert sheet.max_row - 1 == len(products)

    formula_row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "FORMULA")
    assert formula_row[1].value == "=1+1" and formula_row[1].data_type == "s"  # text, never a formula

    first_sku = sheet.cell(row=2, column=1).value
    sheet.cell(row=2, column=4).value = 99.9  # a float, as Excel stores it
    sheet.append(["CHICHA-1L", "Chicha morada 1 L", "Bebidas", 12, 30, "Chicha", "", "chicha grande", "", "sí"])
    buffer = io.BytesIO()
    book.save(buffer)

    page = flash_follow(owner, _upload(owner, buffer.getvalue()))
    assert "Catálogo importado: 1 nuevo(s), 1 actualizado(s)" in page
    after = _products(client)
    assert after[first_sku].price == Decimal("99.90")
    assert after["CHICHA-1L"].stock == 30 and after["CHICHA-1L"].aliases == ["chicha grande"]
    assert _snapshot_skus(client)["CHICHA-1L"].price == Decimal("12.00")
    assert audit_count(client, "catalog.import") == 1


def test_an_excel_with_bad_rows_reports_each_row_and_changes_nothing(client, login_as) -> None:
    owner = login_as("owner")
    before = {sku: (p.price, p.stock) for sku, p in _products(client).items()}
    some_sku = next(iter(before))
    data = _sheet(
        [
            [some_sku, "Cambio válido", "Tortas", 1, 5, "sí"],  # valid, but must not be applied
            ["NUEVO-1", "Producto nuevo", "Tortas", 10, 1, "sí"],
            ["NUEVO-2", "", "Tortas", "diez", -1, "quizás"],
            ["NUEVO-1", "Repetido", "Tortas", 3, 1, "no"],
        ]
    )
    response = _upload(owner, data)
    assert response.status_code == 400
    text = response.text
    assert "No se importó nada" in text
    for message in (
        "Fila 4: Nombre: es obligatorio.",
        "Fila 4: Precio: no es un número válido",
        "Fila 4: Stock: debe estar entre 0",
        "Fila 4: Activo: escribe «sí» o «no».",
        "Fila 5: SKU: «NUEVO-1» está repetido (también en la fila 3).",
    ):
        assert message in text, message
    assert {sku: (p.price, p.stock) for sku, p in _products(client).items()} == before
    assert audit_count(client, "catalog.import") == 0


def test_malformed_missing_columns_empty_and_oversized_files_are_refused(client, login_as) -> None:
    owner = login_as("owner")
    count = len(_products(client))
    not_excel = _upload(owner, b"esto no es un excel", name="catalogo.xlsx")
    assert not_excel.status_code == 400 and "no es un Excel válido (.xlsx)" in not_excel.text
    truncated = _upload(owner, _sheet([["A", "B", "", 1, 1, "sí"]])[:300])
    assert truncated.status_code == 400 and "no es un Excel válido" in truncated.text
    no_price = _upload(owner, _sheet([["X-1", "Algo"]], header=["sku", "nombre"]))
    assert no_price.status_code == 400 and "Faltan columnas obligatorias en la primera fila: precio" in no_price.text
    empty = _upload(owner, _sheet([], header=[]))
    assert empty.status_code == 400 and "El archivo está vacío" in empty.text
    only_header = _upload(owner, _sheet([]))
    assert only_header.status_code == 400 and "El archivo no tiene productos." in only_header.text
    no_file = owner.post("/admin/catalog/import", {}, files={"file": ("", b"", XLSX)})
    assert no_file.status_code == 400 and "Elige un archivo Excel" in no_file.text

    huge = _upload(owner, b"0" * (20 * 1024 * 1024))
    assert huge.status_code == 413 and "demasiado grande: el máximo es 5 MB" in huge.text
    assert len(_products(client)) == count


def test_promotions_create_validate_and_block_deleting_their_product(client, login_as) -> None:
    owner = login_as("owner")
    products = _products(client)
    sku = next(iter(products))
    promo = {
        "code": "PROMO-2X1",
        "name": "2x1 de lunes",
        "description": "Lleva 2 y paga 1",
        "rule_type": "buy_x_get_y",
        "buy": "2",
        "pay": "1",
        "sku": sku,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "active": "on",
    }
    assert owner.post("/admin/catalog/promotions/new", promo).status_code == 303
    with runtime_of(client).session() as session:
        row = session.scalar(select(Promotion).where(Promotion.code == "PROMO-2X1"))
        assert row.rule == {"type": "buy_x_get_y", "buy": 2, "pay": 1}
    runtime = runtime_of(client)
    with runtime.session() as session:
        assert any(p.code == "PROMO-2X1" for p in runtime.snapshot(session, "dulce-lima").promotions)

    bad = owner.post(
        "/admin/catalog/promotions/new",
        promo | {"code": "MALA", "pay": "2", "sku": "NO-EXISTE", "valid_from": "2026-12-31", "valid_to": "2026-01-01"},
    )
    assert bad.status_code == 400
    for message in (
        "Paga: debe ser menor que «Lleva».",
        "«NO-EXISTE» no está en el catálogo",
        "Válida hasta: debe ser igual o posterior",
    ):
        assert message in bad.text, message
    bundle = promo | {"code": "COMBO", "rule_type": "bundle", "bundle_skus": f"{sku}, OTRO", "bundle_price": "10"}
    assert "«OTRO» no está en el catálogo" in owner.post("/admin/catalog/promotions/new", bundle).text
    with runtime_of(client).session() as session:
        assert session.scalar(select(func.count(Promotion.id)).where(Promotion.code.in_(["MALA", "COMBO"]))) == 0

    blocked = flash_follow(owner, owner.post(f"/admin/catalog/products/{products[sku].id}/delete"))
    assert "está en la promoción PROMO-2X1" in blocked and sku in _products(client)
    with runtime_of(client).session() as session:
        promo_id = session.scalar(select(Promotion.id).where(Promotion.code == "PROMO-2X1"))
    assert owner.post(f"/admin/catalog/promotions/{promo_id}/delete").status_code == 303
