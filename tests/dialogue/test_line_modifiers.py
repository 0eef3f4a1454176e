"""A line's modifiers and notes as the customer notices them: priced modifiers named with a typo or
like another product stay on their line, a count before a modifier gives it to that many units only,
variant words and courtesy are no note, and notes are the customer's whole phrases."""

from __future__ import annotations

from decimal import Decimal

from chasqui.dialogue.modifiers import read_notes
from chasqui.domain import Modifier, Product, Variant
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.normalize import normalize

BURGER = Product(
    "BUR", "Hamburguesa de la casa", price=Decimal("12.00"), stock=20, aliases=("hamburguesa",),
    variant_options=("tamano",),
    variants=(Variant("BUR-S", {"tamano": "simple"}, 10), Variant("BUR-D", {"tamano": "doble"}, 10)),
    modifiers=(Modifier("sin cebolla"), Modifier("extra queso", Decimal("2.00")),
               Modifier("papas grandes", Decimal("3.00"))))
FRIES = Product("PAP", "Porción de papas", price=Decimal("7.00"), stock=20, aliases=("papas",))
PLATE = Product("PLA", "Plato criollo", price=Decimal("20.00"), stock=20, aliases=("plato",),
                modifiers=(Modifier("salsa aparte"), Modifier("extra huevo", Decimal("2.00"))))
CATALOG = [BURGER, FRIES, PLATE]
MATCHER = CatalogMatcher(CATALOG)


def _notes(text: str):
    normalized = normalize(text)
    mentions = MATCHER.extract_normalized(normalized).products
    by_sku = {p.sku: p for p in CATALOG}
    return mentions, read_notes(normalized, mentions, by_sku.get)


def test_a_modifier_named_like_another_product_stays_on_its_line_and_a_typo_is_tolerated() -> None:
    mentions, notes = _notes("1 hamburguesa doble con estra queso y papas grandes")
    line = notes.lines[0][0]
    assert line.modifiers == ("extra queso", "papas grandes")
    assert {k for k, m in enumerate(mentions) if m.sku == "PAP"} <= notes.inside  # no separate fries


def test_a_count_before_a_modifier_gives_it_to_that_many_units_after_courtesy() -> None:
    _mentions, notes = _notes("2 platos porfa, uno con extra huevo")
    assert notes.lines[0][0].count == 1 and notes.lines[0][0].modifiers == ("extra huevo",)


def test_variant_words_are_no_note_and_notes_are_whole_phrases() -> None:
    _mentions, notes = _notes("una hamburguesa doble sin cebolla con aji aparte")
    line = notes.lines[0][0]
    assert line.modifiers == ("sin cebolla",)
    assert line.notes == "con aji aparte"
    assert "doble" not in line.notes
