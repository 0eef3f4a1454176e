"""Catalog version 2 in the panel: variants, weights and modifiers through the product form."""

from __future__ import annotations

from decimal import Decimal

from fakes.admin_panel import flash_follow
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import Product, Tenant

SHOE = {
    "sku": "ZAP-RUN",
    "name": "Zapatilla running Flex",
    "price": "129.90",
    "sold_by": "unit",
    "stock": "0",
    "active": "on",
    "variant_options": "talla, color",
    "v0_sku": "ZAP-RUN-38-NE", "v0_opt0": "38", "v0_opt1": "negro", "v0_stock": "3", "v0_active": "on",
    "v1_sku": "ZAP-RUN-39-BL", "v1_opt0": "39", "v1_opt1": "blanco", "v1_stock": "0", "v1_price": "134.90",
    "v1_active": "on",
    "v2_sku": "", "v2_opt0": "", "v2_opt1": "", "v2_stock": "", "v2_price": "",
}


def _product(client, sku: str) -> Product | None:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        product = session.scalar(select(Product).where(Product.tenant_id == tenant.id, Product.sku == sku))
        if product is not None:
            product.variants  # noqa: B018 - load before the session closes
            session.expunge_all()
        return product


def test_a_product_with_variants_is_created_edited_and_read_back(client, login_as) -> None:
    owner = login_as("owner")
    page = flash_follow(owner, owner.post("/admin/catalog/new", SHOE))
    assert "Producto «Zapatilla running Flex» creado." in page
    shoe = _product(client, "ZAP-RUN")
    assert [(v.sku, v.options, v.stock, v.price) for v in shoe.variants] == [
        ("ZAP-RUN-38-NE", {"talla": "38", "color": "negro"}, Decimal(3), None),
        ("ZAP-RUN-39-BL", {"talla": "39", "color": "blanco"}, Decimal(0), Decimal("134.90")),
    ]
    form = owner.get(f"/admin/catalog/products/{shoe.id}").text
    assert 'value="ZAP-RUN-39-BL"' in form and 'value="blanco"' in form and 'value="134.90"' in form
    snapshot = runtime_of(client)
    with snapshot.session() as session:
        products = {p.sku: p for p in snapshot.snapshot(session, "dulce-lima").products}
    assert "ZAP-RUN" in products

    # remove one variant, add another; the stock of the first changes
    edited = SHOE | {"v0_stock": "5", "v1_remove": "on", "v2_sku": "ZAP-RUN-40-NE", "v2_opt0": "40",
                     "v2_opt1": "negro", "v2_stock": "1", "v2_active": "on"}
    assert owner.post(f"/admin/catalog/products/{shoe.id}", edited).status_code == 303
    shoe = _product(client, "ZAP-RUN")
    assert [(v.sku, v.stock) for v in shoe.variants] == [("ZAP-RUN-38-NE", Decimal(5)), ("ZAP-RUN-40-NE", Decimal(1))]


def test_a_bad_variant_is_refused_naming_the_field_and_nothing_changes(client, login_as) -> None:
    owner = login_as("owner")
    missing_color = SHOE | {"v1_opt1": ""}
    response = owner.post("/admin/catalog/new", missing_color)
    assert response.status_code == 400
    assert "Variante 2 (ZAP-RUN-39-BL), color: falta el valor" in response.text
    assert _product(client, "ZAP-RUN") is None

    negative = owner.post("/admin/catalog/new", SHOE | {"v0_stock": "-2"})
    assert negative.status_code == 400 and "Variante 1, stock: debe estar entre 0" in negative.text
    half_shoe = owner.post("/admin/catalog/new", SHOE | {"v0_stock": "1.5"})
    assert half_shoe.status_code == 400
    assert "Variante 1 (ZAP-RUN-38-NE), stock: debe ser un número entero (se vende por unidad)." in half_shoe.text
    assert owner.post("/admin/catalog/new", SHOE).status_code == 303
    clash = SHOE | {"sku": "ZAP-2", "name": "Otra", "v0_sku": "ZAP-RUN-39-BL", "v1_sku": "ZAP-X"}
    taken = owner.post("/admin/catalog/new", clash)
    assert taken.status_code == 400
    assert "Variante 1 (ZAP-RUN-39-BL), SKU: «ZAP-RUN-39-BL» ya lo usa la variante ZAP-RUN-39-BL" in taken.text
    alias = owner.post("/admin/catalog/new", {"sku": "ZAP-3", "name": "Sandalia", "price": "20",
                                              "aliases": "zapatilla running flex", "active": "on"})
    assert alias.status_code == 400
    assert "Alias: «zapatilla running flex» ya es el nombre del producto «Zapatilla running Flex»" in alias.text
    assert _product(client, "ZAP-2") is None and _product(client, "ZAP-3") is None


def test_a_weight_product_with_modifiers(client, login_as) -> None:
    owner = login_as("owner")
    rice = {"sku": "ARR-KG", "name": "Arroz a granel", "price": "4.20", "sold_by": "weight", "unit": "kg",
            "stock": "12.5", "min_quantity": "0.25", "step": "0.25", "active": "on",
            "modifiers": "bien seco; en bolsa doble=0.50"}
    assert owner.post("/admin/catalog/new", rice | {"step": "0"}).status_code == 400
    zero = owner.post("/admin/catalog/new", rice | {"step": "0"})
    assert "Incremento: debe ser mayor que 0." in zero.text
    assert owner.post("/admin/catalog/new", rice).status_code == 303
    product = _product(client, "ARR-KG")
    assert product.stock == Decimal("12.5") and product.min_quantity == Decimal("0.25")
    assert product.modifiers == ["bien seco", {"name": "en bolsa doble", "price": "0.50"}]
    form = owner.get(f"/admin/catalog/products/{product.id}").text
    assert 'value="bien seco; en bolsa doble=0.50"' in form and 'value="12.5"' in form
    quick = flash_follow(owner, owner.post(f"/admin/catalog/products/{product.id}/stock", {"stock": "7.250"}))
    assert "Stock de «Arroz a granel»: 7.25 kg." in quick

