"""Quantities that are not whole units and the notes of a line, as a customer notices them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chasqui.dialogue.modifiers import LineNote, lines_of, order_note, read_notes, split_counts
from chasqui.dialogue.quantities import asked, nearest_steps
from chasqui.domain import CartLine, Modifier, Product
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.measures import find_measures
from chasqui.nlu.normalize import normalize

SUGAR = Product("AZU", "Azúcar rubia", price=Decimal("4.00"), stock=50, unit="kg", sold_by="weight",
                min_quantity=Decimal("0.25"), step=Decimal("0.25"), aliases=("azucar",))
LIVER = Product("HIG", "Hígado", price=Decimal("12.00"), stock=10, unit="kg", sold_by="weight",
                min_quantity=Decimal("0.25"), step=Decimal("0.05"), aliases=("higado",))
MEAT = Product("CAR", "Carne de res", price=Decimal("28.00"), stock=10, unit="kg", sold_by="weight",
               aliases=("carne",))
BONE = Product("HUE", "Hueso de res", price=Decimal("6.00"), stock=10, unit="kg", sold_by="weight",
               aliases=("hueso",))
BREAD = Product("PAN", "Pan francés", price=Decimal("0.20"), stock=300, sold_by_amount=True, aliases=("pan",))
EGGS = Product("HUEVO", "Huevo rosado", price=Decimal("0.60"), stock=100, aliases=("huevos",))
CABLE = Product("CAB", "Cable mellizo", price=Decimal("2.50"), stock=100, unit="m", sold_by="length",
                aliases=("cable",))
CEVICHE = Product("CEV", "Ceviche clásico", price=Decimal("28.00"), stock=20,
                  modifiers=(Modifier("sin ají"), Modifier("extra pescado", Decimal("8.00"))), aliases=("ceviche",))
CATALOG = [SUGAR, LIVER, MEAT, BONE, BREAD, EGGS, CABLE, CEVICHE]
MATCHER = CatalogMatcher(CATALOG)


def _asked(product: Product, text: str):
    normalized = normalize(text)
    mention = next(m for m in MATCHER.extract_normalized(normalized).products if m.sku == product.sku)
    return asked(product, normalized, (mention.start, mention.end))


@pytest.mark.parametrize(("text", "product", "quantity"), [
    ("medio kilo de azucar", SUGAR, "0.5"),
    ("1/2 kg de azucar", SUGAR, "0.5"),
    ("kilo y medio de azucar", SUGAR, "1.5"),
    ("1.5 kilos de azucar", SUGAR, "1.5"),
    ("un cuarto de azucar", SUGAR, "0.25"),
    ("3/4 de azucar", SUGAR, "0.75"),
    ("250 gramos de azucar", SUGAR, "0.25"),
    ("doscientos cincuenta gramos de azucar", SUGAR, "0.25"),
    ("un kilito de azucar", SUGAR, "1"),
    ("2 de carne", MEAT, "2"),
    ("carne medio kilo", MEAT, "0.5"),
    ("2 metros y medio de cable", CABLE, "2.5"),
])
def test_a_measure_is_the_products_quantity_in_its_unit(text: str, product: Product, quantity: str) -> None:
    found = _asked(product, text)
    assert found is not None and found.problem is None and found.quantity == Decimal(quantity)


def test_money_buys_whole_units_or_the_weight_rounded_down_to_the_step() -> None:
    assert _asked(BREAD, "2 soles de pan").quantity == 10
    assert _asked(BREAD, "un sol de pan").quantity == 5
    liver = _asked(LIVER, "S/ 10 de higado")
    assert liver.quantity == Decimal("0.8") and liver.problem is None  # 10 / 12 = 0.83 -> 0.80 kg


def test_below_the_minimum_off_the_step_and_weights_of_unit_products_are_problems_never_big_counts() -> None:
    assert _asked(SUGAR, "100 gramos de azucar").problem == "min"
    assert _asked(SUGAR, "300 gramos de azucar").problem == "step"
    assert nearest_steps(SUGAR, Decimal("0.3")) == (Decimal("0.25"), Decimal("0.5"))
    eggs = _asked(EGGS, "medio kilo de huevos")
    assert eggs.problem == "by_unit" and eggs.quantity == 0
    assert _asked(EGGS, "6 huevos") is None  # whole units: the count the extractor read


def test_measures_do_not_read_counts_of_dozens_as_halves() -> None:
    assert find_measures(normalize("media docena de huevos")) == []


def _notes(text: str):
    normalized = normalize(text)
    mentions = MATCHER.extract_normalized(normalized).products
    by_sku = {p.sku: p for p in CATALOG}
    return mentions, read_notes(normalized, mentions, by_sku.get)


def test_a_note_with_a_product_word_is_no_item() -> None:
    mentions, notes = _notes("2 kilos de carne sin hueso, molida")
    assert [m.sku for m in mentions] == ["CAR", "HUE"]
    assert notes.inside == {1}
    assert notes.lines[0] == (LineNote(None, (), "sin hueso, molida"),)


def test_modifiers_priced_or_free_and_one_line_each() -> None:
    _mentions, notes = _notes("un ceviche bien picante con extra pescado")
    assert notes.lines[0][0].modifiers == ("extra pescado",) and "bien picante" in notes.lines[0][0].notes
    _mentions, notes = _notes("un ceviche sin aji y otro normal")
    assert [(n, line.modifiers) for n, line in split_counts(notes.lines[0], 1)] == [(1, ("sin ají",)), (1, ())]
    _mentions, notes = _notes("2 ceviche, uno sin aji y otro normal")
    assert [n for n, _line in split_counts(notes.lines[0], 2)] == [1, 1]


def test_lines_keep_their_notes_and_add_up_to_the_cart() -> None:
    stored = [CartLine("CEV", 1, "", ("sin ají",))]
    additions = [CartLine("CEV", 1, "bien cocido")]
    lines = lines_of({"CEV": 2, "PAN": 5}, stored, additions)
    assert CartLine("CEV", 1, "", ("sin ají",)) in lines and CartLine("CEV", 1, "bien cocido") in lines
    assert CartLine("PAN", 5) in lines


def test_order_notes_are_the_customers_words() -> None:
    assert order_note("a barranco, calle bolognesi 345, dejar en portería") == "dejar en portería"
    assert order_note("mandalo a surquillo") is None
