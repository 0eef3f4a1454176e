"""A shop's policy or FAQ answers only a message about its topic; questions the shop's data answers
(address, hours, zones, totals, prices, change) never get a policy picked by a stray shared word.
Several shops' policy sets, built in code (pure: no engine, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chasqui.dialogue import cheapest, shop_answers
from chasqui.dialogue.cues import fold
from chasqui.domain import (
    BotConfig,
    Business,
    DeliveryZone,
    Faq,
    PaymentMethod,
    Policy,
    Product,
    TenantSnapshot,
    Variant,
)

_ids = iter(range(9000, 9100))


def shop(policies=(), faq=(), products=(), methods=(), zones=()) -> TenantSnapshot:
    business = Business(name="Tienda", address="Av. Siempre Viva 123", delivery_enabled=True,
                        policies=tuple(Policy(t, x) for t, x in policies), faq=tuple(Faq(q, a) for q, a in faq))
    return TenantSnapshot(id=next(_ids), slug=f"s{next(_ids)}", business=business, bot=BotConfig(),
                          products=tuple(products), payment_methods=tuple(methods), delivery_zones=tuple(zones))


HARDWARE = shop(
    policies=[("factura", "Sí emitimos factura; envíenos su RUC."),
              ("garantía", "Las herramientas tienen 1 año de garantía. Traiga la herramienta a la tienda."),
              ("devoluciones", "Lo cortado a medida no tiene cambio ni devolución; lo demás se cambia en 7 días."),
              ("delivery", "Solo hacemos delivery a distritos vecinos, con pedido mínimo de S/ 80.")],
    faq=[("¿Hacen instalaciones eléctricas?", "No hacemos instalaciones, pero le recomendamos un técnico.")],
    products=[Product("TAL", "Taladro percutor", "Herramientas", Decimal("229"), 5),
              Product("CAB", "Cable THW 14", "Eléctricos", Decimal("1.50"), 100, unit="m", sold_by="length")],
    zones=[DeliveryZone("Lurín", Decimal("12"), "al día siguiente", ("lurin",))],
)
BURGERS = shop(
    policies=[("factura", "Damos boleta siempre; para factura mándanos tu RUC."),
              ("pedido frío o incompleto", "Si llega frío te lo reponemos o te devolvemos tu plata, sin vueltas."),
              ("cambios y cancelación", "Puedes cambiar o cancelar tu pedido hasta 5 minutos después."),
              ("alergias", "Todo se fríe en el mismo aceite; puede haber trazas de gluten.")],
    faq=[("¿Cuánto demora el pedido?", "En tienda 15-20 minutos; en delivery depende de la zona.")],
    products=[Product("HAM", "Hamburguesa clásica", "Hamburguesas", Decimal("12"), 10, variant_options=("tamaño",),
                      variants=(Variant("HAM-S", {"tamaño": "simple"}, 5), Variant("HAM-D", {"tamaño": "doble"}, 5,
                                                                                      Decimal("16")))),
              Product("ROY", "Hamburguesa royal", "Hamburguesas", Decimal("15"), 10),
              Product("AGU", "Agua mineral", "Bebidas", Decimal("2.50"), 10)],
    methods=[PaymentMethod("efectivo", "Efectivo", "Pagas al recibir; el motorizado lleva vuelto hasta S/ 100."),
             PaymentMethod("yape", "Yape", "Yapea al 999 888 777.")],
)
BAKERY = shop(
    policies=[("cambios", "Cambios dentro de las 24 horas con boleta."),
              ("reservas", "Las tortas se reservan con 48 horas de anticipación y 50% de adelanto.")],
    faq=[("¿Hacen tortas personalizadas?", "Sí, con 48 horas de anticipación.")],
    methods=[PaymentMethod("efectivo", "Efectivo", "Contra entrega.")],
)


def topic(tenant: TenantSnapshot, text: str) -> str | None:
    found = shop_answers.best_document(tenant, text)
    return found[0].title if found else None


@pytest.mark.parametrize(("tenant", "text"), [
    (HARDWARE, "donde queda la tienda?"),
    (HARDWARE, "y del otro, el del 12, tambien 30"),
    (HARDWARE, "hacen delivery a lurin?"),
    (HARDWARE, "jr los pinos 230, frente a la tienda"),
    (BURGERS, "cuanto es todo?"),
    (BURGERS, "tienen vuelto de 200?"),
    (BURGERS, "y el viernes hasta q hora"),
    (BURGERS, "hacen delivery a puente piedra?"),
    (BAKERY, "hasta que hora atienden?"),
    (BAKERY, "cuanto es todo con delivery?"),
])
def test_a_question_the_shops_data_answers_never_gets_a_policy_by_a_shared_word(tenant, text) -> None:
    assert topic(tenant, text) is None


@pytest.mark.parametrize(("tenant", "text", "expected"), [
    (HARDWARE, "emiten factura?", "factura"),
    (HARDWARE, "el taladro cuanto cuesta y tiene garantia?", "garantía"),
    (HARDWARE, "el taladro ya no prende, me lo cambian?", "garantía"),
    (HARDWARE, "y si me sobra cable lo puedo devolver?", "devoluciones"),
    (HARDWARE, "hacen instalaciones electricas?", "¿Hacen instalaciones eléctricas?"),
    (BURGERS, "y si llega frio?", "pedido frío o incompleto"),
    (BURGERS, "puedo cancelar mi pedido?", "cambios y cancelación"),
    (BURGERS, "tiene gluten? soy alergico", "alergias"),
    (BAKERY, "me la cambian si no le gusta?", "cambios"),
    (BAKERY, "hacen tortas personalizadas con nombre?", "¿Hacen tortas personalizadas?"),
])
def test_a_question_about_a_topic_gets_that_topics_answer(tenant, text, expected) -> None:
    assert topic(tenant, text) == expected


def _find(tenant: TenantSnapshot, text: str, **kw) -> shop_answers.ShopAnswer | None:
    return shop_answers.find(tenant, text, fold(text), **kw)


def test_a_price_and_a_policy_in_one_question_both_get_answered() -> None:
    answer = _find(HARDWARE, "el taladro cuanto cuesta y tiene garantia?", has_products=True, asks_product=True)
    assert answer is not None and answer.kind == "policy" and not answer.exclusive  # the price is said too
    alone = _find(HARDWARE, "tiene garantia?")
    assert alone is not None and alone.exclusive


def test_change_for_cash_is_answered_in_the_cash_methods_words_or_neutrally() -> None:
    answer = _find(BURGERS, "pago en efectivo, tienen vuelto de 200?", has_payment=True)
    assert answer is not None and answer.kind == "change"
    assert "100" in answer.replies[0][1]["details"]
    neutral = _find(BAKERY, "tienen sencillo?")
    assert neutral is not None and neutral.replies[0][0] == "vuelto_neutral"


@pytest.mark.parametrize("text", ["cuanto me lo deja todo? es bastante pe", "en cuanto me lo dejas?",
                                  "a cuanto me las dejas", "me hace precio causa?"])
def test_haggling_is_heard_however_it_is_said(text) -> None:
    assert shop_answers.haggles(fold(text))


@pytest.mark.parametrize("text", ["cuanto cuesta?", "cuanto es todo?", "cuanto me sale el total?"])
def test_a_price_question_is_no_haggling(text) -> None:
    assert not shop_answers.haggles(fold(text))


def test_the_cheapest_is_the_cheapest_line_in_view_with_its_variant() -> None:
    burgers = [p for p in BURGERS.products if p.category == "Hamburguesas"]
    best = cheapest.cheapest(burgers)
    assert [(s.sku, s.price) for s in best] == [("HAM-S", Decimal("12"))]
    assert [s.sku for s in cheapest.cheapest(list(BURGERS.products))] == ["AGU"]
    scoped = cheapest.in_view(BURGERS, [], ["Hamburguesas"], [])
    assert {p.sku for p in scoped} == {"HAM", "ROY"}
    recent = cheapest.in_view(HARDWARE, [], [], ["TAL", "CAB"])
    assert [s.sku for s in cheapest.cheapest(recent)] == ["CAB"]
    assert cheapest.asks_cheapest(fold("cual es la mas barata")) and cheapest.asks_cheapest(fold("el más económico?"))


# -- in a conversation (the bakery of tenants/dulce-lima.yaml) --------------------------------------------

def _talk(engine, *messages):
    from datetime import UTC, datetime

    from chasqui.dialogue.state import ConversationState

    state = ConversationState(customer_phone="51900000078")
    decision = None
    for text in messages:
        decision = engine.handle_customer(text, state, datetime(2026, 12, 8, 15, 30, tzinfo=UTC))
        state.cart, state.memory = dict(decision.cart), decision.memory
    return decision, " ".join(decision.replies)


def test_where_is_the_shop_gets_its_address(engine) -> None:
    for text in ("donde queda la tienda?", "donde estan ubicados?"):
        decision, said = _talk(engine, text)
        assert "Larco" in said and not decision.cart


def test_the_cheapest_is_said_with_its_price_and_taken_by_ese(engine) -> None:
    best = cheapest.cheapest(list(engine.tenant.products))[0]
    decision, said = _talk(engine, "cual es el mas barato?")
    assert best.product.name in said and f"{best.price:.2f}" in said and not decision.cart
    decision, _ = _talk(engine, "cual es el mas barato?", "ya dame 2 de ese")
    assert decision.cart == {best.sku: 2}


def test_when_will_it_arrive_is_the_chosen_zones_time_not_the_opening_hours(engine) -> None:
    _, said = _talk(engine, "quiero una torta de chocolate", "delivery a surco", "a q hora llega mas o menos?")
    assert "60-90 min" in said and "horario" not in said.lower()
