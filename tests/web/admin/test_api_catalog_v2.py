"""REST API and catalog version 2: variants, weights, modifiers, order details as decimal strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from fakes.webapp import runtime_of

from chasqui.db.models import Order, OrderItem


def _token(login_as) -> str:
    owner = login_as("owner", "dulce-lima")
    page = owner.post("/admin/config/api-tokens", {"name": "ERP"})
    return re.search(r'id="new-token">(chq_[^<]+)<', page.text).group(1)


SHOE = {
    "sku": "ZAP-RUN",
    "name": "Zapatilla running Flex",
    "price": "129.90",
    "variant_options": ["talla", "color"],
    "variants": [
        {"sku": "ZAP-RUN-38-NE", "options": {"talla": "38", "color": "negro"}, "stock": 3},
        {"sku": "ZAP-RUN-39-BL", "options": {"talla": "39", "color": "blanco"}, "stock": 0, "price": "134.90"},
    ],
}
RICE = {
    "sku": "ARR-KG", "name": "Arroz a granel", "price": "4.20", "sold_by": "weight", "unit": "kg",
    "stock": "12.5", "min_quantity": "0.25", "step": "0.25",
    "modifiers": [{"name": "bien seco"}, {"name": "en bolsa doble", "price": "0.50"}],
}


def test_products_with_variants_and_weights_and_a_weight_order(client, login_as) -> None:
    headers = {"Authorization": f"Bearer {_token(login_as)}"}
    created = client.post("/api/v1/products", json=SHOE, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["variant_options"] == ["talla", "color"] and body["stock"] == 0
    assert body["variants"][1] == {
        "sku": "ZAP-RUN-39-BL", "options": {"talla": "39", "color": "blanco"}, "stock": 0, "price": "134.90",
        "active": True,
    }
    rice = client.post("/api/v1/products", json=RICE, headers=headers).json()
    assert rice["stock"] == "12.5" and rice["sold_by"] == "weight" and rice["min_quantity"] == "0.25"
    assert rice["modifiers"] == [{"name": "bien seco", "price": None}, {"name": "en bolsa doble", "price": "0.50"}]

    # stock: decimals for the weight product, whole numbers for units, variants by their SKU
    assert client.patch("/api/v1/products/ARR-KG", json={"stock": "7.250"}, headers=headers).json()["stock"] == "7.25"
    half_shoe = client.patch("/api/v1/variants/ZAP-RUN-38-NE", json={"stock": "1.5"}, headers=headers)
    assert half_shoe.status_code == 422 and "se vende por unidad" in half_shoe.text
    variant = client.patch("/api/v1/variants/ZAP-RUN-38-NE", json={"stock": 9}, headers=headers)
    assert variant.status_code == 200 and variant.json()["variants"][0]["stock"] == 9
    assert client.patch("/api/v1/variants/NOPE", json={"stock": 1}, headers=headers).status_code == 404

    # bad catalog changes: refused with the field named, nothing changed
    missing = SHOE | {"sku": "ZAP-2", "name": "Otra", "variants": [{"sku": "Z2-1", "options": {"talla": "40"}}]}
    refused = client.post("/api/v1/products", json=missing, headers=headers)
    assert refused.status_code == 422 and "color: falta el valor" in refused.text
    taken = client.post("/api/v1/products", json=RICE | {"sku": "ZAP-RUN-38-NE", "name": "Arroz 2"}, headers=headers)
    assert taken.status_code == 422 and "ya lo usa" in taken.text
    assert client.get("/api/v1/products/ZAP-2", headers=headers).status_code == 404

    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        order = Order(
            tenant_id=service.tenant.id, number="W-1", status="pending_payment", fulfillment="delivery",
            zone="Miraflores", delivery_address="Av. Larco 123, frente al parque", payment_method="efectivo",
            notes="tocar el timbre", change_for=Decimal("50.00"), subtotal=Decimal("6.30"),
            total=Decimal("6.30"), created_at=datetime.now(UTC),
        )
        order.items = [
            OrderItem(tenant_id=service.tenant.id, sku="ARR-KG", name="Arroz a granel", unit_price=Decimal("4.20"),
                      quantity=Decimal("1.500"), line_total=Decimal("6.30"), notes="bien seco"),
            OrderItem(tenant_id=service.tenant.id, sku="ZAP-RUN-38-NE", name="Zapatilla (38, negro)",
                      unit_price=Decimal("129.90"), quantity=Decimal("1.000"), line_total=Decimal("129.90")),
        ]
        session.add(order)
        session.flush()
        order_id = order.id
    read = client.get(f"/api/v1/orders/{order_id}", headers=headers).json()
    assert [(i["sku"], i["quantity"], i["notes"]) for i in read["items"]] == [
        ("ARR-KG", "1.5", "bien seco"), ("ZAP-RUN-38-NE", 1, ""),
    ]
    assert read["delivery"] is True and read["address"] == "Av. Larco 123, frente al parque"
    assert read["notes"] == "tocar el timbre" and read["change_for"] == "50.00" and read["payment_method"] == "efectivo"
    document = client.get("/api/openapi.json").json()
    assert "/api/v1/variants/{sku}" in document["paths"]
