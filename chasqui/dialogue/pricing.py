"""Cart pricing with the tenant's promotions. Pure: no I/O, Decimal amounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chasqui.domain import DeliveryZone, Promotion, TenantSnapshot

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


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


def _buy_x_pay_y_saving(promo: Promotion, qty: dict[str, int], prices: Mapping[str, Decimal]) -> Decimal:
    buy, pay = int(promo.rule.get("buy", 0)), int(promo.rule.get("pay", 0))
    if not promo.sku or buy <= 0 or pay < 0 or pay >= buy or qty.get(promo.sku, 0) < buy:
        return Decimal(0)
    groups = qty[promo.sku] // buy
    return money(prices[promo.sku] * (buy - pay) * groups)


def _bundle_saving(promo: Promotion, qty: dict[str, int], prices: Mapping[str, Decimal]) -> Decimal:
    skus = [str(s) for s in promo.rule.get("skus", [])]
    if not skus or any(s not in prices for s in skus):
        return Decimal(0)
    bundles = min(qty.get(s, 0) for s in skus)
    if bundles <= 0:
        return Decimal(0)
    regular = sum((prices[s] for s in skus), Decimal(0))
    saving = (regular - money(promo.rule.get("price", regular))) * bundles
    if saving <= 0:
        return Decimal(0)
    for s in skus:  # a unit counts in one bundle only
        qty[s] -= bundles
    return money(saving)


def _percent_saving(promo: Promotion, qty: dict[str, int], prices: Mapping[str, Decimal]) -> Decimal:
    percent = Decimal(str(promo.rule.get("percent", 0)))
    skus = [promo.sku] if promo.sku else list(qty)
    base = sum((prices[s] * qty.get(s, 0) for s in skus if s in prices), Decimal(0))
    return money(base * percent / 100) if percent > 0 else Decimal(0)


RULES = {"buy_x_get_y": _buy_x_pay_y_saving, "bundle": _bundle_saving, "percent": _percent_saving}


def price_cart(tenant: TenantSnapshot, cart: Mapping[str, int], today: date) -> PricedCart:
    """Price a cart {sku: qty}: lines at catalog prices, then each active promotion once."""
    lines: list[PricedLine] = []
    prices: dict[str, Decimal] = {}
    for sku, quantity in cart.items():
        product = tenant.product(sku)
        if product is None or quantity <= 0:
            continue
        prices[sku] = money(product.price)
        lines.append(PricedLine(sku, product.name, quantity, prices[sku], money(prices[sku] * quantity)))
    remaining = {line.sku: line.quantity for line in lines}
    applied: list[AppliedPromotion] = []
    for promo in active_promotions(tenant, today):
        rule = RULES.get(str(promo.rule.get("type", "")))
        saving = rule(promo, remaining, prices) if rule else Decimal(0)
        if saving > 0:
            applied.append(AppliedPromotion(promo.code, promo.name, saving))
    subtotal = money(sum((line.line_total for line in lines), Decimal(0)))
    discount = money(sum((a.saving for a in applied), Decimal(0)))
    return PricedCart(tuple(lines), subtotal, tuple(applied), discount, money(subtotal - discount))


def delivery_fee(tenant: TenantSnapshot, zone: DeliveryZone | None, amount: Decimal) -> Decimal:
    """Fee for delivering ``amount`` to ``zone``; free at or above the tenant's threshold."""
    if zone is None:
        return Decimal("0.00")
    free_over = tenant.business.free_delivery_over
    if free_over is not None and amount >= free_over:
        return Decimal("0.00")
    return money(zone.fee)
