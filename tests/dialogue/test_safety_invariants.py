"""Safety rules a customer notices whatever the classifier says: the address they give is their
address (never items), a payment they report is reported, a confirmed order waiting only for the
address is placed when it comes."""

from __future__ import annotations

from chasqui.dialogue import shop_answers
from chasqui.dialogue.address import split
from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import CancelOrder, ReportPayment
from dialogue.conftest import fresh
from dialogue.test_checkout_safety import placed, talk


def test_address_shapes_are_taken_whole_and_other_clauses_kept() -> None:
    assert split("sector 3 grupo 12 mz F lote 8", answering=True) == ("sector 3 grupo 12 mz F lote 8", "")
    assert split("Av. Caminos del Inca 1250, dpto 502")[0] == "Av. Caminos del Inca 1250, dpto 502"
    assert split("Jr. Las Flores 123, Urb. La Libertad, pago con yape") == (
        "Jr. Las Flores 123, Urb. La Libertad", "pago con yape")
    assert split("mándamelo a Av. Arequipa 2450") == ("Av. Arequipa 2450", "mándamelo")
    assert split("Calle Los Pinos 214, a una cuadra del mercado", answering=True)[0] == (
        "Calle Los Pinos 214, a una cuadra del mercado")
    for not_address in ("pago con 50", "dame 3 de esa", "con 100 para el vuelto", "quiero 2 tortas"):
        assert split(not_address, answering=True)[0] is None, not_address


def test_the_address_asked_for_never_adds_items(engine: Engine) -> None:
    state, [_, asked, given] = talk(engine, fresh(), "quiero un pie de limón", "mándalo a miraflores",
                                    "mz F lote 8 sector 3 grupo 12, pago con plin")
    assert "dirección" in " ".join(asked.replies)
    assert given.cart == {"PIE-LIM": 1} and given.status == "bot"
    readback = " ".join(given.replies)
    assert "mz F lote 8 sector 3 grupo 12" in readback and "Plin" in readback
    _, [confirmed] = talk(engine, state, "sí, confirmo")
    [order] = placed(confirmed)
    assert order.items == {"PIE-LIM": 1} and order.address == "mz F lote 8 sector 3 grupo 12"
    assert order.payment_method == "plin"


def test_the_address_after_a_confirmation_gets_the_read_back_then_the_order(engine: Engine) -> None:
    state, [_, asked, given] = talk(engine, fresh(), "quiero un pie de limón",
                                    "confirmo, delivery a miraflores, pago con plin", "Av. Larco 1150, dpto 301")
    assert placed(asked) == [] and "dirección" in " ".join(asked.replies)
    assert placed(given) == [] and "Av. Larco 1150, dpto 301" in " ".join(given.replies)
    _, [confirmed] = talk(engine, state, "sí")
    [order] = placed(confirmed)
    assert order.items == {"PIE-LIM": 1} and order.address == "Av. Larco 1150, dpto 301"


def test_ways_of_saying_the_transfer_is_done_report_the_payment(engine: Engine) -> None:
    state, [*_, confirmed] = talk(engine, fresh(), "quiero un pie de limón", "lo recojo, pago con plin",
                                  "sí, confirmo")
    [order] = placed(confirmed)
    for said in ("listo, ya hice la transferencia", "ya realicé el pago", "ahí te mandé el voucher",
                 "ya hice el depósito"):
        _, [paid] = talk(engine, state, said)
        assert [c.number for c in paid.order_commands if isinstance(c, ReportPayment)] == [order.number], said


def test_a_question_never_changes_the_cart_unless_it_also_orders(engine: Engine) -> None:
    state, [added, asked] = talk(engine, fresh(), "quiero 2 suspiros a la limeña",
                                 "y si me sobra un suspiro lo puedo devolver?")
    assert added.cart == {"SUS-PIC": 2} and asked.cart == {"SUS-PIC": 2}
    _, [both] = talk(engine, state, "dame 1 pie de limón, ¿dan boleta?")
    assert both.cart == {"SUS-PIC": 2, "PIE-LIM": 1}
    _, [polite] = talk(engine, state, "¿me das 1 pie de limón?")
    assert polite.cart == {"SUS-PIC": 2, "PIE-LIM": 1}


def test_a_cancel_command_cancels_the_order_just_placed_and_quotes_the_policy(engine: Engine, monkeypatch) -> None:
    state, [*_, confirmed] = talk(engine, fresh(), "quiero un pie de limón",
                                  "confirmo, recojo en tienda y pago en efectivo")
    [order] = placed(confirmed)
    policy = shop_answers.ShopAnswer("policy", (("politica", {"text": "Puedes cancelar hasta 5 minutos después.",
                                                             "topic": "cancelación"}),))
    monkeypatch.setattr(shop_answers, "answer_turn", lambda *args: policy)  # the shop's policy is found
    _, [cancel] = talk(engine, state, "uy perdón cancélalo")
    assert [c.number for c in cancel.order_commands if isinstance(c, CancelOrder)] == [order.number]
    assert "5 minutos" in " ".join(cancel.replies)
