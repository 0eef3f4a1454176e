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



# ------------------------------------------------------------------ Excel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(owner, data: bytes):
    return owner.post("/admin/catalog/import", {}, files={"file": ("catalogo.xlsx", data, XLSX)})


def _catalog_state(client) -> dict[str, tuple]:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        state = {}
        for p in session.scalars(select(Product).where(Product.tenant_id == tenant.id)):
            state[p.sku] = (
                p.name, p.price, p.stock, p.sold_by, p.min_quantity, p.step, p.sold_by_amount, p.modifiers,
                p.variant_options, p.aliases, p.active,
                [(v.sku, v.options, v.stock, v.price, v.active) for v in p.variants],
            )
        return state


def test_excel_round_trip_with_variants_weights_and_modifiers(client, login_as) -> None:
    import io

    from openpyxl import load_workbook

    owner = login_as("owner")
    assert owner.post("/admin/catalog/new", SHOE).status_code == 303
    rice = {"sku": "ARR-KG", "name": "Arroz a granel", "price": "4.20", "sold_by": "weight", "unit": "kg",
            "stock": "12.5", "min_quantity": "0.25", "step": "0.25", "active": "on",
            "modifiers": "bien seco; en bolsa doble=0.50"}
    assert owner.post("/admin/catalog/new", rice).status_code == 303
    before = _catalog_state(client)

    exported = owner.get("/admin/catalog/export.xlsx").content
    book = load_workbook(io.BytesIO(exported))
    assert book.sheetnames[1] == "Instrucciones"
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=False)) for row in sheet.iter_rows(min_row=2)]
    shoe_rows = [r for r in rows if r["sku"] == "ZAP-RUN"]
    assert [r["variante_sku"] for r in shoe_rows] == ["ZAP-RUN-38-NE", "ZAP-RUN-39-BL"]
    assert shoe_rows[0]["variante"] == "talla=38; color=negro" and shoe_rows[1]["nombre"] in (None, "")
    rice_row = next(r for r in rows if r["sku"] == "ARR-KG")
    assert rice_row["vendido_por"] == "peso" and rice_row["stock"] == 12.5
    assert rice_row["modificadores"] == "bien seco; en bolsa doble=0.50"

    unchanged = flash_follow(owner, _upload(owner, exported))
    assert "0 nuevo(s), 0 actualizado(s)" in unchanged
    assert _catalog_state(client) == before

    # a new variant row and a changed weight
    sheet.append(["ZAP-RUN"] + [None] * 14 + ["ZAP-RUN-40-NE", "talla=40; color=negro", 2, None, "sí"])
    rice_line = next(i for i, row in enumerate(sheet.iter_rows(min_row=1), start=1) if row[0].value == "ARR-KG")
    sheet.cell(row=rice_line, column=header.index("stock") + 1).value = 20.75
    buffer = io.BytesIO()
    book.save(buffer)
    page = flash_follow(owner, _upload(owner, buffer.getvalue()))
    assert "0 nuevo(s), 2 actualizado(s)" in page
    assert "Informe de la importación" in page and "ZAP-RUN / ZAP-RUN-40-NE" in page
    after = _catalog_state(client)
    assert after["ARR-KG"][2] == Decimal("20.75")
    assert [v[0] for v in after["ZAP-RUN"][-1]] == ["ZAP-RUN-38-NE", "ZAP-RUN-39-BL", "ZAP-RUN-40-NE"]


def test_excel_bad_variant_rows_are_reported_with_their_row_and_nothing_changes(client, login_as) -> None:
    import io

    from openpyxl import Workbook

    owner = login_as("owner")
    assert owner.post("/admin/catalog/new", SHOE).status_code == 303
    before = _catalog_state(client)
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "nombre", "precio", "stock", "vendido_por", "incremento", "variante_sku", "variante",
                  "variante_stock"])
    sheet.append(["POLO", "Polo básico", 25, 0, "unidad", None, "POLO-S-BL", "talla=S; color=blanco", 3])
    sheet.append(["POLO", None, None, None, None, None, "POLO-M", "talla=M", 2])  # no color
    sheet.append(["POLO", None, None, None, None, None, "ZAP-RUN-38-NE", "talla=L; color=negro", -1])
    sheet.append(["QUESO", "Queso fresco", 18, 2.5, "peso", 0, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(owner, buffer.getvalue())
    assert response.status_code == 400
    text = response.text
    for message in (
        "Fila 4: Variante stock: debe estar entre 0",
        "Fila 5: Incremento: debe ser mayor que 0.",
    ):
        assert message in text, message
    assert _catalog_state(client) == before

    sheet.cell(row=4, column=9).value = 1
    sheet.cell(row=5, column=6).value = 0.25
    buffer = io.BytesIO()
    book.save(buffer)
    again = _upload(owner, buffer.getvalue())
    assert again.status_code == 400
    assert "Fila 3: Variante 2 (POLO-M), color: falta el valor" in again.text
    sheet.cell(row=3, column=8).value = "talla=M; color=blanco"
    buffer = io.BytesIO()
    book.save(buffer)
    again = _upload(owner, buffer.getvalue())
    assert again.status_code == 400
    assert "Fila 4: Variante 3 (ZAP-RUN-38-NE), SKU: «ZAP-RUN-38-NE» ya lo usa la variante ZAP-RUN-38-NE" in again.text
    assert _catalog_state(client) == before


def test_the_catalog_list_says_sold_out_by_variant(client, login_as) -> None:
    owner = login_as("owner")
    owner.post("/admin/catalog/new", SHOE)  # the product's own stock is 0; one variant has 3 pairs
    row = _row(owner.get("/admin/catalog?q=Flex").text, "Zapatilla running Flex")
    assert "1 variante(s) agotada(s)" in row and ">agotado<" not in row and "3 en 2 variante(s)" in row
    shoe = _product(client, "ZAP-RUN")
    owner.post(f"/admin/catalog/products/{shoe.id}", SHOE | {"v0_stock": "0"})
    row = _row(owner.get("/admin/catalog?q=Flex").text, "Zapatilla running Flex")
    assert ">agotado<" in row and "variante(s) agotada(s)" not in row


def _row(page: str, name: str) -> str:
    start = page.index(f">{name}</a>")
    return page[start:page.index("</tr>", start)]
