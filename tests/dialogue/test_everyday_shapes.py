"""Everyday ways customers say things that the first outside tests (a phone-accessories shop and a
pollería) showed were misread; checked here on the demo bakery with sentences of its own."""

from __future__ import annotations

from datetime import timedelta

from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import ConversationState, OrderView, PlaceOrder, ReportPayment
from dialogue.conftest import NOW, fresh


def with_cart(cart: dict[str, int], **memory: object) -> ConversationState:
    state = fresh()
    state.cart, state.memory = dict(cart), dict(memory)
    return state


def test_the_first_greeting_is_the_bots_configured_one(engine: Engine) -> None:
    first = engine.handle_customer("hola", fresh(), NOW)
    assert first.replies[0].startswith(engine.tenant.bot.greeting)


def test_lacking_one_method_and_asking_for_another_gets_a_yes_to_that_one(engine: Engine) -> None:
    decision = engine.handle_customer("no tengo yape, puedo pagar con plin?", fresh(), NOW)
    assert "Plin" in decision.replies[0] and "987 654 321" in decision.replies[0]
    lacking_only = engine.handle_customer("no tengo yape", fresh(), NOW)
    assert "Plin" in lacking_only.replies[0] and "Yape" not in lacking_only.replies[0]


def test_asking_for_another_method_at_checkout_goes_on_with_the_order(engine: Engine) -> None:
    state = with_cart({"PIE-LIM": 1}, awaiting="payment_method", fulfillment="pickup")
    readback = engine.handle_customer("no tengo yape, aceptan plin?", state, NOW)
    assert "Plin" in " ".join(readback.replies) and not readback.order_commands
    state.memory = readback.memory
    decision = engine.handle_customer("sí, confirmo", state, NOW)
    [order] = [c for c in decision.order_commands if isinstance(c, PlaceOrder)]
    assert order.payment_method == "plin" and order.fulfillment == "pickup"


def test_how_much_with_a_full_cart_is_the_total(engine: Engine) -> None:
    state = with_cart({"PIE-LIM": 1, "CHI-MOR": 2}, last_intent="agregar_producto", last_skus=["CHI-MOR"])
    decision = engine.handle_customer("cuanto seria todo?", state, NOW)
    assert decision.intent == "ver_carrito" and "Pie de limón" in decision.replies[0]
    assert "75.00" in decision.replies[0]
    # right after a question about one product, "¿cuánto cuesta?" is that product's price
    asked = with_cart({"PIE-LIM": 1}, last_intent="consultar_disponibilidad", last_skus=["TOR-CHOC"],
                      focus_sku="TOR-CHOC")
    price = engine.handle_customer("cuanto cuesta?", asked, NOW)
    assert price.intent == "consultar_precio" and "Torta de chocolate" in price.replies[0]


def test_words_after_en_or_a_that_are_no_district_are_not_called_one(engine: Engine) -> None:
    for text in ("cuanto se demora en llegar?", "me lo pueden mandar a mi depa?", "llegan en la noche?"):
        decision = engine.handle_customer(text, fresh(), NOW)
        assert not any("no llegamos" in r.lower() for r in decision.replies), text


def test_how_long_after_a_delivery_order_is_that_zones_time(engine: Engine) -> None:
    state = fresh()
    state.order = OrderView(number="00007", status="pending_payment", items={"PIE-LIM": 1}, total=50,
                            payment_method="yape", zone="Surco")
    decision = engine.handle_customer("y cuanto se demora?", state, NOW)
    assert "Surco" in decision.replies[0] and "60-90 min" in decision.replies[0]


def test_not_wanting_one_line_removes_it_instead_of_cancelling(engine: Engine) -> None:
    decision = engine.handle_customer("ya no quiero el pie", with_cart({"PIE-LIM": 1, "TOR-CHOC": 1}), NOW)
    assert decision.cart == {"TOR-CHOC": 1} and not decision.order_commands


