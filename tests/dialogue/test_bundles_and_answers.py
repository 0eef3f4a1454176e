"""A combo named by the customer is added as what it contains (priced by the promotion), and questions
are answered from the right source: a policy by meaning, the payment methods, a zone's delivery time
and fee, the opening hours when closed, "not sold", the shop's haggling reply; a complaint about a past
purchase never adds the product. One test shop built from a tenant file (a garden and kitchen store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fakes.shops import engine_for_data

from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import ConversationState

ROOT = Path(__file__).resolve().parents[2]
OPEN = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in Lima
NIGHT = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)  # Wednesday 23:00 in Lima

_CATALOG = [
    {"sku": "MAC", "name": "Maceta de barro 20 cm", "category": "Macetas", "price": "15.00", "stock": 30,
     "aliases": ["maceta", "maceta de barro"]},
    {"sku": "TIE", "name": "Tierra preparada 5 kg", "category": "Sustratos", "price": "8.00", "stock": 30,
     "aliases": ["tierra", "tierra preparada"]},
    {"sku": "SEM", "name": "Semillas de albahaca", "category": "Semillas", "price": "4.00", "stock": 30,
     "aliases": ["semillas", "albahaca"]},
    {"sku": "REG", "name": "Regadera plástica", "category": "Accesorios", "price": "12.00", "stock": 10,
     "variant_options": ["color"],
     "variants": [{"sku": "REG-VER", "color": "verde", "stock": 5}, {"sku": "REG-AZU", "color": "azul", "stock": 5}]},
    {"sku": "TIJ", "name": "Tijera de podar", "category": "Herramientas", "price": "25.00", "stock": 8,
     "aliases": ["tijera", "tijera de podar"]},
    {"sku": "LIJ", "name": "Lija al agua (por pliego)", "category": "Accesorios", "price": "1.20", "stock": 50,
     "aliases": ["lija", "lijas"]},
    {"sku": "LIB", "name": "Libreta de jardín", "category": "Accesorios", "price": "6.00", "stock": 10,
     "aliases": ["libreta", "hojas de registro"]},
    {"sku": "DET", "name": "Sensor de humedad para plantas", "category": "Accesorios", "price": "30.00", "stock": 4,
     "aliases": ["sensor", "sensor de humedad"]},
]
_PROMOTIONS = [
    {"code": "HUERTO", "name": "Kit huerto urbano",
     "description": "Maceta de barro + tierra preparada + semillas de albahaca + regadera verde a S/ 35.",
     "rule": {"type": "bundle", "skus": ["MAC", "TIE", "SEM", "REG-VER"], "price": "35.00"},
     "valid_from": "2026-01-01", "valid_to": "2027-12-31"},
    {"code": "TIERRA3X2", "name": "Tierra 3x2", "description": "Llevas 3 bolsas de tierra y pagas 2.",
     "sku": "TIE", "rule": {"type": "buy_x_get_y", "buy": 3, "pay": 2},
     "valid_from": "2026-01-01", "valid_to": "2027-12-31"},
]
_POLICIES = [
    {"topic": "herramientas con falla",
     "text": "Si una herramienta falla o llega dañada, la cambiamos dentro de 15 días con boleta."},
    {"topic": "venta a menores",
     "text": "Los productos químicos solo se venden a mayores de 18 años; el repartidor pide DNI."},
    {"topic": "demoras", "text": "Si tu pedido llega con más de una hora de retraso, el próximo envío es gratis."},
]
_FAQ = [
    {"q": "¿Aceptan vales de canje?", "a": "Sí, aceptamos los vales de canje de la feria de jardinería."},
]
_ZONES = [
    {"name": "Surco", "fee": "5.00", "eta": "35-45 min", "aliases": ["surco"]},
    {"name": "Barranco", "fee": "7.00", "eta": "50-60 min", "aliases": ["barranco"]},
]


@pytest.fixture(scope="module")
def garden(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "huellita.yaml").read_text(encoding="utf-8"))
    data["slug"], data["catalog"], data["promotions"] = "garden-test", _CATALOG, _PROMOTIONS
    business = data["business"]
    business["hours"] = {day: "09:00-20:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    business["policies"] = _POLICIES
    business["haggling"] = "Vecino, ya son precios de vivero; no podemos bajar más."
    business["delivery"]["zones"] = _ZONES
    business["delivery"]["min_order"] = None
    business["delivery"]["free_over"] = "100.00"
    data["knowledge"] = {"faq": _FAQ}
    data.pop("roles", None), data.pop("flows", None)
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def talk(engine: Engine, *messages: str, now: datetime = OPEN):
    state = ConversationState(customer_phone="51900000088")
    decision = None
    for text in messages:
        decision = engine.handle_customer(text, state, now)
        state.cart, state.memory = dict(decision.cart), decision.memory
        if decision.cart_lines is not None:
            state.cart_lines = list(decision.cart_lines)
    return decision, " ".join(decision.replies)


def test_a_kit_named_by_its_words_is_added_as_its_parts_at_the_promotion_price(garden) -> None:
    decision, said = talk(garden, "quiero el kit huerto")
    assert decision.cart == {"MAC": 1, "TIE": 1, "SEM": 1, "REG-VER": 1}
    assert "35.00" in said


def test_the_combo_just_listed_is_added_with_its_variant_parts(garden) -> None:
    decision, _ = talk(garden, "que promociones tienen?", "ya, mandame esa promo")
    assert decision.cart == {"MAC": 1, "TIE": 1, "SEM": 1, "REG-VER": 1}
    decision, _ = talk(garden, "dame el kit")
    assert decision.cart == {"MAC": 1, "TIE": 1, "SEM": 1, "REG-VER": 1}


def test_a_product_named_alone_is_never_taken_for_the_kit(garden) -> None:
    decision, _ = talk(garden, "quiero 2 macetas de barro")
    assert decision.cart == {"MAC": 2}


def test_an_age_question_in_other_words_gets_the_age_policy(garden) -> None:
    decision, said = talk(garden, "mi hija de 15 puede recibir el pedido?")
    assert "18" in said and decision.cart == {}


def test_a_payment_question_gets_the_payment_methods_not_a_faq_sharing_a_verb(garden) -> None:
    _, said = talk(garden, "aceptan tarjeta?")
    assert "canje" not in said


def test_a_zones_delivery_time_is_the_zones_not_the_late_delivery_policy(garden) -> None:
    _, said = talk(garden, "cuanto demora el envio a barranco?")
    assert "50-60" in said and "retraso" not in said


def test_haggling_with_a_price_first_gets_the_shops_reply(garden) -> None:
    decision, said = talk(garden, "cuanto la tijera de podar?", "a 20 no me la deja?")
    assert "precios de vivero" in said and decision.cart == {}


def test_a_complaint_about_a_past_purchase_gets_the_policy_and_never_adds_it(garden) -> None:
    decision, said = talk(garden, "la semana pasada compre una tijera de podar y ya se rompio")
    assert decision.cart == {}
    assert "15 días" in said


def test_a_complaint_naming_a_catalog_word_still_finds_its_policy(garden) -> None:
    decision, said = talk(garden, "el sensor que me trajeron ayer llego dañado, no funciona")
    assert decision.cart == {} and "15 días" in said


def test_right_now_when_closed_says_when_the_shop_opens(garden) -> None:
    _, said = talk(garden, "hay tierra ahorita?", now=NIGHT)
    assert "09:00" in said


def test_a_follow_up_about_another_thing_not_sold_is_not_sold_too(garden) -> None:
    _, said = talk(garden, "venden piscinas?", "y trampolines?")
    assert "no vendemos" in said.lower() or "no tenemos" in said.lower()
    assert "trampolines" in said.lower()


def test_the_delivery_fee_asked_again_is_the_zones_fee_for_the_current_cart(garden) -> None:
    decision, said = talk(garden, "quiero 1 tijera de podar", "cuanto es el delivery a surco?",
                          "el delivery ya no es gratis?")
    assert "5.00" in said and decision.cart == {"TIJ": 1}


def test_a_unit_after_a_product_named_is_its_unit_not_another_product(garden) -> None:
    decision, said = talk(garden, "tienen lija? a cuanto la hoja")
    assert "1.20" in said and "6.00" not in said and decision.cart == {}


def test_a_bare_follow_up_after_not_sold_is_not_sold_too(garden) -> None:
    _, said = talk(garden, "venden piscinas?", "columpios?")
    assert "columpios" in said.lower()


def test_now_in_a_total_question_at_night_is_no_hours_question(garden) -> None:
    _, said = talk(garden, "quiero 2 macetas de barro", "y ahora cuanto es todo?", now=NIGHT)
    assert "30.00" in said
