"""Checkout facts said in free text, as a customer notices them: an address that names its district
is a delivery to that zone (a free one too), the address is kept without the question that follows
it, a bare method is the way they pay, a payment said once is never asked again, and the notes they
ask for (an invoice with its RUC, when they come for it) reach the order; one "sí" then places it."""

from __future__ import annotations

import pytest
import yaml
from fakes.shops import engine_for_data

from chasqui.dialogue.address import split, zones_in
from chasqui.dialogue.engine import Engine
from dialogue.conftest import ROOT, fresh
from dialogue.test_checkout_safety import placed, talk

# A shop of its own: the bakery's catalog, its zones plus a free home zone known by its sectors.
_HOME_ZONE = {"name": "Villa El Salvador", "fee": "0.00", "eta": "15-20 min",
              "aliases": ["ves", "sector 2", "sector 6"]}
_LEMONADE = {"sku": "LIM-FRO", "name": "Limonada frozen", "category": "Bebidas", "price": "8.00",
             "variant_options": ["tamaño"], "aliases": ["limonada"],
             "variants": [{"sku": "LIM-FRO-CH", "tamaño": "chica", "stock": 20, "price": "8.00"},
                          {"sku": "LIM-FRO-GR", "tamaño": "grande", "stock": 20, "price": "12.00"}]}


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["slug"] = "checkout-free-text"
    data["business"]["delivery"]["zones"].append(_HOME_ZONE)
    data["catalog"].append(_LEMONADE)
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def test_a_sentence_end_closes_the_address_but_an_abbreviation_does_not() -> None:
    assert split("jr las magnolias 345 barranco. efectivo, pago exacto") == (
        "jr las magnolias 345 barranco", "efectivo, pago exacto")
    assert split("envialo a surco, av sucre 890. cuanto es el delivery?") == (
        "av sucre 890", "envialo a surco, cuanto es el delivery?")
    assert split("Av. Caminos del Inca 1250, dpto 502")[0] == "Av. Caminos del Inca 1250, dpto 502"
    assert split("Mz. F Lt. 8 Urb. Los Jardines. pago con yape") == ("Mz. F Lt. 8 Urb. Los Jardines", "pago con yape")


def test_the_district_of_an_address_is_its_zone_but_a_street_name_is_not(shop: Engine) -> None:
    matcher = shop.brain.matcher
    assert zones_in("av brasil 3320 barranco", matcher) == ("Barranco",)
    assert zones_in("mz F lote 12 sector 2 grupo 5", matcher) == ("Villa El Salvador",)
    assert zones_in("av san isidro 120", matcher) == ()  # the street's own name


def test_an_address_with_its_district_and_the_payment_gets_the_read_back(shop: Engine) -> None:
    state, [*_, given] = talk(shop, fresh(), "quiero un pie de limón",
                              "mándalo a av grau 3320 barranco, pago x plin")
    readback = " ".join(given.replies)
    assert placed(given) == [] and "Barranco" in readback and "av grau 3320 barranco" in readback
    assert "Plin" in readback and "zona" not in readback.lower()
    _, [confirmed] = talk(shop, state, "sí")
    [order] = placed(confirmed)
    assert order.zone == "Barranco" and order.payment_method == "plin" and order.address == "av grau 3320 barranco"


def test_a_free_home_zone_is_known_by_its_sector(shop: Engine) -> None:
    state, [*_, given] = talk(shop, fresh(), "quiero un pie de limón",
                              "sector 6 pasaje los olivos 118, 4to piso. yape")
    assert placed(given) == [] and "Villa El Salvador" in " ".join(given.replies)
    _, [confirmed] = talk(shop, state, "ya")
    [order] = placed(confirmed)
    assert order.zone == "Villa El Salvador" and order.delivery_fee == 0 and order.payment_method == "yape"
    assert order.address is not None and "los olivos 118" in order.address and "yape" not in order.address


def test_the_address_never_keeps_the_question_after_it(shop: Engine) -> None:
    state, [*_, given] = talk(shop, fresh(), "quiero un pie de limón",
                              "envialo a surco, av sucre 890. cuanto es el delivery?")
    assert state.memory.get("address") == "av sucre 890" and state.memory.get("zone") == "Surco"
    assert "10.00" in " ".join(given.replies)


def test_a_district_said_before_the_street_is_a_delivery_there(shop: Engine) -> None:
    state, _ = talk(shop, fresh(), "quiero un pie de limón", "a miraflores, calle los cedros 233")
    assert state.memory.get("fulfillment") == "delivery" and state.memory.get("zone") == "Miraflores"
    assert state.memory.get("address") == "calle los cedros 233"


def test_a_bare_method_answering_how_to_pay_is_the_method(shop: Engine) -> None:
    state, [*_, asked] = talk(shop, fresh(), "quiero un pie de limón", "lo recojo")
    assert "pagar" in " ".join(asked.replies).lower()
    state, [answer] = talk(shop, state, "yape")
    assert state.memory.get("payment_method") == "yape" and placed(answer) == []
    assert "también puedes" not in " ".join(answer.replies).lower()
    _, [confirmed] = talk(shop, state, "sí")
    assert [o.payment_method for o in placed(confirmed)] == ["yape"]


def test_cash_said_with_the_address_is_never_asked_again(shop: Engine) -> None:
    state, [*_, given] = talk(shop, fresh(), "quiero un pie de limón",
                              "delivery a surco, calle los pinos 180. pago en efectivo con 100")
    assert "con qué vas a pagar" not in " ".join(given.replies).lower()
    _, [confirmed] = talk(shop, state, "sí")
    [order] = placed(confirmed)
    assert order.payment_method == "efectivo" and order.change_for == 100 and order.address == "calle los pinos 180"


def test_the_invoice_asked_for_reaches_the_order_notes(shop: Engine) -> None:
    state, _ = talk(shop, fresh(), "quiero un pie de limón", "ruc 20601234567 razon social Inversiones Kari SAC",
                    "lo recojo, pago con plin")
    assert "20601234567" in (state.memory.get("order_notes") or "")
    _, [confirmed] = talk(shop, state, "ok confirmo, la factura a nombre de la empresa pls")
    [order] = placed(confirmed)
    assert "20601234567" in (order.notes or "") and "factura a nombre de la empresa" in (order.notes or "")


def test_when_they_come_for_it_reaches_the_order_notes(shop: Engine) -> None:
    state, [*_, given] = talk(shop, fresh(), "quiero un pie de limón", "paso a recogerlo a las 7pm, pago con yape")
    assert "a las 7pm" in " ".join(given.replies)
    _, [confirmed] = talk(shop, state, "sí")
    [order] = placed(confirmed)
    assert "a las 7pm" in (order.notes or "")


def test_a_product_asked_which_one_is_asked_again_before_the_read_back(shop: Engine) -> None:
    state, [*_, asked, checkout] = talk(shop, fresh(), "quiero un pie de limón", "y una limonada",
                                        "lo recojo, pago con yape")
    assert "tamaño" in " ".join(asked.replies)
    assert "tamaño" in " ".join(checkout.replies) and placed(checkout) == [] and not state.memory.get("readback")
    state, [answer] = talk(shop, state, "grande")
    assert answer.cart == {"PIE-LIM": 1, "LIM-FRO-GR": 1}
