"""The panel's orders page: the list with an order's details, staff verify or reject a reported payment
(the customer is told through the outbox), tenant isolation, CSRF, roles, the voucher image."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fakes.admin_panel import audit_count, customer_texts
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import Conversation, Order, OrderItem, Product


def _order(client, slug: str, number: str, status: str = "payment_reported", **fields) -> int:
    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, slug)
        message = service.record_customer_message(
            session, f"5198731{number[-4:]:0>4}", "ya te yapeé", datetime.now(UTC), name="Ana Quispe"
        )
        conversation = session.get(Conversation, message.conversation_id)
        values = {"payment_method": "yape", "subtotal": Decimal("52.50"), "total": Decimal("52.50"),
                  "created_at": datetime.now(UTC)} | fields
        order = Order(tenant_id=service.tenant.id, conversation_id=message.conversation_id,
                      contact_id=conversation.contact_id, number=number, status=status, **values)
        session.add(order)
        session.flush()
        session.add_all([
            OrderItem(tenant_id=service.tenant.id, order_id=order.id, sku="CHI-MOR", name="Chicha morada",
                      unit_price=Decimal("15"), quantity=Decimal("1.5"), line_total=Decimal("22.50"),
                      notes="bien helada"),
            OrderItem(tenant_id=service.tenant.id, order_id=order.id, sku="TOR-CHOC-M",
                      name="Torta de chocolate (mediana)",
                      unit_price=Decimal("30"), quantity=Decimal("1"), line_total=Decimal("30"),
                      modifiers=["sin nueces"]),
        ])
        return order.id


def _status(client, order_id: int) -> str:
    with runtime_of(client).session() as session:
        return session.get(Order, order_id).status


def test_the_list_shows_an_orders_details(client, login_as) -> None:
    with runtime_of(client).session() as session:  # sold by volume: a decimal quantity with its unit
        product = session.scalar(select(Product).where(Product.sku == "CHI-MOR"))
        product.sold_by, product.unit = "volume", "L"
    order_id = _order(
        client, "dulce-lima", "00071", fulfillment="delivery", zone="Miraflores",
        delivery_address="Av. Larco 345, dpto 502", delivery_fee=Decimal("8"), payment_method="efectivo",
        change_for=Decimal("100"), notes="tocar el timbre", status="pending_payment",
    )
    _order(client, "dulce-lima", "00070", fulfillment="pickup", created_at=datetime.now(UTC) - timedelta(hours=1))
    panel = login_as("owner")
    page = panel.get("/admin/orders")
    assert page.status_code == 200, page.text
    text = page.text
    for expected in ("#00071", "Ana Quispe", "1.5 L × Chicha morada", "Nota: bien helada",
                     "Torta de chocolate (mediana)", "sin nueces", "Miraflores", "Av. Larco 345, dpto 502",
                     "Efectivo", "Paga con S/ 100.00",
                     "tocar el timbre", "S/ 52.50", "Pendiente de pago", "Recojo en tienda", "Pago por verificar",
                     'href="/conversations/', 'Verificar pago', 'Rechazar pago'):
        assert expected in text, expected
    assert text.index("#00071") < text.index("#00070")  # newest first
    row = re.search(rf'<tr id="order-{order_id}">(.*?)</tr>', text, re.S).group(1)
    assert "Verificar pago" in row and "Rechazar pago" not in row  # nothing reported: only verify
    only = panel.get("/admin/orders?estado=payment_reported").text
    assert "#00070" in only and "#00071" not in only
    assert "<script>" not in text and " onclick=" not in text and "<style" not in text  # strict CSP


def test_paging(client, login_as) -> None:
    for n in range(27):
        _order(client, "dulce-lima", f"{n + 100:05d}", created_at=datetime.now(UTC) - timedelta(minutes=n))
    panel = login_as("owner")
    first = panel.get("/admin/orders").text
    assert "#00100" in first and "#00126" not in first and "Página 1 de 2" in first
    second = panel.get("/admin/orders?pagina=2").text
    assert "#00126" in second and "#00100" not in second


def test_verify_moves_a_reported_payment_to_paid_and_tells_the_customer(client, login_as) -> None:
    order_id = _order(client, "dulce-lima", "00072")
    panel = login_as("agent")  # agents verify too: they handle the chats
    response = panel.post(f"/admin/orders/{order_id}/verify-payment", {"back": "estado=payment_reported"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/orders?estado=payment_reported"
    assert _status(client, order_id) == "paid"
    with runtime_of(client).session() as session:
        assert session.get(Order, order_id).paid_at is not None
    assert any("00072" in text and "confirmado" in text for text in customer_texts(client, order_id))
    assert audit_count(client, "order.payment.verify") == 1
    page = panel.get(response.headers["location"]).text
    assert "Pedido 00072: pago verificado" in page
    again = panel.post(f"/admin/orders/{order_id}/verify-payment")  # nothing left to verify: said, not done
    assert again.status_code == 303 and audit_count(client, "order.payment.verify") == 1
    assert "no hay un pago por verificar" in panel.get(again.headers["location"]).text


def test_reject_sends_the_order_back_to_pending(client, login_as) -> None:
    order_id = _order(client, "dulce-lima", "00073")
    panel = login_as("owner")
    response = panel.post(f"/admin/orders/{order_id}/reject-payment")
    assert response.status_code == 303 and _status(client, order_id) == "pending_payment"
    assert any("No encontramos el pago" in text for text in customer_texts(client, order_id))
    assert audit_count(client, "order.payment.reject") == 1


def test_another_tenants_order_is_not_found(client, login_as) -> None:
    theirs = _order(client, "ferreteria-el-tornillo", "00074")
    panel = login_as("owner", "dulce-lima")
    for action in ("verify-payment", "reject-payment"):
        assert panel.post(f"/admin/orders/{theirs}/{action}").status_code == 404
    assert panel.get(f"/admin/orders/{theirs}/voucher").status_code == 404
    assert "#00074" not in panel.get("/admin/orders").text
    assert _status(client, theirs) == "payment_reported" and customer_texts(client, theirs) == []


def test_without_csrf_nothing_changes(client, login_as) -> None:
    order_id = _order(client, "dulce-lima", "00075")
    panel = login_as("owner")
    response = panel.client.post(f"/admin/orders/{order_id}/verify-payment", data={})
    assert response.status_code == 400
    response = panel.client.post(f"/admin/orders/{order_id}/reject-payment", data={"csrf_token": "falso"})
    assert response.status_code == 400
    assert _status(client, order_id) == "payment_reported" and customer_texts(client, order_id) == []
    assert client.get("/admin/orders").status_code == 303  # not logged in: to the login page


def test_the_voucher_is_served_to_the_tenant_only(client, login_as) -> None:
    runtime, data_dir = runtime_of(client), client.app.state.chasqui.settings.data_dir
    with runtime.session() as session:
        tenant_id = runtime.service(session, "dulce-lima").tenant.id
    (data_dir / "media" / str(tenant_id)).mkdir(parents=True)
    (data_dir / "media" / str(tenant_id) / "voucher.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    order_id = _order(client, "dulce-lima", "00076", voucher_media={
        "id": "m1", "path": f"{tenant_id}/voucher.jpg", "mime_type": "image/jpeg", "size": 14})
    panel = login_as("owner")
    assert f'href="/admin/orders/{order_id}/voucher"' in panel.get("/admin/orders").text
    image = panel.get(f"/admin/orders/{order_id}/voucher")
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8")
    assert login_as("owner", "ferreteria-el-tornillo").get(f"/admin/orders/{order_id}/voucher").status_code == 404


def test_the_conversation_links_its_last_order(client, login_as) -> None:
    order_id = _order(client, "dulce-lima", "00077")
    with runtime_of(client).session() as session:
        conversation_id = session.get(Order, order_id).conversation_id
    page = login_as("agent").get(f"/conversations/{conversation_id}").text
    assert f'href="/admin/orders?estado=payment_reported#order-{order_id}"' in page
    assert "Pago por verificar" in page and 'href="/admin/orders"' in page  # the nav's "Pedidos"
