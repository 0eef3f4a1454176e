"""What a shop assistant answers from the shop's own data (policies, FAQ, haggling, minimum order,
things not sold, total with delivery to a zone, shifts), asserted as the customer sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from chasqui.db.session import make_engine, upgrade
from chasqui.dialogue import shop_answers
from chasqui.dialogue.engine import Brain, Engine
from chasqui.dialogue.state import ConversationState
from chasqui.tenants.io import import_tenant
from chasqui.tenants.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
TUESDAY = datetime(2026, 12, 8, 15, 30, tzinfo=UTC)  # 10:30 in Lima


def _engine(model, tenant_file: str) -> Engine:
    db = make_engine("sqlite://")
    upgrade(db)
    with Session(db) as session:
        tenant = import_tenant(session, ROOT / "tenants" / tenant_file)
        snapshot = load_snapshot(session, tenant.id)
    return Engine(snapshot, Brain.for_tenant(snapshot, model))


@pytest.fixture(scope="module")
def pets(model) -> Engine:
    return _engine(model, "huellita.yaml")


@pytest.fixture(scope="module")
def bakery(model) -> Engine:
    return _engine(model, "dulce-lima.yaml")


def talk(engine: Engine, *messages: str, now: datetime = TUESDAY):
    state = ConversationState(customer_phone="51900000077")
    decision = None
    for text in messages:
        decision = engine.handle_customer(text, state, now)
        state.cart, state.memory = dict(decision.cart), decision.memory
        if decision.cart_lines is not None:
            state.cart_lines = list(decision.cart_lines)
    return decision, " ".join(decision.replies)


def test_a_policy_question_gets_the_policy_in_the_shops_words_and_never_touches_the_cart(pets) -> None:
    decision, said = talk(pets, "quiero una cama", "si no le queda a mi perro me la cambian?")
    assert "7 días" in said and decision.cart == {"CAM-MED": 1}
    _, said = talk(pets, "dan factura?")
    assert "RUC" in said
    _, said = talk(pets, "y si no le gusta me devuelven la plata?")
    assert "saldo a favor" in said


def test_a_faq_answers_by_meaning_not_by_product_words(pets) -> None:
    _, said = talk(pets, "hacen baño para mi gatito?")
    assert "35" in said
    decision, said = talk(pets, "tienen dog chow?")  # a product question: the product, not a FAQ
    assert "159.00" in said and "SENASA" not in said


def test_haggling_gets_the_shops_answer_and_the_real_promotion_the_price_stays(pets) -> None:
    decision, said = talk(pets, "cuanto los huesos de carnaza?", "ultimo precio?")
    assert "ajustaditos" in said and "3x2" in said and decision.cart == {}
    decision, said = talk(pets, "quiero un dog chow", "me lo dejas en 140?")
    assert "ajustaditos" in said and decision.cart == {"DOG-ADU-15": 1}


def test_haggling_without_a_shop_answer_is_a_polite_default(bakery) -> None:
    _, said = talk(bakery, "rebajame pe casera")
    assert "rebajas" in said


def test_things_not_sold_are_named_never_answered_with_another_product(pets) -> None:
    decision, said = talk(pets, "venden peces?")
    assert "peces no vendemos" in said and "Dog Chow" not in said and decision.cart == {}
    _, said = talk(pets, "tienen hamsters o conejos?")
    assert "hamsters ni conejos" in said
    _, said = talk(pets, "tienen delivery?")  # a service, not a product
    assert "no vendemos" not in said


def test_a_topic_without_a_policy_is_passed_to_the_team(pets) -> None:
    _, said = talk(pets, "me pueden fiar hasta el viernes?")
    assert "equipo" in said


def test_minimum_order_for_delivery_is_told_with_what_is_missing_and_pickup_goes_on(pets) -> None:
    decision, said = talk(pets, "quiero 2 pelotitas", "mandamelo a olivos")
    assert "30.00" in said and "18.00" in said and not decision.order_commands
    _, said = talk(pets, "hay pedido minimo?")
    assert "30.00" in said


def test_total_with_delivery_to_a_zone_named_by_alias(pets) -> None:
    decision, said = talk(pets, "quiero 1 ricocan", "cuanto seria con delivery a indepe?")
    assert "45.00" in said and decision.cart == {"DOG-CACH-3": 1}


def test_closed_day_and_afternoon_shift(pets) -> None:
    _, said = talk(pets, "abren el lunes?")
    assert "lunes no abrimos" in said
    _, said = talk(pets, "a que hora abren en la tarde?")
    assert "15:00" in said


def test_terms_fold_forms_and_synonyms() -> None:
    assert shop_answers.terms("si llega golpeada") == shop_answers.terms("llegó golpeado")
    assert shop_answers.terms("¿dan boleta?") == shop_answers.terms("factura")
    assert shop_answers.haggles("me lo dejas en 35?") and shop_answers.haggles("rebajame")
    assert not shop_answers.haggles("hay descuento en las parrillas?")
