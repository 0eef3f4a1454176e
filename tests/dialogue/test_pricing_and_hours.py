"""Cart pricing with promotions and business hours: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from chasqui.dialogue import hours
from chasqui.dialogue.pricing import delivery_fee, price_cart
from chasqui.domain import BotConfig, Business, DeliveryZone, Product, Promotion, TenantSnapshot

TODAY = date(2026, 12, 9)


def shop(promotions: tuple[Promotion, ...] = (), free_over: str | None = "150.00") -> TenantSnapshot:
    products = (
        Product("A", "Alfajores", price=Decimal("18.00"), stock=30),
        Product("C", "Café", price=Decimal("8.00"), stock=100),
        Product("S", "Suspiro", price=Decimal("12.00"), stock=20),
    )
    business = Business(
        name="Tienda", timezone="America/Lima", hours={"mon": "09:00-20:00", "wed": "09:00-20:00"},
        free_delivery_over=Decimal(free_over) if free_over else None,
    )
    return TenantSnapshot(id=1, slug="t", business=business, bot=BotConfig(), products=products,
                          promotions=promotions)


TWO_FOR_ONE = Promotion("2X1", "2x1", sku="A", rule={"type": "buy_x_get_y", "buy": 2, "pay": 1})
BUNDLE = Promotion("CS", "Café + suspiro", rule={"type": "bundle", "skus": ["C", "S"], "price": "17.00"})


def test_buy_two_pay_one_charges_one_box_per_pair() -> None:
    priced = price_cart(shop((TWO_FOR_ONE,)), {"A": 3}, TODAY)
    assert priced.subtotal == Decimal("54.00")
    assert priced.discount == Decimal("18.00")
    assert priced.total == Decimal("36.00")


def test_bundle_price_applies_once_per_complete_pair() -> None:
    priced = price_cart(shop((BUNDLE,)), {"C": 2, "S": 1}, TODAY)
    assert priced.total == Decimal("25.00")  # 17 for the pair + 8 for the second coffee
    assert [p.code for p in priced.promotions] == ["CS"]


def test_expired_promotion_is_not_applied() -> None:
    old = Promotion("OLD", "old", sku="A", rule={"type": "buy_x_get_y", "buy": 2, "pay": 1},
                    valid_to=date(2026, 1, 1))
    assert price_cart(shop((old,)), {"A": 2}, TODAY).total == Decimal("36.00")


def test_delivery_is_free_at_the_threshold_and_charged_below() -> None:
    tenant = shop()
    zone = DeliveryZone("Surco", Decimal("10.00"))
    assert delivery_fee(tenant, zone, Decimal("150.00")) == Decimal("0.00")
    assert delivery_fee(tenant, zone, Decimal("149.99")) == Decimal("10.00")


def test_hours_follow_the_tenant_timezone_and_days() -> None:
    business = shop().business
    wednesday_10_lima = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
    wednesday_22_lima = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    tuesday_10_lima = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    assert hours.is_open(business, wednesday_10_lima)
    assert not hours.is_open(business, wednesday_22_lima)
    assert not hours.is_open(business, tuesday_10_lima)  # no hours on Tuesday: closed
    assert hours.next_opening(business, wednesday_22_lima) == "el lunes a las 09:00"
    assert hours.days_in("y los domingos") == ["sun"]
    assert "el domingo no abrimos" in hours.describe_days(business, ["sun"])


def test_a_day_open_until_midnight_reads_24_00() -> None:
    business = Business(name="24h", timezone="America/Lima", hours={"wed": "00:00-24:00"})
    assert hours.is_open(business, datetime(2026, 12, 10, 4, 30, tzinfo=UTC))  # Wed 23:30 in Lima
