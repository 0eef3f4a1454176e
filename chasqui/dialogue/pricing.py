"""Cart pricing with the tenant's promotions. Pure: no I/O, Decimal amounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from chasqui.domain import (
    CartLine,
    DeliveryZone,
    Product,
    Promotion,
    Quantity,
    TenantSnapshot,
    as_quantity,
    format_quantity,
)

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass(frozen=True)
class PricedLine:
    sku: str  # the product's or the variant's
    name: str  # "Jugo de papaya (grande)" for a variant
    quantity: Quantity  # int units, or Decimal for products sold by weight/length/volume
    unit_price: Decimal  # priced modifiers included
    line_total: Decimal
    product_sku: str = ""  # the product's SKU (== sku unless a variant)
    variant: str = ""  # the variant's option values, "38, negro"
    unit: str = ""  # "kg" for measured products
    measured: bool = False
    notes: str = ""
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppliedPromotion:
    code: str
    name: str
    saving: Decimal


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal  # before promotions
    promotions: tuple[AppliedPromotion, ...]
    discount: Decimal
    total: Decimal  # after promotions, before delivery

    @property
    def is_empty(self) -> bool:
        return not self.lines


def active_promotions(tenant: TenantSnapshot, today: date) -> list[Promotion]:
    return [
        p
        for p in tenant.promotions
        if p.active
        and (p.valid_from is None or p.valid_from <= today)
        and (p.valid_to is None or today <= p.valid_to)
    ]


def _matches(sku: str, line: PricedLine) -> bool:
    """A promotion's SKU names this line: the line's own SKU, or its product (all its variants)."""
    return sku in (line.sku, line.product_sku)


def _whole(quantity: Decimal) -> int:
    return int(quantity.to_integral_value(rounding=ROUND_DOWN)) if quantity > 0 else 0


def _buy_x_pay_y_saving(promo: Promotion, lines: Sequence[PricedLine], left: list[Decimal]) -> Decimal:
    buy, pay = int(promo.rule.get("buy", 0)), int(promo.rule.get("pay", 0))
    if not promo.sku or buy <= 0 or pay < 0 or pay >= buy:
        return Decimal(0)
    units: list[Decimal] = []  # one unit price per whole unit the promotion covers
    for line, quantity in zip(lines, left, strict=True):
        if _matches(promo.sku, line) and not line.measured:
            units += [line.unit_price] * _whole(quantity)
    groups = len(units) // buy
    if groups <= 0:
        return Decimal(0)
    free = sorted(units)[: (buy - pay) * groups]  # the cheapest units are the free ones
    return money(sum(free, Decimal(0)))


def _bundle_saving(promo: Promotion, lines: Sequence[PricedLine], left: list[Decimal]) -> Decimal:
    skus = [str(s) for s in promo.rule.get("skus", [])]
    slots = [[i for i, line in enumerate(lines) if _matches(s, line) and not line.measured] for s in skus]
    if not skus or any(not slot for slot in slots):
        return Decimal(0)
    bundles = min(sum(_whole(left[i]) for i in slot) for slot in slots)
    if bundles <= 0:
        return Decimal(0)
    regular = sum((lines[slot[0]].unit_price for slot in slots), Decimal(0))
    saving = (regular - money(promo.rule.get("price", regular))) * bundles
    if saving <= 0:
        return Decimal(0)
    for slot in slots:  # a unit counts in one bundle only
        needed = Decimal(bundles)
        for i in slot:
            take = min(needed, Decimal(_whole(left[i])))
            left[i] -= take
            needed -= take
    return money(saving)


def _percent_saving(promo: Promotion, lines: Sequence[PricedLine], left: list[Decimal]) -> Decimal:
    percent = Decimal(str(promo.rule.get("percent", 0)))
    base = sum(
        (line.unit_price * quantity for line, quantity in zip(lines, left, strict=True)
         if promo.sku is None or _matches(promo.sku, line)),
        Decimal(0),
    )
    return money(base * percent / 100) if percent > 0 else Decimal(0)


RULES = {"buy_x_get_y": _buy_x_pay_y_saving, "bundle": _bundle_saving, "percent": _percent_saving}


def priced_line(tenant: TenantSnapshot, line: CartLine) -> PricedLine | None:
    """A cart line at catalog prices (the variant's price, priced modifiers added); None when the SKU
    is unknown or the quantity is not positive."""
    sellable = tenant.sellable(line.sku)
    if sellable is None or Decimal(line.quantity) <= 0:
        return None
    product = sellable.product
    extras = {m.name: m.price for m in product.modifiers}
    unit_price = money(sellable.price + sum((extras.get(name, Decimal(0)) for name in line.modifiers), Decimal(0)))
    quantity = as_quantity(line.quantity, product.measured)
    return PricedLine(
        sku=line.sku,
        name=sellable.name,
        quantity=quantity,
        unit_price=unit_price,
        line_total=money(unit_price * quantity),
        product_sku=product.sku,
        variant=sellable.variant.label if sellable.variant else "",
        unit=product.unit if product.measured else "",
        measured=product.measured,
        notes=line.notes,
        modifiers=tuple(line.modifiers),
    )


def price_cart(
    tenant: TenantSnapshot, cart: Mapping[str, Quantity] | Sequence[CartLine], today: date
) -> PricedCart:
    """Price a cart ({sku: qty}, or its lines with notes and modifiers): lines at catalog prices, then
    each active promotion once. A promotion naming a product applies to all its variants."""
    items = [CartLine(sku, qty) for sku, qty in cart.items()] if isinstance(cart, Mapping) else list(cart)
    lines = [priced for item in items if (priced := priced_line(tenant, item)) is not None]
    left = [Decimal(line.quantity) for line in lines]
    applied: list[AppliedPromotion] = []
    for promo in active_promotions(tenant, today):
        rule = RULES.get(str(promo.rule.get("type", "")))
        saving = rule(promo, lines, left) if rule else Decimal(0)
        if saving > 0:
            applied.append(AppliedPromotion(promo.code, promo.name, saving))
    subtotal = money(sum((line.line_total for line in lines), Decimal(0)))
    discount = money(sum((a.saving for a in applied), Decimal(0)))
    return PricedCart(tuple(lines), subtotal, tuple(applied), discount, money(subtotal - discount))


def line_label(line: PricedLine) -> str:
    """How a line reads in the cart, the read-back and the staff notice: ``2 × Torta de chocolate``,
    ``1.5 kg × Mandarina``, ``1 × Jugo de papaya (grande) — sin azúcar, con leche``."""
    quantity = format_quantity(line.quantity)
    amount = f"{quantity} {line.unit}" if line.measured and line.unit else quantity
    extras = ", ".join([*line.modifiers, *([line.notes] if line.notes else [])])
    return f"{amount} × {line.name}" + (f" — {extras}" if extras else "")


def merge_lines(cart: Mapping[str, Quantity], stored: Sequence[CartLine]) -> list[CartLine]:
    """The lines of a cart given as {sku: total}, keeping the notes and modifiers of the stored lines:
    a SKU whose total did not change keeps its lines as they are; a changed one becomes one line with
    the new total and its first stored line's notes; a new SKU, a plain line."""
    by_sku: dict[str, list[CartLine]] = {}
    for line in stored:
        by_sku.setdefault(line.sku, []).append(line)
    merged: list[CartLine] = []
    for sku, quantity in cart.items():
        if Decimal(quantity) <= 0:
            continue
        old = by_sku.get(sku, [])
        if old and sum((Decimal(line.quantity) for line in old), Decimal(0)) == Decimal(quantity):
            merged += old
        elif old:
            merged.append(CartLine(sku, quantity, old[0].notes, old[0].modifiers))
        else:
            merged.append(CartLine(sku, quantity))
    return merged


def cart_totals(lines: Sequence[CartLine]) -> dict[str, Quantity]:
    """{sku: total quantity} of cart lines (two lines of one SKU add up)."""
    totals: dict[str, Quantity] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return totals


def units_for_amount(product: Product, amount: Decimal | int | str, price: Decimal | None = None) -> Quantity:
    """How much a money amount buys ("un sol de pan", "3 soles de arroz"): whole units for a product
    sold by the unit (S/ 2 of bread at 0.50 = 4), else a Decimal quantity rounded down to the product's
    step (or to 3 places). ``price``: a variant's price, when not the product's. 0 when it buys nothing."""
    unit_price = Decimal(str(product.price if price is None else price))
    value = Decimal(str(amount))
    if unit_price <= 0 or value <= 0:
        return Decimal(0) if product.measured else 0
    if not product.measured:
        return int(value // unit_price)
    quantity = value / unit_price
    step = product.step if product.step and product.step > 0 else None
    quantity = (quantity // step) * step if step else quantity.quantize(Decimal("0.001"), rounding=ROUND_DOWN)
    return as_quantity(quantity, measured=True)


def quantity_problem(product: Product, quantity: Quantity) -> str | None:
    """Why a quantity cannot be sold: ``"min"`` (below min_quantity), ``"step"`` (not a multiple of
    step), ``"whole"`` (a fraction of a product sold by the unit); None when it can."""
    value = Decimal(str(quantity))
    if not product.measured and value != value.to_integral_value():
        return "whole"
    if product.min_quantity is not None and value < product.min_quantity:
        return "min"
    if product.step and product.step > 0 and value % product.step != 0:
        return "step"
    return None


def below_min_order(tenant: TenantSnapshot, subtotal: Decimal) -> bool:
    """Delivery is refused below the tenant's minimum order (``business.delivery.min_order``)."""
    minimum = tenant.business.min_order
    return minimum is not None and subtotal < minimum


def delivery_fee(tenant: TenantSnapshot, zone: DeliveryZone | None, amount: Decimal) -> Decimal:
    """Fee for delivering ``amount`` to ``zone``; free at or above the tenant's threshold."""
    if zone is None:
        return Decimal("0.00")
    free_over = tenant.business.free_delivery_over
    if free_over is not None and amount >= free_over:
        return Decimal("0.00")
    return money(zone.fee)
