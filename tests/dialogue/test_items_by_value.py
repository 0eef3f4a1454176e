"""Several items in one message, and variants named by what sets them apart ("el de 20", "de medio
litro", "la chica", "2 rubias" = two single bottles): what the customer notices is every item in the
cart (or one clear question), the variant right without being asked, and a sold-out variant said so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fakes import shops
from fakes.shops import engine_for_data

from chasqui.dialogue.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 9, 23, 0, tzinfo=UTC)  # Wednesday 18:00 in Lima

_CATALOG = [
    {"sku": "RUB", "name": "Cerveza Rubia botella 620 ml", "category": "Cervezas", "price": "7.00",
     "aliases": ["rubia", "rubias"], "variant_options": ["presentación"],
     "variants": [{"sku": "RUB-UN", "presentación": "unidad", "stock": 80, "price": "7.00"},
                  {"sku": "RUB-CJ", "presentación": "caja x12", "stock": 10, "price": "75.00"}]},
    {"sku": "NEG", "name": "Cerveza Negra botella 620 ml", "category": "Cervezas", "price": "8.00",
     "aliases": ["negra", "cerveza negra"], "variant_options": ["presentación"],
     "variants": [{"sku": "NEG-UN", "presentación": "unidad", "stock": 40, "price": "8.00"},
                  {"sku": "NEG-CJ", "presentación": "caja x12", "stock": 0, "price": "85.00"}]},
    {"sku": "AND", "name": "Cigarrillos Andes", "category": "Cigarros", "price": "15.00",
     "aliases": ["andes"], "variant_options": ["presentación"],
     "variants": [{"sku": "AND-20", "presentación": "cajetilla x20", "stock": 10, "price": "15.00"},
                  {"sku": "AND-10", "presentación": "cajetilla x10", "stock": 10, "price": "8.00"}]},
    {"sku": "MIN", "name": "Agua mineral Cumbre", "category": "Bebidas", "price": "2.50",
     "aliases": ["agua cumbre", "cumbre"], "variant_options": ["tamaño"],
     "variants": [{"sku": "MIN-500", "tamaño": "500 ml", "stock": 40, "price": "2.50"},
                  {"sku": "MIN-15", "tamaño": "1.5 L", "stock": 20, "price": "4.00"},
                  {"sku": "MIN-2L", "tamaño": "2 L", "stock": 20, "price": "5.00"}]},
    {"sku": "TON", "name": "Agua tónica 1.5 L", "category": "Bebidas", "price": "6.00", "stock": 10,
     "aliases": ["tonica"]},
    {"sku": "CRA", "name": "Crayones Arcoiris", "category": "Útiles", "price": "6.00",
     "aliases": ["crayones"], "variant_options": ["caja"],
     "variants": [{"sku": "CRA-12", "caja": "12 colores", "stock": 30, "price": "6.00"},
                  {"sku": "CRA-24", "caja": "24 colores", "stock": 0, "price": "11.00"}]},
    {"sku": "BAL-10", "name": "Balón de gas Fuego 10 kg", "category": "Gas", "price": "45.00",
     "aliases": ["fuego", "balon fuego"], "variant_options": ["tipo"],
     "variants": [{"sku": "BAL-10-REC", "tipo": "recarga", "stock": 20, "price": "45.00"},
                  {"sku": "BAL-10-NUE", "tipo": "nuevo con envase", "stock": 5, "price": "150.00"}]},
    {"sku": "BAL-45", "name": "Balón de gas Fuego 45 kg", "category": "Gas", "price": "200.00",
     "aliases": ["fuego de 45", "balon de 45 fuego"], "variant_options": ["tipo"],
     "variants": [{"sku": "BAL-45-REC", "tipo": "recarga", "stock": 4, "price": "200.00"},
                  {"sku": "BAL-45-NUE", "tipo": "nuevo con envase", "stock": 1, "price": "520.00"}]},
    {"sku": "BID", "name": "Bidón de agua de mesa 20 L", "category": "Agua", "price": "10.00",
     "aliases": ["bidon de agua", "recarga de agua"], "variant_options": ["tipo"],
     "variants": [{"sku": "BID-REC", "tipo": "recarga", "stock": 50, "price": "10.00"},
                  {"sku": "BID-NUE", "tipo": "nuevo con bidón", "stock": 5, "price": "28.00"}]},
    {"sku": "VIN", "name": "Vino tinto Quebrada 750 ml", "category": "Vinos", "price": "20.00", "stock": 30,
     "aliases": ["vino", "quebrada"]},
]


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["catalog"], data["promotions"], data["slug"] = _CATALOG, [], "items-by-value-test"
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def talk(engine: Engine, *messages: str):
    return shops.talk(engine, *messages, now=NOW, phone="51955000950")


def test_a_count_is_of_the_single_unit_and_a_value_is_named_by_its_number(shop) -> None:
    d = talk(shop, "2 rubias y unos andes de 20")
    assert d.cart == {"RUB-UN": 2, "AND-20": 1}
    assert talk(shop, "una caja de rubias").cart == {"RUB-CJ": 1}  # a pack is named: no unit by default


def test_an_amount_is_read_in_the_larger_unit_and_a_size_word_picks_the_smallest(shop) -> None:
    assert talk(shop, "3 agua cumbre de medio litro").cart == {"MIN-500": 3}
    assert talk(shop, "dame los andes chicos").cart == {"AND-10": 1}


def test_a_sold_out_value_is_said_sold_out_with_what_there_is(shop) -> None:
    d = talk(shop, "tienes crayones de 24?")
    text = " ".join(d.replies)
    assert d.cart == {} and ("agot" in text or "no tenemos" in text) and "12 colores" in text
    text = " ".join(talk(shop, "cuanto los crayones de 24?").replies)
    assert "11.00" not in text and "12 colores" in text


def test_a_product_named_in_pieces_is_one_item_and_its_value_no_second_product(shop) -> None:
    assert talk(shop, "un balon de 45 kilos fuego recarga porfa").cart == {"BAL-45-REC": 1}
    d = talk(shop, "cuanto sale el de 45 de fuego?")
    assert "200.00" in " ".join(d.replies) and "45.00" not in " ".join(d.replies)


def test_values_of_the_product_talked_about_are_an_item_beside_another_product(shop) -> None:
    d = talk(shop, "cuanto los andes?", "dame 2 del vino y la cajetilla chica")
    assert d.cart == {"VIN": 2, "AND-10": 1}


def test_values_said_once_for_both_products(shop) -> None:
    d = talk(shop, "un fuego de 45 y un fuego de 10, los dos recarga")
    assert d.cart == {"BAL-45-REC": 1, "BAL-10-REC": 1}


def test_values_of_the_question_before_and_the_unit_said_in_words(shop) -> None:
    d = talk(shop, "cuanto las rubias en caja?", "ya dame 2 cajas y 6 sueltas")
    assert d.cart == {"RUB-CJ": 2, "RUB-UN": 6}
    d = talk(shop, "tienes agua cumbre de 2 litros?", "ya dame 3")
    assert d.cart == {"MIN-2L": 3}


def test_a_value_of_the_product_talked_about_is_no_other_product(shop) -> None:
    d = talk(shop, "tienes balon fuego de 10?", "ya mandame uno de recarga")
    assert d.cart == {"BAL-10-REC": 1}


def test_a_count_right_after_answering_the_question_is_the_count_of_that_line(shop) -> None:
    d = talk(shop, "quiero agua cumbre", "la de 2 litros", "3")
    assert d.cart == {"MIN-2L": 3}


def test_after_a_sold_out_value_another_product_is_asked_in_that_value(shop) -> None:
    d = talk(shop, "tienes caja de cerveza negra?", "ya dame la rubia entonces")
    assert d.cart == {"RUB-CJ": 1}


def test_a_decimal_amount_after_the_product_is_its_size(shop) -> None:
    assert talk(shop, "1 agua cumbre de 1.5 y 2 rubias").cart == {"MIN-15": 1, "RUB-UN": 2}  # no tónica