def test_pickup_said_along_the_way_is_kept_for_the_checkout(engine: Engine) -> None:
    state = with_cart({"TOR-CHOC": 1})
    asked = engine.handle_customer("yo lo recojo, donde quedan?", state, NOW)
    assert "Larco" in " ".join(asked.replies) and asked.memory.get("fulfillment") == "pickup"
    state.memory = asked.memory
    paid = engine.handle_customer("ya, confirmo, lo recojo y pago con yape", state, NOW)
    [order] = [c for c in paid.order_commands if isinstance(c, PlaceOrder)]
    assert order.fulfillment == "pickup" and order.payment_method == "yape"


def test_one_message_with_product_zone_and_payment_is_an_order(engine: Engine) -> None:
    readback = engine.handle_customer("mandame un pie de limon a barranco, jr junin 120, pago con plin", fresh(), NOW)
    assert not readback.order_commands and "Barranco" in " ".join(readback.replies)
    state = with_cart(readback.cart, **readback.memory)
    decision = engine.handle_customer("sí, confirmo", state, NOW)
    [order] = [c for c in decision.order_commands if isinstance(c, PlaceOrder)]
    assert order.items == {"PIE-LIM": 1} and order.zone == "Barranco" and order.payment_method == "plin"
    assert decision.choices is None  # no "confirm / view" buttons under a placed order


def test_swapping_one_product_for_another(engine: Engine) -> None:
    decision = engine.handle_customer("cambia las chichas por cafe", with_cart({"CHI-MOR": 2, "PIE-LIM": 1}), NOW)
    assert decision.cart == {"CAF-AME": 2, "PIE-LIM": 1}  # the same quantity, unless another is said
    one = engine.handle_customer("mejor un alfajor en vez del pie", with_cart({"CHI-MOR": 2, "PIE-LIM": 1}), NOW)
    assert one.cart == {"CHI-MOR": 2, "ALF-MAI": 1}


def test_adding_while_closed_says_when_the_order_is_prepared(engine: Engine) -> None:
    night = NOW + timedelta(hours=12)  # 22:00 in Lima on a Wednesday
    decision = engine.handle_customer("quiero un pie de limon", fresh(), night)
    assert decision.cart == {"PIE-LIM": 1} and "cerrados" in decision.replies[-1]
    again = with_cart(decision.cart, **decision.memory)
    later = engine.handle_customer("y una chicha morada", again, night)
    assert not any("cerrados" in r for r in later.replies)  # said once


def test_after_offering_one_product_a_bare_order_means_it(engine: Engine) -> None:
    state = with_cart({}, offered_skus=["TOR-TRES"], last_skus=["TOR-TRES"])
    decision = engine.handle_customer("ya, dame 2 tortas", state, NOW)
    assert decision.cart == {"TOR-TRES": 2}


def test_a_price_answer_mentions_the_products_promotion(engine: Engine) -> None:
    decision = engine.handle_customer("cuanto estan los alfajores?", fresh(), NOW)
    assert "18.00" in decision.replies[0] and "promo" in decision.replies[0].lower()


def test_the_order_summary_shows_the_discount_that_makes_its_total(engine: Engine) -> None:
    state = with_cart({"ALF-MAI": 2}, fulfillment="pickup")
    decision = engine.handle_customer("pago con yape", state, NOW)
    summary = decision.replies[-1]
    assert "-S/ 18.00" in summary and "Total: S/ 18.00" in summary


def test_asking_for_another_kind_never_adds_the_product_talked_about_before(engine: Engine) -> None:
    state = with_cart({}, focus_sku="CHI-MOR", last_skus=["CHI-MOR"])
    decision = engine.handle_customer("quiero una torta", state, NOW)
    assert "CHI-MOR" not in decision.cart


