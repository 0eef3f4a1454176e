"""Catalog version 2 through storage: cart lines with decimal quantities and notes, orders with
delivery, address, payment method, notes and change, as ``chasqui simulate --json`` prints them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from chasqui.conversations.service import ConversationService
from chasqui.db.session import make_engine, upgrade
from chasqui.dialogue.pricing import line_label, price_cart
from chasqui.dialogue.state import Decision, PlaceOrder
from chasqui.domain import CartLine
from chasqui.tenants.io import import_tenant
from chasqui.tenants.snapshot import load_snapshot

JUGUERIA = Path(__file__).resolve().parents[2].parent / "shared" / "scenarios" / "v2" / "jugueria.yaml"
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


def test_decimal_lines_notes_and_order_details_are_stored_and_reported() -> None:
    db = make_engine("sqlite://")
    upgrade(db)
    with Session(db) as session:
        import_tenant(session, JUGUERIA)
        snapshot = load_snapshot(session, "jugueria-dona-tere")
        assert snapshot.business.hours["sun"] == "closed" and snapshot.business.min_order == Decimal("15.00")
        assert "yapita" in (snapshot.business.haggling or "") and snapshot.business.faq[0].q.startswith("¿Hacen")
        juice = snapshot.product("JUG-PAP")
        assert juice is not None and juice.stock == 70 and [v.sku for v in juice.variants] == ["JUG-PAP-CH",
                                                                                               "JUG-PAP-GR"]
        service = ConversationService(snapshot, engine=None)  # type: ignore[arg-type]
        conversation = service.conversation_for(session, "51900100001", "Pilar", NOW)
        lines = [CartLine("JUG-PAP-GR", 1, "", ("sin azúcar",)), CartLine("JUG-PAP-CH", 1, "", ("con leche",)),
                 CartLine("MAN-KG", Decimal("1.5")), CartLine("PAN-YEMA", 4)]
        service._write_cart(session, conversation, lines)
        state = service.load_state(session, conversation)
        assert state.cart == {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1, "MAN-KG": Decimal("1.5"), "PAN-YEMA": 4}
        assert state.cart_lines == lines
        outcome = service.outcome(session, conversation, Decision(), NOW)
        assert outcome.cart == {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1, "MAN-KG": "1.5", "PAN-YEMA": 4}
        assert outcome.cart_total == "23.75"
        assert outcome.order is None

        priced = price_cart(snapshot, state.cart_lines, NOW.date())
        assert "1.5 kg × Mandarina" in [line_label(line) for line in priced.lines]
        place = PlaceOrder(
            number="00001", items=dict(state.cart), lines=priced.lines, subtotal=priced.subtotal,
            discount=priced.discount, delivery_fee=Decimal("2.00"), total=priced.total + Decimal("2.00"),
            fulfillment="delivery", zone="Surquillo", payment_method="efectivo", notes="tocar el timbre",
            address="Av. Principal 820", change_for=Decimal("50"),
        )
        inbound = service.record_customer_message(session, "51900100001", "si, confirmo", NOW)
        service._apply_order(session, conversation, place, NOW, inbound)
        order = service.outcome(session, conversation, Decision(), NOW).order
    assert order == {
        "id": "00001", "status": "pending_payment",
        "items": {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1, "MAN-KG": "1.5", "PAN-YEMA": 4}, "total": "25.75",
        "delivery": "Surquillo", "address": "Av. Principal 820", "payment_method": "efectivo",
        "notes": "tocar el timbre; Jugo de papaya (grande): sin azúcar; Jugo de papaya (chico): con leche",
        "change_for": "50.00",
    }
