"""References to what the bot offered, as a customer notices them: "ya la de cuero entonces" after a
sold-out answer, "dame la más barata", "esa promo", "ese" when the bot listed several (it asks which,
the cart stays as it was), "ya de piña entonces" after a size sold out (the same size), a bare count
answering "¿unidad o paquete?", and "ese" meaning the product asked about last."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import shops
from fakes.shops import engine_for_file

from chasqui.dialogue.engine import Engine

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # Tuesday 11:00 in Lima

SHOP = """
slug: bazar-referencias
business:
  name: "Bazar La Esquina"
  country: PE
  language: es-PE
  timezone: America/Lima
  currency: PEN
  currency_symbol: "S/"
  address: "Av. Central 100, Lince"
  hours: {mon: "00:00-23:59", tue: "00:00-23:59", wed: "00:00-23:59", thu: "00:00-23:59",
          fri: "00:00-23:59", sat: "00:00-23:59", sun: "00:00-23:59"}
  payment_methods:
    - {code: yape, name: "Yape", details: "Yapea al 900 000 000."}
    - {code: efectivo, name: "Efectivo", details: "Pagas al recibir."}
  delivery:
    enabled: true
    pickup_address: "Av. Central 100, Lince"
    zones:
      - {name: "Lince", fee: "3.00", eta: "20 min"}
bot:
  name: "Bea"
  personality: "Amable, trato de tú."
  greeting: "¡Hola! Soy Bea del Bazar La Esquina."
  mode: sales
  confidence_threshold: "0.80"
catalog:
  - {sku: MOC-CUE, name: "Mochila de cuero marrón", category: "Mochilas", price: "120.00", stock: 5}
  - {sku: MOC-LON, name: "Mochila de lona azul", category: "Mochilas", price: "70.00", stock: 0}
  - {sku: MOC-NYL, name: "Mochila de nylon negra", category: "Mochilas", price: "45.00", stock: 8}
  - {sku: LAP-AZU, name: "Lapicero azul", category: "Útiles", price: "1.50", stock: 100}
  - sku: JUG-NAR
    name: "Jugo de naranja"
    category: "Bebidas"
    price: "6.00"
    variant_options: [tamaño]
    variants:
      - {sku: JUG-NAR-1L, tamaño: "1 L", stock: 0, price: "6.00"}
      - {sku: JUG-NAR-500, tamaño: "500 ml", stock: 10, price: "3.50"}
  - sku: JUG-PIN
    name: "Jugo de piña"
    category: "Bebidas"
    price: "6.50"
    variant_options: [tamaño]
    variants:
      - {sku: JUG-PIN-1L, tamaño: "1 L", stock: 5, price: "6.50"}
      - {sku: JUG-PIN-500, tamaño: "500 ml", stock: 5, price: "4.00"}
  - sku: CUA-ESP
    name: "Cuaderno espiral"
    category: "Útiles"
    price: "5.00"
    variant_options: [presentación]
    variants:
      - {sku: CUA-ESP-UN, presentación: "unidad", stock: 20, price: "5.00"}
      - {sku: CUA-ESP-P3, presentación: "paquete x3", stock: 5, price: "13.00"}
promotions:
  - code: PACK-COLE
    name: "Pack colegio"
    description: "Mochila de nylon + cuaderno espiral a S/ 48."
    rule: {type: bundle, skus: [MOC-NYL, CUA-ESP-UN], price: "48.00"}
    valid_from: "2026-01-01"
    valid_to: "2027-12-31"
"""


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    path = tmp_path_factory.mktemp("tenant") / "bazar.yaml"
    path.write_text(SHOP, encoding="utf-8")
    return engine_for_file(path, model)


def talk(engine: Engine, *messages: str):
    return shops.talk(engine, *messages, now=NOW, phone="51955000777")


def test_a_word_of_an_offered_alternative_takes_it(shop) -> None:
    d = talk(shop, "tienes mochila de lona?", "ya la de cuero entonces")
    assert d.cart == {"MOC-CUE": 1}


def test_the_cheapest_of_the_list_just_shown_goes_in_with_the_item_named_beside_it(shop) -> None:
    d = talk(shop, "que mochilas tienen?", "dame la mas barata y un lapicero azul")
    assert d.cart == {"MOC-NYL": 1, "LAP-AZU": 1}


def test_ese_after_a_list_asks_which_and_adds_nothing(shop) -> None:
    d = talk(shop, "que mochilas tienen?", "ya dame esa")
    assert d.cart == {}
    said = " ".join(d.replies)
    assert "cuero" in said and "nylon" in said


def test_that_promo_is_the_bundle_just_listed(shop) -> None:
    d = talk(shop, "que promos tienen?", "ya quiero esa promo")
    assert d.cart == {"MOC-NYL": 1, "CUA-ESP-UN": 1}


def test_another_product_after_a_sold_out_size_keeps_the_size(shop) -> None:
    d = talk(shop, "un jugo de naranja de 1 L", "ya de piña entonces")
    assert d.cart == {"JUG-PIN-1L": 1}


def test_a_bare_count_answers_which_presentation_with_the_single_unit(shop) -> None:
    d = talk(shop, "quiero cuaderno espiral", "3")
    assert d.cart == {"CUA-ESP-UN": 3}


def test_ese_is_the_product_asked_about_last_not_an_older_offer(shop) -> None:
    d = talk(shop, "tienes mochila de nylon?", "y la de cuero cuanto cuesta?", "ya esa dame 1")
    assert d.cart == {"MOC-CUE": 1}


def test_an_ordinal_picks_from_the_alternatives_in_the_order_offered(shop) -> None:
    first = talk(shop, "tienes mochila de lona?")
    offered = first.memory["offered_skus"]
    d = talk(shop, "tienes mochila de lona?", "ya la segunda entonces")
    assert d.cart == {offered[1]: 1}
