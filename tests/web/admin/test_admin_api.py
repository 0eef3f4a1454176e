"""REST API /api/v1: tokens per tenant, isolation, products read/write, orders, conversations, docs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from fakes.admin_panel import audit_count
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import ApiToken, Order, Product, Tenant


def _token(login_as, tenant: str = "dulce-lima", name: str = "ERP") -> str:
    owner = login_as("owner", tenant)
    page = owner.post("/admin/config/api-tokens", {"name": name})
    assert page.status_code == 200 and "no se volverá a mostrar" in page.text
    return re.search(r'id="new-token">(chq_[^<]+)<', page.text).group(1)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _order(client, slug: str, number: str) -> tuple[int, int]:
    """An order and its conversation for a new customer of ``slug``: (order id, conversation id)."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, slug)
        message = service.record_customer_message(
            session, f"5198720{len(number):04d}{number[-1]}", "hola", datetime.now(UTC), name="Ana"
        )
        order = Order(
            tenant_id=service.tenant.id,
            conversation_id=message.conversation_id,
            number=number,
            status="paid",
            subtotal=Decimal("30"),
            total=Decimal("30"),
            created_at=datetime.now(UTC),
        )
        session.add(order)
        session.flush()
        return order.id, message.conversation_id


def test_a_token_reads_its_tenant_and_never_another(client, login_as) -> None:
    token_a = _token(login_as, "dulce-lima")
    token_b = _token(login_as, "ferreteria-el-tornillo")
    order_a, conversation_a = _order(client, "dulce-lima", "A-1")
    order_b, conversation_b = _order(client, "ferreteria-el-tornillo", "B-1")

    products = client.get("/api/v1/products", headers=_auth(token_a)).json()
    with runtime_of(client).session() as session:
        tenant_a = session.scalar(select(Tenant.id).where(Tenant.slug == "dulce-lima"))
        skus_a = set(session.scalars(select(Product.sku).where(Product.tenant_id == tenant_a)))
        sku_b = session.scalar(select(Product.sku).join(Tenant).where(Tenant.slug == "ferreteria-el-tornillo"))
    assert {p["sku"] for p in products["items"]} == skus_a and products["total"] == len(skus_a)
    assert all(re.fullmatch(r"\d+\.\d\d", p["price"]) for p in products["items"])

    orders = client.get("/api/v1/orders", headers=_auth(token_a)).json()
    assert [o["id"] for o in orders["items"]] == [order_a] and orders["items"][0]["total"] == "30.00"
    assert client.get(f"/api/v1/orders/{order_a}", headers=_auth(token_a)).json()["number"] == "A-1"
    conversations = client.get("/api/v1/conversations", headers=_auth(token_a)).json()
    assert [c["id"] for c in conversations["items"]] == [conversation_a]
    detail = client.get(f"/api/v1/conversations/{conversation_a}", headers=_auth(token_a)).json()
    assert detail["messages"][0]["text"] == "hola" and detail["customer_name"] == "Ana"

    for url in (f"/api/v1/orders/{order_b}", f"/api/v1/conversations/{conversation_b}", f"/api/v1/products/{sku_b}"):
        response = client.get(url, headers=_auth(token_a))
        assert response.status_code == 404 and response.json() == {"detail": "No encontrado"}, url
    assert client.patch(f"/api/v1/products/{sku_b}", json={"stock": 1}, headers=_auth(token_a)).status_code == 404
    assert client.get(f"/api/v1/orders/{order_b}", headers=_auth(token_b)).status_code == 200


def test_missing_wrong_and_revoked_tokens_get_401(client, login_as) -> None:
    assert client.get("/api/v1/orders").status_code == 401
    response = client.get("/api/v1/orders", headers=_auth("chq_inventado"))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/orders", headers={"Authorization": "Basic abc"}).status_code == 401
    owner = login_as("owner")
    page = owner.post("/admin/config/api-tokens", {"name": "Temporal"})
    token = re.search(r'id="new-token">(chq_[^<]+)<', page.text).group(1)
    assert client.get("/api/v1/orders", headers=_auth(token)).status_code == 200
    with runtime_of(client).session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "Temporal"))
        assert row.token_hash != token and token not in (row.prefix + "…")  # only a hash is stored
        assert row.last_used_at is not None
    assert token not in owner.get("/admin/config/api-tokens").text  # shown once
    assert owner.post(f"/admin/config/api-tokens/{row.id}/revoke").status_code == 303
    assert client.get("/api/v1/orders", headers=_auth(token)).status_code == 401
    assert owner.post("/admin/config/api-tokens", {"name": ""}).status_code == 400
    assert audit_count(client, "api.token.revoke") == 1


def test_products_create_and_update_with_validation(client, login_as) -> None:
    token = _token(login_as)
    body = {
        "sku": "KEKE-NAR",
        "name": "Keke de naranja",
        "price": "18.50",
        "stock": 7,
        "category": "Kekes",
        "aliases": ["keke"],
        "image_url": "https://example.com/keke.jpg",
    }
    created = client.post("/api/v1/products", json=body, headers=_auth(token))
    assert created.status_code == 201 and created.json()["price"] == "18.50"
    assert created.headers["location"] == "/api/v1/products/KEKE-NAR"
    assert client.post("/api/v1/products", json=body, headers=_auth(token)).status_code == 409
    for bad in (
        body | {"sku": "X Y"},
        body | {"price": "-1"},
        body | {"price": "1.234"},
        body | {"name": ""},
        body | {"stock": -2},
        body | {"image_url": "ftp://x"},
        body | {"color": "rojo"},
        body | {"name": "nul\x00"},
        body | {"aliases": ["ok", "ta\x0bb"]},
    ):
        assert (
            client.post(
                "/api/v1/products",
                json=bad | {"sku": bad["sku"] if bad["sku"] != "KEKE-NAR" else "K2"},
                headers=_auth(token),
            ).status_code
            == 422
        ), bad

    updated = client.patch("/api/v1/products/KEKE-NAR", json={"stock": 0, "price": 20}, headers=_auth(token))
    assert updated.status_code == 200 and updated.json()["stock"] == 0 and updated.json()["price"] == "20.00"
    assert client.patch("/api/v1/products/KEKE-NAR", json={"name": None}, headers=_auth(token)).status_code == 422
    runtime = runtime_of(client)
    with runtime.session() as session:
        product = runtime.snapshot(session, "dulce-lima").product("KEKE-NAR")
    assert product is not None and product.stock == 0  # the bot sees it at once
    assert audit_count(client, "api.product.create") == 1 and audit_count(client, "api.product.update") == 1


def test_openapi_and_docs(client) -> None:
    document = client.get("/api/openapi.json").json()
    assert {
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/conversations",
        "/api/v1/products",
        "/api/v1/products/{sku}",
        "/api/v1/conversations/{conversation_id}",
    } <= set(document["paths"])
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/v1/products" in docs.text and "Authorization: Bearer" in docs.text
    assert "cdn" not in docs.text.lower()
