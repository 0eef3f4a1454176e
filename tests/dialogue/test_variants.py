"""Variants in the dialogue, as a customer notices them: the right variant SKU in the cart, the sizes
in stock when one is sold out, the bot's question remembered, cart lines that change variant."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import shops
from fakes.shops import engine_for_file

from chasqui.dialogue.engine import Engine
from chasqui.dialogue.variants import hits, requests

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # Tuesday 11:00 in Lima


@pytest.fixture(scope="module")
def shop(model) -> Engine:
    return engine_for_file(ROOT / "tenants" / "zapateria-gamarra.yaml", model)


def talk(engine: Engine, *messages: str):
    return shops.talk(engine, *messages, now=NOW, phone="51955000900")


def test_values_are_read_with_gender_and_sizes_are_never_counts(shop) -> None:
    jacket = shop.tenant.product("CAS-POL")
    assert [(h[2], h[3]) for h in hits(jacket, ["la", "casaca", "negra", "talla", "xl"])] == [("color", "negro"),
                                                                                      ("talla", "XL")]
    jeans = shop.tenant.product("JEA-CLA")
    found = requests(jeans, ["quiero", "el", "jean", "uno", "talla", "32", "y", "otro", "talla", "34"])
    assert [(r.options, r.quantity) for r in found] == [({"talla": "32"}, 1), ({"talla": "34"}, 1)]
    unknown = requests(jeans, ["tienen", "en", "36"])
    assert unknown[0].unknown == {"talla": "36"} and not unknown[0].options


def test_several_variants_in_one_message(shop) -> None:
    d = talk(shop, "2 polos M, uno negro y uno blanco porfa")
    assert d.cart == {"POL-BAS-M-NE": 1, "POL-BAS-M-BL": 1}
    assert "Polo básico algodón (M, negro)" in " ".join(d.replies)


def test_sold_out_size_lists_the_sizes_in_stock_and_a_short_answer_fills_it(shop) -> None:
    d = talk(shop, "tienen la zapatilla urbana negra en 38?")
    text = " ".join(d.replies)
    assert d.cart == {} and all(size in text for size in ("37", "39", "40"))
    assert d.choices is not None and [c.title for c in d.choices.options] == ["37", "39", "40"]
    d = talk(shop, "tienen la zapatilla urbana negra en 38?", "ya dame en 39 entonces")
    assert d.cart == {"ZAP-URB-39-NE": 1}


def test_the_question_keeps_the_count_said_before(shop) -> None:
    d = talk(shop, "quiero 2 botines")
    assert d.cart == {} and "39" not in " ".join(d.replies)  # 39 is sold out: not offered
    assert talk(shop, "quiero 2 botines", "en 40").cart == {"BOT-CUE-40": 2}


def test_price_per_variant_and_yes_to_the_offer(shop) -> None:
    text = " ".join(talk(shop, "cuanto esta el botin?").replies)
    assert "189" in text and "199" in text
    assert talk(shop, "cuanto el botin talla 42?", "ya sepáramelo").cart == {"BOT-CUE-42": 1}


def test_follow_up_on_the_product_in_focus(shop) -> None:
    d = talk(shop, "tienen zapatillas urbanas blancas?", "y en negro?")
    assert d.cart == {} and "39" in " ".join(d.replies)
    assert talk(shop, "tienen zapatillas urbanas blancas?", "y en negro?", "la 40 porfa").cart == {"ZAP-URB-40-NE": 1}


def test_cart_line_changes_variant_keeps_count_and_another_like_it(shop) -> None:
    assert talk(shop, "2 casacas negras talla L", "mejor que sea XL").cart == {"CAS-POL-XL-NE": 1}  # 1 XL left
    assert talk(shop, "una casaca L negra", "cambiala a azul").cart == {"CAS-POL-L-AZ": 1}
    d = talk(shop, "una casaca L negra", "otro igual pero en azul")
    assert d.cart == {"CAS-POL-L-NE": 1, "CAS-POL-L-AZ": 1}


def test_removing_names_the_variant(shop) -> None:
    d = talk(shop, "2 polos talla S, uno negro y otro blanco", "quita el polo blanco")
    assert d.cart == {"POL-BAS-S-NE": 1}


def test_a_colour_the_shop_lacks_is_said_with_the_colours_it_has(shop) -> None:
    text = " ".join(talk(shop, "tienes la casaca en verde?").replies)
    assert "verde" in text and "negro" in text and "azul" in text


def test_bare_count_answers_the_offer_of_a_plain_product(shop) -> None:
    assert talk(shop, "tienen medias deportivas?", "3").cart == {"MED-PAC": 3}
