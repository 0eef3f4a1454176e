"""Counts with pack and unit words, and counts said after the product: what the customer notices in
the cart ("media docena de wantanes" is one half-dozen, "6 wantanes" too, "10 pliegos de cartulina"
are ten sheets, "y hielo, 3 bolsas" three bags, "metro y medio" of hose 1.5 m, "y 10 a color" ten
colour prints, "5 cuadernos doble raya forrados" five covered notebooks and no eraser)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fakes.shops import engine_for_data

from chasqui.dialogue import compound
from chasqui.dialogue.engine import Engine
from chasqui.dialogue.packs import pack_size, value_count
from chasqui.dialogue.state import ConversationState, Decision

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 9, 23, 0, tzinfo=UTC)  # Wednesday 18:00 in Lima

_CATALOG = [
    {"sku": "WAN", "name": "Wantán frito", "category": "Entradas", "price": "1.50",
     "aliases": ["wantan", "wantanes"], "variant_options": ["presentación"],
     "variants": [{"sku": "WAN-UNI", "presentación": "unidad", "stock": 100, "price": "1.50"},
                  {"sku": "WAN-MD", "presentación": "media docena", "stock": 20, "price": "8.00"}]},
    {"sku": "CUA", "name": "Cuaderno A4 100 hojas", "category": "Cuadernos", "price": "6.50",
     "aliases": ["cuaderno", "cuadernos"], "variant_options": ["tipo", "presentación"],
     "variants": [{"sku": "CUA-RAY", "tipo": "rayado", "presentación": "unidad", "stock": 50},
                  {"sku": "CUA-RAY-X5", "tipo": "rayado", "presentación": "paquete x5", "stock": 5, "price": "30.00"},
                  {"sku": "CUA-DR", "tipo": "doble raya", "presentación": "unidad", "stock": 50},
                  {"sku": "CUA-DR-X5", "tipo": "doble raya", "presentación": "paquete x5", "stock": 5,
                   "price": "30.00"}],
     "modifiers": [{"name": "forrado con vinifán", "price": "1.50"}, "con etiqueta y nombre"]},
    {"sku": "BOR", "name": "Borrador blanco", "category": "Escritura", "price": "1.00", "stock": 50,
     "aliases": ["borrador", "borradores"]},
    {"sku": "CAR", "name": "Cartulina de color (pliego)", "category": "Papelería", "price": "0.80", "stock": 200,
     "aliases": ["cartulina", "cartulinas"]},
    {"sku": "COP", "name": "Fotocopia (por página)", "category": "Copias", "price": "0.10", "stock": 5000,
     "aliases": ["copia", "copias"]},
    {"sku": "IMP", "name": "Impresión a color (por página)", "category": "Copias", "price": "0.50", "stock": 5000,
     "aliases": ["impresiones a color"]},
    {"sku": "ANI", "name": "Anillado", "category": "Copias", "price": "3.50", "stock": 100,
     "aliases": ["anillado", "anillar"]},
    {"sku": "HIE", "name": "Bolsa de hielo 3 kg", "category": "Hielo", "price": "5.00", "stock": 40,
     "aliases": ["hielo", "bolsa de hielo"]},
    {"sku": "MAN", "name": "Manguera para gas", "category": "Accesorios", "price": "4.50", "unit": "m",
     "sold_by": "length", "min_quantity": "1", "stock": 60, "aliases": ["manguera"]},
    {"sku": "GAS", "name": "Balón de gas 10 kg", "category": "Gas", "price": "46.00", "stock": 20,
     "aliases": ["balon", "balon de gas"],
     "modifiers": ["revisar válvula", {"name": "subida a piso", "price": "2.00"}]},
    {"sku": "PAR", "name": "Paracetamol 500 mg", "category": "Botica", "price": "0.20",
     "aliases": ["paracetamol"], "variant_options": ["presentación"],
     "variants": [{"sku": "PAR-UN", "presentación": "unidad", "stock": 500},
                  {"sku": "PAR-BL", "presentación": "blister x10", "stock": 50, "price": "1.50"}]},
    {"sku": "IBU", "name": "Ibuprofeno 400 mg", "category": "Botica", "price": "0.30",
     "aliases": ["ibuprofeno"], "variant_options": ["presentación"],
     "variants": [{"sku": "IBU-UN", "presentación": "unidad", "stock": 500},
                  {"sku": "IBU-BL", "presentación": "blister x10", "stock": 50, "price": "2.50"}]},
    {"sku": "CIG", "name": "Cigarros Rojos", "category": "Cigarros", "price": "9.00",
     "aliases": ["cigarros", "rojos"], "variant_options": ["presentación"],
     "variants": [{"sku": "CIG-20", "presentación": "cajetilla x20", "stock": 20, "price": "17.00"},
                  {"sku": "CIG-10", "presentación": "cajetilla x10", "stock": 20, "price": "9.00"}]},
]


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["catalog"], data["promotions"], data["slug"] = _CATALOG, [], "packs-test"
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def _talk(shop: Engine, *messages: str) -> Decision:
    state = ConversationState(customer_phone="51955000950")
    decision = None
    for text in messages:
        decision = shop.handle_customer(text, state, NOW)
        state = compound.state_after(state, decision, text)
    assert decision is not None
    return decision


def test_a_value_that_is_only_a_count_says_how_many_items_it_holds() -> None:
    assert value_count("media docena") == 6
    assert value_count("docena") == 12
    assert value_count("12 unidades") == 12
    assert value_count("unidad") == 1
    assert value_count("paquete x5") is None  # a container is chosen only when named
    assert value_count("six pack") is None
    assert value_count("500 ml") is None
    assert value_count("36") is None  # a bare number may be a size
    assert pack_size("cajetilla x20") == 20
    assert pack_size("24 colores") == 24
    assert pack_size("500 ml") is None


def test_half_a_dozen_named_is_one_half_dozen_not_six(shop) -> None:
    assert _talk(shop, "y media docena de wantanes").cart == {"WAN-MD": 1}


def test_a_count_of_items_takes_the_pack_that_holds_them_else_units(shop) -> None:
    assert _talk(shop, "6 wantanes porfa").cart == {"WAN-MD": 1}
    assert _talk(shop, "12 wantanes").cart == {"WAN-MD": 2}
    assert _talk(shop, "3 wantanes").cart == {"WAN-UNI": 3}


def test_a_count_with_a_variant_and_a_modifier_goes_to_that_product_only(shop) -> None:
    d = _talk(shop, "y 5 cuadernos doble raya forrados porfa")
    assert d.cart == {"CUA-DR": 5}  # units, not the pack of 5; no eraser for "forrados"
    assert any("40.00" in r for r in d.replies)  # 5 × (6.50 + 1.50 covering)


def test_a_unit_word_the_name_gives_counts_sheets(shop) -> None:
    assert _talk(shop, "necesito 10 pliegos de cartulina").cart == {"CAR": 10}


def test_a_count_after_the_product_with_a_unit_word(shop) -> None:
    assert _talk(shop, "y hielo, 3 bolsas").cart == {"HIE": 3}


def test_a_measure_after_the_product_and_a_filler_word(shop) -> None:
    assert _talk(shop, "ya pues la manguera nomas, metro y medio").cart == {"MAN": Decimal("1.5")}


def test_a_count_goes_to_the_product_named_by_part_of_its_name_not_the_last_line(shop) -> None:
    d = _talk(shop, "necesito 120 copias y un anillado", "y 10 a color")
    assert d.cart == {"COP": 120, "ANI": 1, "IMP": 10}


def test_a_priced_modifier_said_alone_goes_on_the_cart_line_and_is_charged(shop) -> None:
    d = _talk(shop, "un balon de gas porfa", "con subida a piso, es un 4to piso")
    assert d.cart == {"GAS": 1}
    assert any("48.00" in r for r in d.replies)
    assert [line.modifiers for line in d.cart_lines or []] == [("subida a piso",)]


def test_a_pack_named_by_how_many_it_holds(shop) -> None:
    assert _talk(shop, "2 wantanes y unos rojos de 20").cart == {"WAN-UNI": 2, "CIG-20": 1}


def test_a_clause_that_leaves_the_container_out_takes_the_one_said_before(shop) -> None:
    d = _talk(shop, "dame 2 blister de paracetamol y 1 de ibuprofeno porfa")
    assert d.cart == {"PAR-BL": 2, "IBU-BL": 1}  # one blister, not one tablet
    assert _talk(shop, "y 3 ibuprofenos").cart == {"IBU-UN": 3}