def test_emptying_the_cart_forgets_the_products_talked_about(engine: Engine) -> None:
    decision = engine.handle_customer("borra todo", with_cart({"PIE-LIM": 1}, focus_sku="PIE-LIM",
                                                              last_skus=["PIE-LIM"]), NOW)
    assert decision.cart == {} and "focus_sku" not in decision.memory and "last_skus" not in decision.memory


def test_what_a_product_comes_with_is_its_catalog_description(engine: Engine) -> None:
    decision = engine.handle_customer("que trae la torta de chocolate?", fresh(), NOW)
    assert "fudge y ganache" in " ".join(decision.replies)
    state = with_cart({}, last_skus=["TOR-CHOC"], focus_sku="TOR-CHOC")
    other_topic = engine.handle_customer("como es el pago?", state, NOW)
    assert "ganache" not in " ".join(other_topic.replies)


def test_a_bare_times_n_after_one_item_means_n_of_it_in_all(engine: Engine) -> None:
    state = with_cart({"PIE-LIM": 1}, focus_sku="PIE-LIM", last_skus=["PIE-LIM"], last_cart_sku="PIE-LIM")
    assert engine.handle_customer("x2", state, NOW).cart == {"PIE-LIM": 2}
    more = engine.handle_customer("dame 2 mas", state, NOW)
    assert more.cart == {"PIE-LIM": 3}


def test_announcing_a_payment_places_the_order_and_paying_marks_it_paid(engine: Engine) -> None:
    state = with_cart({"PIE-LIM": 1}, fulfillment="pickup")
    readback = engine.handle_customer("te yapeo", state, NOW)
    assert not readback.order_commands and "987 654 321" in " ".join(readback.replies)  # where to pay
    state.memory = readback.memory
    announced = engine.handle_customer("sí, confirmo", state, NOW)
    [order] = [c for c in announced.order_commands if isinstance(c, PlaceOrder)]
    assert order.payment_method == "yape" and not [c for c in announced.order_commands
                                                   if isinstance(c, ReportPayment)]
    assert "987 654 321" in " ".join(announced.replies)  # where to pay
    placed = fresh()
    placed.order = OrderView(number=order.number, status="pending_payment", items={"PIE-LIM": 1}, total=45,
                             payment_method="yape")
    paid = engine.handle_customer("ya te yapee, ahi va la captura", placed, NOW)
    assert [c.number for c in paid.order_commands if isinstance(c, ReportPayment)] == [order.number]


def test_the_other_one_too_adds_the_other_option_offered(engine: Engine) -> None:
    state = with_cart({"TOR-CHOC": 1}, offered_skus=["TOR-CHOC", "TOR-TRES"], focus_sku="TOR-CHOC",
                      last_skus=["TOR-CHOC"], last_intent="agregar_producto")
    decision = engine.handle_customer("y la otra tambien", state, NOW)
    assert decision.cart == {"TOR-CHOC": 1, "TOR-TRES": 1}


def test_how_long_after_asking_about_a_zone_is_that_zones_time(engine: Engine) -> None:
    asked = engine.handle_customer("llegan a barranco?", fresh(), NOW)
    state = with_cart({}, **asked.memory)
    decision = engine.handle_customer("y cuanto demora?", state, NOW)
    assert "Barranco" in decision.replies[0] and "45-60 min" in decision.replies[0]


def test_the_combo_named_by_the_customer_goes_into_the_cart_whole(engine: Engine) -> None:
    decision = engine.handle_customer("ya dame el combo", fresh(), NOW)
    assert decision.cart == {"CAF-AME": 1, "SUS-PIC": 1}  # the demo's one bundle, at its promo price
    assert "17.00" in decision.replies[0]


def test_the_cart_total_includes_the_delivery_of_the_zone_already_chosen(engine: Engine) -> None:
    state = with_cart({"PIE-LIM": 1}, fulfillment="delivery", zone="Surco", last_intent="agregar_producto")
    decision = engine.handle_customer("cuanto seria todo con el delivery?", state, NOW)
    assert "Surco" in decision.replies[0] and "55.00" in decision.replies[0]
