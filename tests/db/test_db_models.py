"""Every model stores and returns its values unchanged on every backend (Decimal, JSON, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from chasqui.db import models as m
from chasqui.db.models import Base
from chasqui.db.session import session_scope

LIMA = timezone(timedelta(hours=-5))
WHEN = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=LIMA)  # 14:26:53.589793 UTC
LATER = datetime(2026, 3, 15, 23, 59, 59, 999999, tzinfo=UTC)
BLOB = bytes(range(256)) * 300  # 76.8 kB: more than a MySQL BLOB holds
RAW = {"entry": [{"id": "1", "changes": [{"value": {"text": "holaaa 😊 ñandú", "n": 1.5, "ok": True}}]}]}


def _graph() -> list[Base]:
    """One row of every model, every column set to a non-default value."""
    tenant = m.Tenant(
        id=7,
        slug="dulce-lima",
        name="Pastelería Dulce Lima",
        active=False,
        phone_number_id="109876543210",
        display_phone_number="51987654321",
        waba_id="102030405060",
        access_token_encrypted="gAAAA-token",
        app_secret_encrypted="gAAAA-secret",
        verify_token_encrypted="gAAAA-verify",
        verify_token_hash="0" * 64,
        created_at=WHEN,
        updated_at=LATER,
    )
    user = m.User(
        id=3,
        email="carla@example.pe",
        name="Carla",
        password_hash="$argon2id$v=19$x",
        is_superadmin=True,
        active=False,
        created_at=WHEN,
        updated_at=LATER,
    )
    contact = m.Contact(
        id=11,
        tenant_id=7,
        phone="51987000001",
        name="Lucía",
        alias="la de Surco",
        labels=["vip", "ñ"],
        created_at=WHEN,
        updated_at=LATER,
    )
    conversation = m.Conversation(
        id=13,
        tenant_id=7,
        contact_id=11,
        state="paused",
        paused_until=LATER,
        assignee_user_id=3,
        context={"last_sku": "TOR-CHOC", "history": [1, 2.5, None, "😊"], "nested": {"a": {"b": []}}},
        last_message_at=WHEN,
        unread_count=4,
        created_at=WHEN,
        updated_at=LATER,
    )
    message = m.Message(
        id=17,
        tenant_id=7,
        conversation_id=13,
        direction="in",
        sender="customer",
        type="image",
        text="te mandé la captura 📸",
        media={"id": "m1", "mime_type": "image/jpeg"},
        wamid="wamid.HBgLNTE5ODcwMDAwMDEVAgASGBQzQUFERjg0NDEzRDY5M0Y1NEE3MQA=",
        status="received",
        intent="confirmar_pago",
        confidence=0.9312345678901234,
        source="ml",
        raw=RAW,
        processed=True,
        created_at=WHEN,
    )
    cart = m.Cart(id=19, tenant_id=7, conversation_id=13, created_at=WHEN, updated_at=LATER)
    order = m.Order(
        id=23,
        tenant_id=7,
        conversation_id=13,
        contact_id=11,
        number="A-0001",
        status="paid",
        fulfillment="delivery",
        zone="Surco",
        delivery_address="Av. Primavera 123, dpto 4",
        delivery_fee=Decimal("10.00"),
        subtotal=Decimal("9999999999.99"),
        discount=Decimal("0.01"),
        total=Decimal("1234.50"),
        payment_method="yape",
        change_for=Decimal("50.00"),
        notes="tocar el timbre",
        voucher_media={"id": "v1", "sha256": "ab"},
        created_at=WHEN,
        confirmed_at=WHEN,
        paid_at=LATER,
        cancelled_at=LATER,
    )
    return [
        tenant,
        user,
        m.PlatformSetting(key="test_setting", value="gAAAA-x", is_secret=True, updated_at=WHEN),
        m.BusinessSettings(
            id=5,
            tenant_id=7,
            description="Tortas",
            country="PE",
            language="es-PE",
            timezone="America/Lima",
            currency="PEN",
            currency_symbol="S/",
            address="Av. Larco 345",
            hours={"mon": "09:00-20:00"},
            delivery_enabled=True,
            pickup_address="Larco",
            free_delivery_over=Decimal("150.00"),
            min_order=Decimal("20.00"),
            orders_when_closed=False,
            policies=[{"topic": "cambios", "text": "Dentro de 7 días."}],
            haggling="Ya es precio de fábrica 🙏",
            faq=[{"q": "¿Hacen tortas personalizadas?", "a": "Sí, con 48 horas."}],
            documents=["carta.pdf"],
            updated_at=WHEN,
        ),
        m.BotSettings(
            id=5,
            tenant_id=7,
            name="Sofía",
            personality="amable",
            greeting="¡Hola! 👋",
            prompt="sé breve",
            mode="flow",
            confidence_threshold=Decimal("0.75"),
            context_messages=7,
            escalation_keywords=["asesor", "libro de reclamaciones"],
            intervention_enabled=False,
            intervention_timeout_seconds=600,
            operator_numbers=["51955000111"],
            updated_at=WHEN,
        ),
        m.NotificationSettings(
            id=5,
            tenant_id=7,
            notify_sales=False,
            notify_escalations=False,
            numbers=["51911222333"],
            template_name="aviso_equipo_" + "x" * 499,
            template_language="es_PE",
            updated_at=WHEN,
        ),
        m.PaymentMethod(
            id=5, tenant_id=7, code="yape", name="Yape", details="al 987", enabled=False, position=2
        ),
        m.DeliveryZone(id=5, tenant_id=7, name="Surco", fee=Decimal("10.50"), eta="60-90 min", position=3,
                       aliases=["surquillo", "SURCO"]),
        m.Product(
            id=29,
            tenant_id=7,
            sku="TOR-CHOC",
            name="Torta de chocolate",
            category="Tortas",
            price=Decimal("65.10"),
            stock=Decimal("6.000"),
            unit="unidad",
            description="húmeda",
            aliases=["chocotorta"],
            image_url="https://example.pe/t.jpg",
            active=False,
            position=4,
            sold_by="weight",
            min_quantity=Decimal("0.250"),
            step=Decimal("0.125"),
            sold_by_amount=True,
            modifiers=["sin azúcar", {"name": "extra fudge", "price": "5.00"}],
            variant_options=["tamaño"],
            created_at=WHEN,
            updated_at=LATER,
        ),
        m.Promotion(
            id=31,
            tenant_id=7,
            code="ALF2X1",
            name="2x1",
            description="lleva 2",
            sku="TOR-CHOC",
            rule={"type": "buy_x_get_y", "buy": 2, "pay": 1},
            valid_from=date(2026, 1, 1),
            valid_to=date(2027, 12, 31),
            active=False,
            position=1,
        ),
        m.ReplyTemplate(id=37, tenant_id=7, key="saludo", variant=2, text="¡Hola {customer}! 😊"),
        contact,
        conversation,
        message,
        m.Escalation(
            id=41,
            tenant_id=7,
            conversation_id=13,
            reason="queja_reclamo",
            detail="llegó frío",
            opened_at=WHEN,
            resolved_at=LATER,
            resolved_by="user:3",
        ),
        cart,
        m.CartItem(id=43, tenant_id=7, cart_id=19, sku="TOR-CHOC", quantity=Decimal("2.000"), notes="", added_at=WHEN),
        order,
        m.OrderItem(
            id=47,
            tenant_id=7,
            order_id=23,
            sku="TOR-CHOC",
            name="Torta de chocolate",
            unit_price=Decimal("65.00"),
            quantity=Decimal("3.000"),
            line_total=Decimal("195.00"),
            notes="con dedicatoria",
            modifiers=["extra fudge"],
        ),
        m.Intent(id=53, name="saludo_test", description="greeting only"),
        m.TrainingSample(
            id=59,
            tenant_id=7,
            text="holaaa",
            intent="saludo",
            source="llm",
            confirmed=True,
            ml_intent="despedida",
            ml_confidence=0.41,
            message_id=17,
            platform_confirmed=True,
            created_at=WHEN,
        ),
        m.ModelVersion(
            id=61,
            tenant_id=7,
            version=3,
            status="active",
            artifact=BLOB,
            sha256="a" * 64,
            metrics={"accuracy": 0.91, "per_intent": {"saludo": {"f1": 1.0}}},
            sample_count=1234,
            duration_s=12.5,
            created_at=WHEN,
        ),
        m.Membership(id=67, user_id=3, tenant_id=7, role="agent", created_at=WHEN),
        m.OutboxMessage(
            id=71,
            tenant_id=7,
            conversation_id=13,
            message_id=17,
            to="51987000001",
            payload={"type": "text", "text": {"body": "¡Gracias! 🙌"}},
            status="failed",
            attempts=5,
            next_attempt_at=LATER,
            last_error="131047 re-engagement",
            wamid="wamid.out1",
            created_at=WHEN,
            sent_at=LATER,
        ),
        m.WebhookEvent(
            id=73,
            tenant_id=7,
            received_at=WHEN,
            body='{"object":"whatsapp_business_account"}' * 3000,
            signature_ok=True,
            processed=True,
            error="boom",
        ),
        m.AuditLog(
            id=79, tenant_id=7, user_id=3, action="tenant.import", detail={"slug": "dulce-lima"}, at=WHEN
        ),
        m.LlmUsage(
            id=83,
            tenant_id=7,
            day=date(2026, 3, 14),
            model="gpt-4o-mini",
            requests=12,
            failures=2,
            prompt_tokens=2_000_000_000,
            completion_tokens=5678,
            cost_usd=Decimal("12345678.123456"),
            updated_at=WHEN,
        ),
        m.ApiToken(
            id=89,
            tenant_id=7,
            name="Integración contable",
            token_hash="b" * 64,
            prefix="chq_AbCd",
            created_by_user_id=3,
            created_at=WHEN,
            last_used_at=LATER,
            revoked_at=None,
        ),
        m.PanelSession(
            id=91,
            token_hash="c" * 64,
            user_id=3,
            tenant_id=7,
            data={"csrf": "x" * 32, "flash": "Guardado ✓"},
            ip="2001:db8::1",
            user_agent="Mozilla/5.0 (Android 14) Chrome/131",
            created_at=WHEN,
            last_seen_at=LATER,
            revoked_at=None,
        ),
        m.CannedResponse(id=97, tenant_id=7, shortcut="horario", text="De 9 a 7 😊", position=2, created_at=WHEN),
        m.ConversationNote(
            id=101, tenant_id=7, conversation_id=13, user_id=3, text="Pidió factura con RUC", created_at=WHEN
        ),
        m.ProductVariant(
            id=103,
            tenant_id=7,
            product_id=29,
            sku="TOR-CHOC-GR",
            options={"tamaño": "grande"},
            stock=Decimal("1.500"),
            price=Decimal("80.00"),
            active=False,
            position=2,
        ),
        # a second line of the same SKU, told apart by its notes (catalog version 2)
        m.CartItem(id=107, tenant_id=7, cart_id=19, sku="TOR-CHOC", quantity=Decimal("1.250"), notes="sin velas",
                   modifiers=["sin azúcar"], added_at=WHEN),
    ]


def _store(engine: Engine, rows: list[Base]) -> None:
    """Insert in the given (parent-first) order: the rows are linked by ids, not relationships."""
    with session_scope(engine) as session:
        for row in rows:
            session.add(row)
            session.flush()


def _values(obj: Base) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def test_the_graph_covers_every_table() -> None:
    assert {type(o).__table__.name for o in _graph()} == set(Base.metadata.tables)


def test_every_model_round_trips(db_engine: Engine) -> None:
    written = _graph()
    expected = {(type(o), inspect(o).mapper.primary_key_from_instance(o)[0]): _values(o) for o in written}
    _store(db_engine, written)

    with Session(db_engine) as session:
        for (model, pk), values in expected.items():
            row = session.get(model, pk)
            assert row is not None, model
            got = _values(row)
            assert got == values, model.__name__
            for key, value in got.items():
                if isinstance(value, datetime):
                    assert value.utcoffset() == timedelta(0), f"{model.__name__}.{key} not UTC"
                if isinstance(value, Decimal):
                    assert str(value) == str(values[key]), f"{model.__name__}.{key} lost its scale"
        order = session.get(m.Order, 23)
        assert str(order.subtotal) == "9999999999.99"
        assert order.created_at.hour == 14 and order.created_at.microsecond == 589793
        assert session.get(m.ModelVersion, 61).artifact == BLOB


def test_defaults_are_filled_and_datetimes_are_utc(db_engine: Engine) -> None:
    with session_scope(db_engine) as session:
        tenant = m.Tenant(slug="t", name="T")
        session.add(tenant)
        session.flush()
        product = m.Product(tenant_id=tenant.id, sku="A", name="a", price=Decimal("1"))
        session.add(product)
    with Session(db_engine) as session:
        product = session.scalar(select(m.Product))
        assert (product.stock, product.active, product.aliases, product.category) == (0, True, [], "")
        assert product.price == Decimal("1.00")
        assert product.created_at.tzinfo is not None and product.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - product.created_at) < timedelta(minutes=5)


def test_naive_datetimes_are_refused(db_engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_scope(db_engine) as session:
        session.add(m.Tenant(slug="t", name="T", created_at=datetime(2026, 1, 1, 12, 0)))


def test_uniqueness_is_scoped_by_tenant(db_engine: Engine) -> None:
    with session_scope(db_engine) as session:
        a, b = m.Tenant(slug="a", name="A"), m.Tenant(slug="b", name="B")
        session.add_all([a, b])
        session.flush()
        for tenant in (a, b):  # the same SKU, phone and order number in two tenants is fine
            session.add(m.Product(tenant_id=tenant.id, sku="TOR-CHOC", name="x", price=Decimal("1")))
            session.add(m.Contact(tenant_id=tenant.id, phone="51987000001"))
            session.add(m.Order(tenant_id=tenant.id, number="1", subtotal=Decimal(0), total=Decimal(0)))
        tenant_a = a.id

    for row in (
        m.Product(tenant_id=tenant_a, sku="TOR-CHOC", name="dup", price=Decimal("2")),
        m.Contact(tenant_id=tenant_a, phone="51987000001"),
        m.Order(tenant_id=tenant_a, number="1", subtotal=Decimal(0), total=Decimal(0)),
    ):
        with pytest.raises(IntegrityError), session_scope(db_engine) as session:
            session.add(row)
    # Case matters on every backend (MariaDB compares with a binary collation).
    with session_scope(db_engine) as session:
        session.add(m.Product(tenant_id=tenant_a, sku="tor-choc", name="lower", price=Decimal("2")))
    with Session(db_engine) as session:
        assert session.scalar(select(func.count()).select_from(m.Product)) == 3


def test_a_whatsapp_message_id_is_stored_once(db_engine: Engine) -> None:
    graph = _graph()
    _store(db_engine, [graph[0], graph[1], graph[11], graph[12]])
    rows = [
        m.Message(tenant_id=7, conversation_id=13, direction="in", sender="customer", wamid="wamid.X"),
        m.Message(tenant_id=7, conversation_id=13, direction="in", sender="customer", wamid="wamid.X"),
    ]
    with session_scope(db_engine) as session:
        session.add(rows[0])
    with pytest.raises(IntegrityError), session_scope(db_engine) as session:
        session.add(rows[1])
    with session_scope(db_engine) as session:  # many messages without a wamid (bot replies not sent yet)
        for _ in range(2):
            session.add(m.Message(tenant_id=7, conversation_id=13, direction="out", sender="bot"))


def test_invalid_enumerated_values_are_refused(db_engine: Engine) -> None:
    graph = _graph()
    _store(db_engine, [graph[0], graph[1], graph[11]])
    # IntegrityError on SQLite/PostgreSQL, OperationalError 4025 on MariaDB
    with pytest.raises(DBAPIError, match="ck_conversations_state"), session_scope(db_engine) as session:
        session.add(m.Conversation(tenant_id=7, contact_id=11, state="sleeping"))


def test_deleting_a_tenant_deletes_its_rows(db_engine: Engine) -> None:
    _store(db_engine, _graph())
    with session_scope(db_engine) as session:
        session.delete(session.get(m.Tenant, 7))
    with Session(db_engine) as session:
        for model in (m.Product, m.Message, m.Order, m.OrderItem, m.ReplyTemplate, m.Membership):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
        assert session.get(m.User, 3) is not None  # users are not tenant-owned
