"""Tenant isolation and roles on every admin and API route.

The walk enumerates the app's routes, so a new admin or API route with an object id in its path
fails here until it is added to ``OBJECT_PARAMS`` (and so proven to answer 404 across tenants).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fakes.webapp import runtime_of
from fastapi.routing import APIRoute
from sqlalchemy import select

from chasqui.db.models import (
    ApiToken,
    DeliveryZone,
    Message,
    PaymentMethod,
    Product,
    ProductVariant,
    Promotion,
    Tenant,
    TrainingSample,
)
from chasqui.web.api.tokens import create_token

A, B = "dulce-lima", "ferreteria-el-tornillo"
PREFIXES = ("/admin", "/api/v1")
# path prefix + parameter -> the key of the tenant-A object whose id fills it
OBJECT_PARAMS = {
    ("/admin/config/payments/", "row_id"): "payment",
    ("/admin/config/zones/", "row_id"): "zone",
    ("/admin/config/api-tokens/", "token_id"): "token",
    ("/admin/catalog/products/", "product_id"): "product",
    ("/admin/catalog/promotions/", "promotion_id"): "promotion",
    ("/admin/ml/review/samples/", "sample_id"): "sample",
    ("/admin/ml/review/messages/", "message_id"): "message",
    ("/admin/conversations/", "conversation_id"): "conversation",
    ("/admin/orders/", "order_id"): "order",
    ("/api/v1/orders/", "order_id"): "order",
    ("/api/v1/conversations/", "conversation_id"): "conversation",
    ("/api/v1/products/", "sku"): "sku",
    ("/api/v1/variants/", "sku"): "variant_sku",
}
# tenant-level routes whose path parameter is not an object id (each tenant has its own "saludo")
TENANT_PAGES_WITHOUT_IDS = {
    "/admin/config/templates/{key}": {"key": "saludo"},
    "/admin/config/templates/{key}/reset": {"key": "saludo"},
}


def _objects_of_a(client) -> dict[str, object]:
    runtime = runtime_of(client)
    now = datetime.now(UTC)
    with runtime.session() as session:
        service = runtime.service(session, A)
        tid = service.tenant.id
        message = service.record_customer_message(session, "51987300001", "qué tortas tienen?", now, name="Rosa")
        message.processed, message.confidence, message.intent = True, 0.2, "consultar_catalogo"
        sample = TrainingSample(
            tenant_id=tid, text="a cómo la torta?", intent="consultar_precio", source="llm", confirmed=False
        )
        session.add(sample)
        token, _ = create_token(session, tid, "ERP de A", None)
        from chasqui.db.models import Order

        order = Order(
            tenant_id=tid,
            conversation_id=message.conversation_id,
            number="ISO-1",
            status="paid",
            subtotal=10,
            total=10,
            created_at=now,
        )
        session.add(order)
        product = session.scalar(select(Product).where(Product.tenant_id == tid).order_by(Product.id))
        product.variant_options = ["tamaño"]
        product.variants = [ProductVariant(tenant_id=tid, sku="ISO-VAR-1", options={"tamaño": "grande"})]
        session.flush()

        def first(model):
            return session.scalar(select(model.id).where(model.tenant_id == tid).order_by(model.id))

        return {
            "payment": first(PaymentMethod),
            "zone": first(DeliveryZone),
            "token": token.id,
            "product": first(Product),
            "promotion": first(Promotion),
            "sample": sample.id,
            "message": message.id,
            "conversation": message.conversation_id,
            "order": order.id,
            "sku": session.scalar(select(Product.sku).where(Product.tenant_id == tid).order_by(Product.id)),
            "variant_sku": "ISO-VAR-1",
            "tenant_id": tid,
        }


def _api_routes(routes: list) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            found += _api_routes(route.original_router.routes)
    return found


def _routes(client) -> list[tuple[str, str]]:
    routes = []
    for route in _api_routes(client.app.routes):
        if route.path.startswith(PREFIXES):
            for method in sorted(route.methods - {"HEAD"}):
                routes.append((method, route.path))
    assert len(routes) > 40, "the admin and API routes are found"
    return routes


def _fill(path: str, objects: dict[str, object]) -> str | None:
    """The path with tenant A's object ids; None for a route without object ids."""
    params = re.findall(r"{(\w+)}", path)
    if not params:
        return None
    if path in TENANT_PAGES_WITHOUT_IDS:
        return None
    for name in params:
        key = next((v for (prefix, p), v in OBJECT_PARAMS.items() if path.startswith(prefix) and p == name), None)
        assert key is not None, f"{path}: add its {{{name}}} to OBJECT_PARAMS so isolation is tested"
        path = path.replace(f"{{{name}}}", str(objects[key]))
    return path


