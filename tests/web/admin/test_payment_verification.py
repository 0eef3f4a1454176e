"""Staff verify payments (the bot only reports them): REST API verify/reject, tenant isolation, the
customer's message through the outbox, the audit log; decimal quantities and shop statuses in the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from fakes.admin_panel import audit_count, customer_texts
from fakes.webapp import runtime_of

from chasqui.db.models import Conversation, Order, OrderItem


def _token(login_as, tenant: str = "dulce-lima") -> str:
    page = login_as("owner", tenant).post("/admin/config/api-tokens", {"name": "ERP"})
    return re.search(r'id="new-token">(chq_[^<]+)<', page.text).group(1)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _order(client, slug: str, number: str, status: str = "payment_reported") -> int:
    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, slug)
        message = service.record_customer_message(
            session, f"5198730{number[-4:]:0>4}", "ya te yapeé", datetime.now(UTC), name="Ana"
        )
        conversation = session.get(Conversation, message.conversation_id)
        order = Order(
            tenant_id=service.tenant.id, conversation_id=message.conversation_id,
            contact_id=conversation.contact_id, number=number, status=status, payment_method="yape",
            subtotal=Decimal("30"), total=Decimal("30"), created_at=datetime.now(UTC),
        )
        session.add(order)
        session.flush()
        session.add(OrderItem(tenant_id=service.tenant.id, order_id=order.id, sku="X", name="Queso",
                              unit_price=Decimal("20"), quantity=Decimal("1.5"), line_total=Decimal("30")))
        return order.id


def test_api_verifies_a_reported_payment_and_tells_the_customer(client, login_as) -> None:
    token = _token(login_as)
    order_id = _order(client, "dulce-lima", "00091")
    response = client.post(f"/api/v1/orders/{order_id}/verify-payment", headers=_auth(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "paid" and body["paid_at"]
    assert body["items"][0]["quantity"] == "1.5"  # a measured quantity, not a 500
    assert any("00091" in text and "confirmado" in text for text in customer_texts(client, order_id))
    assert audit_count(client, "order.payment.verify") == 1
    again = client.post(f"/api/v1/orders/{order_id}/verify-payment", headers=_auth(token))
    assert again.status_code == 409


def test_api_rejects_a_reported_payment_back_to_pending(client, login_as) -> None:
    token = _token(login_as)
    order_id = _order(client, "dulce-lima", "00092")
    response = client.post(f"/api/v1/orders/{order_id}/reject-payment", headers=_auth(token))
    assert response.status_code == 200 and response.json()["status"] == "pending_payment"
    assert any("No encontramos el pago" in text for text in customer_texts(client, order_id))
    assert client.post(f"/api/v1/orders/{order_id}/reject-payment", headers=_auth(token)).status_code == 409
    # a pending payment may still be verified (the shop saw the money before the customer wrote)
    assert client.post(f"/api/v1/orders/{order_id}/verify-payment", headers=_auth(token)).json()["status"] == "paid"


def test_api_never_touches_another_tenants_order(client, login_as) -> None:
    token_a = _token(login_as, "dulce-lima")
    order_b = _order(client, "ferreteria-el-tornillo", "00093")
    for action in ("verify-payment", "reject-payment"):
        response = client.post(f"/api/v1/orders/{order_b}/{action}", headers=_auth(token_a))
        assert response.status_code == 404 and response.json() == {"detail": "No encontrado"}
    with runtime_of(client).session() as session:
        assert session.get(Order, order_b).status == "payment_reported"
    assert client.post(f"/api/v1/orders/{order_b}/verify-payment").status_code == 401


def test_api_lists_orders_in_the_shops_steps(client, login_as) -> None:
    token = _token(login_as)
    order_id = _order(client, "dulce-lima", "00094", status="preparing")
    assert client.get(f"/api/v1/orders/{order_id}", headers=_auth(token)).json()["status"] == "preparing"
    assert client.get("/api/v1/orders?status=preparing", headers=_auth(token)).json()["total"] == 1
