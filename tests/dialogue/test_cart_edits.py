"""Changes to what is already in the cart, as a customer notices them: a swap keeps the count and the
size, a partial remove leaves the rest, a count goes to the line it names, a note never adds items,
"del mismo otro" adds one of the same line, "borra todo, mejor X" starts over. None places an order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fakes.shops import engine_for_data

from chasqui.dialogue import compound
from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import ConversationState, Decision

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 9, 17, 0, tzinfo=UTC)  # Wednesday 12:00 in Lima

_SIZES = [{"suffix": "PER", "tamaño": "personal"}, {"suffix": "FUE", "tamaño": "fuente"}]


def _sized(sku: str, name: str, category: str, aliases: list[str], prices: tuple[str, str], **extra) -> dict:
    variants = [{"sku": f"{sku}-{s['suffix']}", "tamaño": s["tamaño"], "stock": 30, "price": p}
                for s, p in zip(_SIZES, prices, strict=True)]
    return {"sku": sku, "name": name, "category": category, "price": prices[0], "aliases": aliases,
            "variant_options": ["tamaño"], "variants": variants, **extra}


_CATALOG = [
    _sized("POL", "Pollo al tamarindo", "Platos", ["pollo tamarindo", "pollo"], ("22.00", "40.00"),
           modifiers=["sin cebolla china"]),
    _sized("KAM", "Kam lu wantan", "Platos", ["kam lu", "kamlu"], ("25.00", "46.00"),
           modifiers=["sin cebolla china"]),
    {"sku": "INC", "name": "Inca Kola", "category": "Bebidas", "price": "4.00", "aliases": ["inca", "inka"],
     "variant_options": ["tamaño"], "variants": [{"sku": "INC-500", "tamaño": "500 ml", "stock": 50},
                                                 {"sku": "INC-15", "tamaño": "1.5 L", "stock": 50, "price": "9.00"}]},
    {"sku": "COC", "name": "Coca-Cola", "category": "Bebidas", "price": "4.00", "aliases": ["coca"],
     "variant_options": ["tamaño"], "variants": [{"sku": "COC-500", "tamaño": "500 ml", "stock": 50},
                                                 {"sku": "COC-15", "tamaño": "1.5 L", "stock": 50, "price": "9.00"}]},
    {"sku": "BAL-S45", "name": "Balón Solgas 45 kg", "category": "Gas", "price": "215.00", "stock": 5,
     "aliases": ["solgas de 45"]},
    {"sku": "BAL-L10", "name": "Balón Limagas 10 kg", "category": "Gas", "price": "45.00", "stock": 5,
     "aliases": ["limagas"]},
    {"sku": "BAL-L45", "name": "Balón Limagas 45 kg", "category": "Gas", "price": "199.00", "stock": 5,
     "aliases": ["limagas de 45"]},
    _sized("AGU-SL", "Bidón San Luis 20 L", "Agua", ["san luis"], ("18.00", "39.00")),
    _sized("AGU-SU", "Bidón Agua Sur 20 L", "Agua", ["agua sur"], ("10.00", "28.00")),
    {"sku": "CER", "name": "Cerveza Cristal 650 ml", "category": "Cervezas", "price": "7.00", "stock": 48,
     "aliases": ["cristal"]},
    {"sku": "LAP", "name": "Lapicero Pilot", "category": "Útiles", "price": "2.50",
     "aliases": ["lapicero", "lapiceros"],
     "variant_options": ["color"], "variants": [{"sku": f"LAP-{c[:2].upper()}", "color": c, "stock": 60}
                                                for c in ("azul", "negro", "rojo")]},
    {"sku": "COM-FAM", "name": "Combo Familiar", "category": "Combos", "price": "99.00", "stock": 10,
     "aliases": ["combo familiar"]},
    {"sku": "COM-PAR", "name": "Combo Pareja", "category": "Combos", "price": "55.00", "stock": 10,
     "aliases": ["combo pareja"]},
]


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["catalog"], data["promotions"], data["slug"] = _CATALOG, [], "cart-edits-test"
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def _talk(shop: Engine, *messages: str) -> tuple[Decision, ConversationState]:
    state = ConversationState(customer_phone="51955000700", customer_name="Andrea")
    decision = None
    for text in messages:
        decision = shop.handle_customer(text, state, NOW)
        state = compound.state_after(state, decision, text)
    assert decision is not None
    return decision, state


def _no_order(d: Decision) -> None:
    assert d.order_commands == []


def test_a_swap_keeps_the_count_and_the_size_of_the_old_line(shop) -> None:
    d, _ = _talk(shop, "2 pollo tamarindo personal", "cambia el pollo por el kam lu")
    assert d.cart == {"KAM-PER": 2}
    _no_order(d)


def test_a_swap_takes_the_count_said_for_the_new_product(shop) -> None:
    d, _ = _talk(shop, "2 pollo tamarindo personal y 1 inca 500 ml", "cambia el pollo por 3 kam lu fuente")
    assert d.cart == {"KAM-FUE": 3, "INC-500": 1}


def test_swap_it_for_means_the_line_of_the_same_kind(shop) -> None:
    d, _ = _talk(shop, "un balon solgas de 45", "1 cristal", "cambialo por el limagas entonces")
    assert d.cart == {"BAL-L45": 1, "CER": 1}  # the 45 kg one, like the line it replaces
    _no_order(d)


def test_that_it_be_another_product_replaces_the_line(shop) -> None:
    d, _ = _talk(shop, "un kam lu personal y una inca 500 ml", "y la inca q sea coca mejor")
    assert d.cart == {"KAM-PER": 1, "COC-500": 1}
    d, _ = _talk(shop, "un kam lu personal y una inca 500 ml", "no, la inca cambiala x coca del mismo tamaño")
    assert d.cart == {"KAM-PER": 1, "COC-500": 1}


def test_a_swap_within_the_product_takes_the_new_count(shop) -> None:
    d, _ = _talk(shop, "4 inca 500 ml", "mejor cambia las 4 inca x una de 1.5 L")
    assert d.cart == {"INC-15": 1}


def test_a_partial_remove_leaves_the_rest(shop) -> None:
    d, _ = _talk(shop, "dame 6 cristal", "y quita 2 cristal")
    assert d.cart == {"CER": 4}
    d, _ = _talk(shop, "3 kam lu personal", "quita un kam lu")
    assert d.cart == {"KAM-PER": 2}  # a variant line named by its product
    _no_order(d)


def test_a_count_goes_to_the_variant_line_the_words_name(shop) -> None:
    d, _ = _talk(shop, "quiero 6 lapiceros azules y 6 negros", "y 2 rojos", "mejor los negros q sean 4 nomas")
    assert d.cart == {"LAP-AZ": 6, "LAP-NE": 4, "LAP-RO": 2}


def test_mejor_and_a_count_sets_the_line_in_focus_even_with_a_question(shop) -> None:
    d, _ = _talk(shop, "3 cristal", "mejor 4, q hay promo no?")
    assert d.cart == {"CER": 4}
    _no_order(d)


def test_a_note_for_the_lines_in_the_cart_never_adds_items(shop) -> None:
    d, state = _talk(shop, "dame 2 kam lu personal", "sin cebolla china los dos porfa")
    assert d.cart == {"KAM-PER": 2}
    assert [(line.sku, line.quantity, line.modifiers) for line in state.cart_lines] == [
        ("KAM-PER", 2, ("sin cebolla china",))]


def test_one_more_of_the_same_is_the_line_in_the_cart(shop) -> None:
    d, _ = _talk(shop, "un kam lu personal", "del mismo agregame otro")
    assert d.cart == {"KAM-PER": 2}
    assert not any("tamaño" in r for r in d.replies)


def test_clear_everything_then_the_new_items(shop) -> None:
    d, _ = _talk(shop, "2 pollo tamarindo fuente", "no espera, borra todo. mejor el combo familiar y el combo pareja")
    assert d.cart == {"COM-FAM": 1, "COM-PAR": 1}
    _no_order(d)


def test_of_the_same_one_more_in_another_variant_is_the_carts_product(shop) -> None:
    d, _ = _talk(shop, "1 san luis fuente", "del mismo agua ponme otro pero personal")
    assert d.cart == {"AGU-SL-FUE": 1, "AGU-SL-PER": 1}  # never the other brand the word half matches


def test_please_is_no_swap(shop) -> None:
    d, _ = _talk(shop, "2 kam lu personal", "cambialo a fuente por favor")
    assert d.cart == {"KAM-FUE": 2}


def test_swapping_some_of_a_line_keeps_the_rest(shop) -> None:
    d, _ = _talk(shop, "6 inca 500 ml", "cambia 2 inca por coca")
    assert d.cart == {"INC-500": 4, "COC-500": 2}
