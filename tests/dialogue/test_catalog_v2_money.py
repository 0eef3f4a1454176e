"""Catalog version 2, pure: decimal quantities, variants' prices, modifiers, money amounts,
promotions on a product's variants, closed days and split shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from chasqui.dialogue import hours
from chasqui.dialogue.pricing import (
    line_label,
    merge_lines,
    price_cart,
    quantity_problem,
    units_for_amount,
)
from chasqui.domain import (
    BotConfig,
    Business,
    CartLine,
    Modifier,
    Product,
    Promotion,
    TenantSnapshot,
    Variant,
    as_quantity,
    format_quantity,
)

TODAY = date(2026, 12, 9)
JUICE = Product(
    "JUG-PAP", "Jugo de papaya", price=Decimal("6.00"), stock=70, variant_options=("tamaño",),
    variants=(Variant("JUG-PAP-CH", {"tamaño": "chico"}, 40), Variant("JUG-PAP-GR", {"tamaño": "grande"}, 30,
                                                                         Decimal("9.00"))),
    modifiers=(Modifier("sin azúcar"), Modifier("extra fruta", Decimal("1.50"))),
)
TANGERINE = Product("MAN-KG", "Mandarina", price=Decimal("4.50"), stock=Decimal("50"), unit="kg", sold_by="weight",
                    min_quantity=Decimal("0.5"))
RICE = Product("ARR-KG", "Arroz", price=Decimal("4.20"), unit="kg", sold_by="weight", step=Decimal("0.25"))
BREAD = Product("PAN", "Pan de yema", price=Decimal("0.50"), stock=200, sold_by_amount=True)
# Tue and Wed split shifts, Sunday closed, Monday not listed (closed too)
HOURS = {"tue": "07:00-14:00,16:00-20:00", "wed": "07:00-14:00,16:00-20:00", "sun": "closed"}


def shop(*promotions: Promotion) -> TenantSnapshot:
    business = Business(name="Juguería", timezone="UTC", hours=HOURS)
    return TenantSnapshot(id=1, slug="j", business=business, bot=BotConfig(),
                          products=(JUICE, TANGERINE, RICE, BREAD), promotions=promotions)


def test_a_variant_sku_is_found_with_its_product_and_price() -> None:
    tenant = shop()
    big = tenant.sellable("JUG-PAP-GR")
    assert big is not None and big.product is JUICE and big.price == Decimal("9.00")
    assert (big.name, big.stock) == ("Jugo de papaya (grande)", 30)
    small = tenant.sellable("JUG-PAP-CH")
    assert small is not None and small.price == Decimal("6.00")  # no own price: the product's
    assert tenant.sellable("JUG-PAP").variant is None and tenant.sellable("NOPE") is None
    assert tenant.product("JUG-PAP-GR") is None and tenant.product_of("JUG-PAP-GR") is JUICE


def test_weight_lines_multiply_exactly_and_whole_units_stay_ints() -> None:
    priced = price_cart(shop(), {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1, "MAN-KG": Decimal("1.5"), "PAN": 4}, TODAY)
    assert [line.line_total for line in priced.lines] == [Decimal("9.00"), Decimal("6.00"), Decimal("6.75"),
                                                          Decimal("2.00")]
    assert priced.total == Decimal("23.75")
    assert [type(line.quantity) for line in priced.lines] == [int, int, Decimal, int]
    assert [line_label(line) for line in priced.lines] == [
        "1 × Jugo de papaya (grande)", "1 × Jugo de papaya (chico)", "1.5 kg × Mandarina", "4 × Pan de yema"]


def test_priced_modifiers_add_to_the_line_and_notes_are_kept() -> None:
    lines = [CartLine("JUG-PAP-GR", 2, "bien helado", ("extra fruta", "sin azúcar")), CartLine("JUG-PAP-GR", 1)]
    priced = price_cart(shop(), lines, TODAY)
    assert [line.unit_price for line in priced.lines] == [Decimal("10.50"), Decimal("9.00")]
    assert priced.total == Decimal("30.00")
    assert line_label(priced.lines[0]) == "2 × Jugo de papaya (grande) — extra fruta, sin azúcar, bien helado"


def test_a_promotion_on_a_product_covers_its_variants() -> None:
    percent = Promotion("P10", "10% en papaya", sku="JUG-PAP", rule={"type": "percent", "percent": "10"})
    assert price_cart(shop(percent), {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1, "PAN": 2}, TODAY).discount == Decimal("1.50")
    two_for_one = Promotion("2X1", "2x1", sku="JUG-PAP", rule={"type": "buy_x_get_y", "buy": 2, "pay": 1})
    priced = price_cart(shop(two_for_one), {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1}, TODAY)
    assert priced.discount == Decimal("6.00")  # the cheaper one is free
    one_variant = Promotion("GR", "grande 2x1", sku="JUG-PAP-GR", rule={"type": "buy_x_get_y", "buy": 2, "pay": 1})
    assert price_cart(shop(one_variant), {"JUG-PAP-GR": 1, "JUG-PAP-CH": 1}, TODAY).discount == 0


def test_a_money_amount_buys_whole_units_or_a_weight() -> None:
    assert units_for_amount(BREAD, Decimal("2")) == 4
    assert units_for_amount(BREAD, "1.20") == 2  # never a fraction of a bread
    assert units_for_amount(RICE, 3) == Decimal("0.5")  # 0.714 kg rounded down to the 0.25 step
    assert units_for_amount(TANGERINE, 9) == Decimal("2")
    assert units_for_amount(BREAD, 0) == 0


def test_quantity_rules() -> None:
    assert quantity_problem(TANGERINE, Decimal("0.25")) == "min"
    assert quantity_problem(RICE, Decimal("0.3")) == "step"
    assert quantity_problem(BREAD, Decimal("1.5")) == "whole"
    assert quantity_problem(TANGERINE, Decimal("1.5")) is None
    assert as_quantity(Decimal("2.000")) == 2 and isinstance(as_quantity(Decimal("2.000")), int)
    assert format_quantity(as_quantity(Decimal("50.000"), measured=True)) == "50"
    assert format_quantity(as_quantity(Decimal("0.500"), measured=True)) == "0.5"


def test_changing_a_quantity_keeps_the_line_notes() -> None:
    stored = [CartLine("JUG-PAP-GR", 1, "sin hielo"), CartLine("JUG-PAP-CH", 1, "", ("sin azúcar",)),
              CartLine("JUG-PAP-CH", 1)]
    merged = merge_lines({"JUG-PAP-GR": 2, "JUG-PAP-CH": 2, "PAN": 4}, stored)
    assert merged == [CartLine("JUG-PAP-GR", 2, "sin hielo"), stored[1], stored[2], CartLine("PAN", 4)]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 2026-12-08 is a Tuesday


def test_split_shifts_and_closed_days() -> None:
    business = shop().business
    assert hours.is_open(business, _at(8, 10)) and hours.is_open(business, _at(8, 16))
    assert not hours.is_open(business, _at(8, 15))  # the afternoon break
    assert hours.next_opening(business, _at(8, 15)) == "hoy a las 16:00"
    assert hours.next_opening(business, _at(9, 21)) == "el martes a las 07:00"  # Thu-Mon closed
    assert not hours.is_open(business, _at(13, 10))  # Sunday: closed
    assert hours.is_closed_day(business, "sun") and hours.is_closed_day(business, "mon")
    assert not hours.is_closed_day(business, "tue")
    assert hours.hours_today(business, _at(8, 9)) == "hoy atendemos 07:00 a 14:00 y 16:00 a 20:00"
    assert hours.hours_today(business, _at(13, 9)) == "hoy no abrimos"
    assert hours.describe_days(business, ["sun", "wed"]) == (
        "el domingo no abrimos; el miércoles atendemos de 07:00 a 14:00 y 16:00 a 20:00")
    assert hours.describe_hours(business).startswith("lunes cerrado, martes 07:00 a 14:00 y 16:00 a 20:00")
