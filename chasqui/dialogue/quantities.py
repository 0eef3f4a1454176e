"""Quantities that are not whole units: what a measure or a money amount said for a product means.

"kilo y medio de mandarina" -> 1.5 (kg); "250 gramos" of a product sold by kg -> 0.25; "2 de pechuga"
-> 2 (kg); "2 soles de pan" (sold by amount, 0.50) -> 4 loaves; "S/ 10 de hígado" (12.00 the kg,
step 0.05) -> 0.8 kg, rounded down to the step. Below the minimum, off the step, a weight asked of a
product sold by the unit, or money that buys nothing: a problem the dialogue says plainly, never a
silent rounding nor a huge count. Pure functions over the snapshot's product and the normalized text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from chasqui.dialogue.pricing import quantity_problem, units_for_amount

__all__ = ["Asked", "amount_text", "asked", "nearest_steps", "product_unit", "quantity_problem"]
from chasqui.domain import Product, Quantity, as_quantity, format_quantity
from chasqui.nlu.measures import Measure, attached, find_measures, in_unit, unit_of

DEFAULT_UNITS = {"weight": "kg", "length": "m", "volume": "l"}


@dataclass(frozen=True)
class Asked:
    """What the customer asked of one product, read from a measure or a money amount."""

    quantity: Quantity  # in the cart's terms (whole units, or a Decimal in the product's unit)
    problem: str | None = None  # min | step | whole | by_unit | nothing
    money: Decimal | None = None  # the amount said ("2 soles"), when one was


def product_unit(product: Product) -> str | None:
    """The canonical unit of a measured product ("kg" for unit "kg" or "kilo"; by sold_by otherwise)."""
    return unit_of(product.unit) or DEFAULT_UNITS.get(product.sold_by)


def asked(product: Product, normalized: str, span: tuple[int, int] | None, price: Decimal | None = None,
          measures: list[Measure] | None = None) -> Asked | None:
    """The quantity a measure or money amount asks of ``product``, for the mention at characters
    ``span`` of the normalized text (None: the message names no product, "dame medio kilo" about
    the product in focus). None when nothing in the text is a measure for it: the caller keeps its
    count of units."""
    measures = find_measures(normalized) if measures is None else measures
    if span is not None:
        measure = attached(normalized, measures, *span)
    else:
        measure = next((m for m in measures if m.unit or m.money or m.fraction), None)
        if measure is None and product.measured and len(measures) == 1:
            measure = measures[0]  # "ponme 2" about a product sold by kg: 2 kg
    if measure is None:
        return None
    if measure.money:
        if not (product.sold_by_amount or product.measured):
            return None
        quantity = units_for_amount(product, measure.value, price)
        problem = "nothing" if quantity <= 0 else (quantity_problem(product, quantity) if product.measured else None)
        return Asked(quantity, problem if problem != "step" else None, measure.value)
    if not product.measured:
        if measure.unit is None:
            return None
        units = in_unit(measure, unit_of(product.unit))  # "2 kilos de clavos" sold by the kilo bag: 2
        if units is not None and unit_of(product.unit) is not None:
            return Asked(int(units)) if units == units.to_integral_value() and units > 0 else Asked(0, "whole")
        return Asked(0, "by_unit")  # "100 gramos" of something sold by the unit: never 100 units
    value = in_unit(measure, product_unit(product))
    if value is None:
        return Asked(0, "by_unit")
    quantity = as_quantity(value, measured=True)
    return Asked(quantity, quantity_problem(product, quantity))


def amount_text(product: Product, quantity: Quantity) -> str:
    """ "1.5 kg", "250 g"... as the cart writes it: "2" for whole units."""
    text = format_quantity(quantity)
    return f"{text} {product.unit}" if product.measured and product.unit else text


def nearest_steps(product: Product, quantity: Quantity) -> tuple[Decimal, Decimal]:
    """The sellable quantities right below and above an off-step one (never below the minimum)."""
    step = product.step or Decimal(1)
    value = Decimal(str(quantity))
    lower = (value / step).to_integral_value(rounding=ROUND_FLOOR) * step
    upper = (value / step).to_integral_value(rounding=ROUND_CEILING) * step
    minimum = product.min_quantity or step
    return max(lower, minimum).normalize(), max(upper, minimum).normalize()
