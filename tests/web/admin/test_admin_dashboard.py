"""Dashboard figures with date ranges, charts or tables, and the CSV/JSON exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import Conversation, Escalation, Order, OrderItem, Tenant
from chasqui.web.admin import dashboard as dashboard_module


def _seed(client) -> dict[str, int]:
    """Three customers of Dulce Lima, an operator reply, a paid and a pending order, an escalation."""
    runtime = runtime_of(client)
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        for phone, name, texts in [
            ("51987100001", "Lucía", ["hola", "cuánto cuesta la torta de chocolate?", "quiero torta de chocolate"]),
            ("51987100002", "Pedro", ["tienen alfajores?"]),
            ("51987100003", '=HYPERLINK("http://x")', ["torta torta torta"]),
        ]:
            for text in texts:
                outcome = service.customer_message(session, phone, text, now, name=name)
            ids[name] = outcome.conversation_id
        service.operator_message(session, "51987100002", "Hola Pedro, te atiende Carla", now)
        tenant_id = service.tenant.id
        for number, status, total, conversation in [
            ("D-1", "paid", "65.00", ids["Lucía"]),
            ("D-2", "pending_payment", "20.50", ids["Pedro"]),
        ]:
            order = Order(
                tenant_id=tenant_id,
                conversation_id=conversation,
                number=number,
                status=status,
                subtotal=Decimal(total),
                total=Decimal(total),
                created_at=now,
                payment_method="yape",
            )
            order.items = [
                OrderItem(
                    tenant_id=tenant_id,
                    sku="TOR-CHOC",
                    name="Torta de chocolate",
                    unit_price=Decimal(total),
                    quantity=1,
                    line_total=Decimal(total),
                )
            ]
            session.add(order)
        session.add(
            Escalation(tenant_id=tenant_id, conversation_id=ids["Pedro"], reason="solicitar_humano", opened_at=now)
        )
    return ids


def test_dashboard_figures_for_the_range(client, login_as) -> None:
    ids = _seed(client)
    owner = login_as("owner")
    page = owner.get("/admin/dashboard")
    assert page.status_code == 200
    text = page.text
    board = page.context["board"]
    assert board.inbound == 5 and board.conversations == 3
    assert board.orders == 2 and board.revenue == Decimal("65.00") and board.pending_revenue == Decimal("20.50")
    assert board.conversations_with_order == 2 and abs(board.conversion - 2 / 3) < 1e-9
    with runtime_of(client).session() as session:
        escalations = len(session.scalars(select(Escalation.id)).all())  # the one above, plus any the bot opened
    assert escalations >= 1 and board.escalations == escalations
    assert abs(board.escalation_rate - escalations / 3) < 1e-9
    answered = {label: count for label, count, _ in board.answered_by}
    assert answered["Personas"] == 1 and sum(answered.values()) == board.outbound
    assert board.top_customers[0]["conversation_id"] == ids["Lucía"] and board.top_customers[0]["messages"] == 3
    assert ("torta", 5) in board.words and ("cuanto", 1) in board.words  # accents folded
    assert not {"la", "de", "hola"} & {w for w, _ in board.words}  # stop words left out
    assert dict(board.intents)["saludo"] >= 1
    assert sum(n for _, n in board.per_hour) == 5 and sum(n for _, n, _ in board.per_day) == 5
    assert "S/ 65.00" in text and "66.7 %" in text and "Lucía" in text

    future = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    empty = owner.get(f"/admin/dashboard?desde={future}&hasta={future}")
    assert empty.context["board"].inbound == 0 and empty.context["board"].orders == 0

    bad = owner.get("/admin/dashboard?desde=ayer&hasta=2020-01-01")
    assert bad.status_code == 200 and "«ayer» no es una fecha válida" in bad.text


def test_charts_when_chart_js_is_installed_and_tables_without_it(
    client, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(client)
    owner = login_as("admin")
    monkeypatch.setattr(dashboard_module, "chart_script", lambda: "/static/vendor/chart.umd.min.js")
    with_charts = owner.get("/admin/dashboard").text
    assert '<canvas id="chart-days"' in with_charts and "/static/vendor/chart.umd.min.js" in with_charts
    data = json.loads(with_charts.split('id="chart-data">')[1].split("</script>")[0])
    assert sum(data["per_day"]["inbound"]) == 5
    monkeypatch.setattr(dashboard_module, "chart_script", lambda: None)
    without = owner.get("/admin/dashboard").text
    assert "<canvas" not in without and 'id="table-days"' in without and 'id="table-hours"' in without


def test_conversation_exports_json_and_csv(client, login_as) -> None:
    ids = _seed(client)
    agent = login_as("agent")  # any member of the tenant may export a conversation
    exported = agent.get(f"/admin/conversations/{ids['Lucía']}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["customer"]["phone"] == "51987100001"
    texts = [m["text"] for m in data["messages"] if m["direction"] == "in"]
    assert texts == ["hola", "cuánto cuesta la torta de chocolate?", "quiero torta de chocolate"]
    assert all(m["at"].endswith("+00:00") for m in data["messages"])

    as_csv = agent.get(f"/admin/conversations/{ids['Lucía']}/export.csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [r["text"] for r in rows if r["direction"] == "in"] == texts
    assert rows[0].keys() >= {"at", "sender", "intent", "source"}


def test_orders_csv_for_the_range_escapes_formulas(client, login_as) -> None:
    ids = _seed(client)
    runtime = runtime_of(client)
    with runtime.session() as session:
        conversation = session.get(Conversation, ids['=HYPERLINK("http://x")'])
        session.add(
            Order(
                tenant_id=conversation.tenant_id,
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                number="D-3",
                status="cancelled",
                subtotal=Decimal("5"),
                total=Decimal("5"),
                created_at=datetime.now(UTC),
                delivery_address="=cmd|' /C calc'!A0",
            )
        )
    owner = login_as("owner")
    response = owner.get("/admin/orders/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_number = {r["number"]: r for r in rows}
    assert set(by_number) == {"D-1", "D-2", "D-3"}
    assert by_number["D-1"]["total"] == "65.00" and by_number["D-1"]["items"] == "1 x Torta de chocolate (TOR-CHOC)"
    assert by_number["D-3"]["customer"].startswith("'=") and by_number["D-3"]["delivery_address"].startswith("'=")
    old = owner.get("/admin/orders/export.csv?desde=2020-01-01&hasta=2020-01-31")
    assert len(list(csv.DictReader(io.StringIO(old.content.decode("utf-8-sig"))))) == 0
    assert login_as("agent").get("/admin/orders/export.csv").status_code == 403
    with runtime.session() as session:
        assert session.scalar(select(Tenant.slug).where(Tenant.id == conversation.tenant_id)) == "dulce-lima"