def test_every_route_answers_404_for_another_tenants_objects(client, login_as) -> None:
    objects = _objects_of_a(client)
    a_names = [p.name for p in _products(client, A)]
    owner_b = login_as("owner", B)
    runtime = runtime_of(client)
    with runtime.session() as session:
        token_b = create_token(session, session.scalar(select(Tenant.id).where(Tenant.slug == B)), "B", None)[1]
    walked = 0
    for method, path in _routes(client):
        url = _fill(path, objects)
        if path.startswith("/api/v1"):
            headers = {"Authorization": f"Bearer {token_b}"}
            if url is None:
                if method == "GET":
                    listing = client.get(path, headers=headers)
                    assert listing.status_code == 200 and not set(a_names) & {
                        i.get("name") for i in listing.json()["items"]
                    }, path
                continue
            response = client.request(method, url, headers=headers, json={"stock": 1} if method == "PATCH" else None)
        else:
            if url is None:
                if method == "GET":
                    page = owner_b.get(path.format(**TENANT_PAGES_WITHOUT_IDS.get(path, {})))
                    assert page.status_code in (200, 303), path
                    assert not any(name in page.text for name in a_names), f"{path} shows tenant A's data"
                continue
            response = owner_b.get(url) if method == "GET" else owner_b.post(url, {"action": "discard", "stock": "0"})
        assert response.status_code == 404, (method, url, response.status_code)
        walked += 1
    assert walked >= 20

    with runtime.session() as session:  # nothing of tenant A was touched
        assert session.get(PaymentMethod, objects["payment"]) is not None
        assert session.get(Product, objects["product"]).stock > 0
        assert session.get(Promotion, objects["promotion"]) is not None
        assert session.get(ApiToken, objects["token"]).revoked_at is None
        assert session.get(TrainingSample, objects["sample"]).confirmed is False
        assert session.get(Message, objects["message"]) is not None
        assert session.scalar(select(TrainingSample.id).where(TrainingSample.message_id == objects["message"])) is None


def _products(client, slug: str) -> list[Product]:
    with runtime_of(client).session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        return list(session.scalars(select(Product).where(Product.tenant_id == tenant_id)))


def test_an_agent_cannot_open_configuration_catalog_ml_or_dashboard(client, login_as) -> None:
    objects = _objects_of_a(client)
    agent = login_as("agent", A)
    for method, path in _routes(client):
        # members' pages: a conversation's export; the orders and their payment check (test_admin_orders)
        if not path.startswith("/admin") or path.startswith(("/admin/conversations/", "/admin/orders")):
            continue
        url = _fill(path, objects) or path.format(**TENANT_PAGES_WITHOUT_IDS.get(path, {}))
        response = agent.get(url) if method == "GET" else agent.post(url, {"name": "x", "threshold": "0.1"})
        assert response.status_code == 403, (method, url, response.status_code)
        assert "No tienes permiso" in response.text
    # a member may still download a conversation of the tenant
    assert agent.get(f"/admin/conversations/{objects['conversation']}/export.json").status_code == 200


def test_not_logged_in_goes_to_login_and_admins_cannot_open_ml(client, login_as) -> None:
    response = client.get("/admin/config/bot")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    admin = login_as("admin", A)
    assert admin.get("/admin/config/bot").status_code == 200
    assert admin.get("/admin/ml").status_code == 403
    assert 'href="/admin/ml"' not in admin.get("/admin/catalog").text  # the nav hides what it cannot open
