"""Checkout safety as a customer notices it: no order before they confirm one read-back, a change
gets a new read-back, and a payment they report is never taken as verified."""

from __future__ import annotations

from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import (
    ConversationState,
    Decision,
    MarkPaid,
    OrderView,
    PlaceOrder,
    ReportPayment,
)
from dialogue.conftest import NOW, fresh


def after(state: ConversationState, decision: Decision) -> ConversationState:
    """The state the next message finds (what the service writes back)."""
    nxt = fresh()
    nxt.cart, nxt.memory, nxt.order = dict(decision.cart), dict(decision.memory), state.order
    for command in decision.order_commands:
        if isinstance(command, PlaceOrder):
            nxt.order = OrderView(number=command.number, status="pending_payment", items=dict(command.items),
                                  total=command.total, payment_method=command.payment_method, zone=command.zone)
    return nxt


def talk(engine: Engine, state: ConversationState, *texts: str) -> tuple[ConversationState, list[Decision]]:
    decisions = []
    for text in texts:
        decision = engine.handle_customer(text, state, NOW)
        decisions.append(decision)
        state = after(state, decision)
    return state, decisions


def placed(decision: Decision) -> list[PlaceOrder]:
    return [c for c in decision.order_commands if isinstance(c, PlaceOrder)]


def test_delivery_and_payment_in_one_message_get_a_read_back_not_an_order(engine: Engine) -> None:
    state, [_, facts] = talk(engine, fresh(), "quiero 2 tortas de chocolate",
                             "es para surco, jr los amautas 345, pago en efectivo con 200")
    assert placed(facts) == [] and facts.cart == {"TOR-CHOC": 2}
    readback = " ".join(facts.replies)
    for part in ("2 × Torta de chocolate", "Surco", "jr los amautas 345", "Efectivo", "200", "confirm"):
        assert part in readback, part
    assert "confirmado" not in readback.lower()
    assert facts.choices is not None and [o.title for o in facts.choices.options] == ["Confirmar pedido"]
    # the customer confirms: now the order exists, with what was read back
    _, [confirmed] = talk(engine, state, "sí, confirmo")
    [order] = placed(confirmed)
    assert order.items == {"TOR-CHOC": 2} and order.zone == "Surco" and order.payment_method == "efectivo"
    assert order.address == "jr los amautas 345" and order.change_for == 200
    assert any(order.number in r for r in confirmed.replies) and confirmed.cart == {}
    notice = confirmed.notifications[0].text
    assert "jr los amautas 345" in notice and "200" in notice


def test_each_way_of_saying_yes_confirms_the_read_back(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "lo recojo en tienda, pago con plin")
    for yes in ("sí", "si confirmo", "dale", "ya", "ok", "correcto", "así está bien"):
        _, [decision] = talk(engine, state, yes)
        assert len(placed(decision)) == 1, yes


def test_a_delivery_without_address_asks_for_it_once(engine: Engine) -> None:
    state, [_, asked] = talk(engine, fresh(), "quiero un pie de limón", "mándalo a miraflores")
    assert placed(asked) == [] and "dirección" in " ".join(asked.replies)
    state, [answer] = talk(engine, state, "calle los pinos 123, dpto 201")
    assert placed(answer) == [] and state.memory.get("address") == "calle los pinos 123, dpto 201"
    state, [method] = talk(engine, state, "pago con yape")
    assert placed(method) == [] and "calle los pinos 123, dpto 201" in " ".join(method.replies)
    assert "987 654 321" in " ".join(method.replies)  # the method's details in the read-back


def test_a_message_that_confirms_with_every_fact_places_the_order_at_once(engine: Engine) -> None:
    state, [_, decision] = talk(engine, fresh(), "quiero un suspiro a la limeña",
                                "confirmo, recojo en tienda y pago en efectivo")
    [order] = placed(decision)
    assert order.fulfillment == "pickup" and order.payment_method == "efectivo"
    reply = " ".join(decision.replies)
    assert "Suspiro" in reply and order.number in reply  # the reply is the read-back with the number


def test_a_change_after_the_read_back_gets_a_new_read_back(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda, pago con yape")
    state, [changed] = talk(engine, state, "mejor pago con plin")
    assert placed(changed) == [] and "Plin" in " ".join(changed.replies)
    state, [added] = talk(engine, state, "agrégame 2 chichas moradas")
    assert placed(added) == [] and added.cart == {"PIE-LIM": 1, "CHI-MOR": 2}
    assert "Chicha" in " ".join(added.replies) and "Plin" in " ".join(added.replies)
    state, [zone] = talk(engine, state, "mejor envíalo a barranco, av grau 456")
    assert placed(zone) == [] and "Barranco" in " ".join(zone.replies)
    _, [yes] = talk(engine, state, "sí")
    [order] = placed(yes)
    assert order.items == {"PIE-LIM": 1, "CHI-MOR": 2} and order.payment_method == "plin"
    assert order.zone == "Barranco" and order.address == "av grau 456"


def test_a_question_after_the_read_back_is_answered_and_it_stays_pending(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda, pago con yape")
    state, [question] = talk(engine, state, "cuánto cuesta la chicha morada?")
    assert placed(question) == [] and any("15" in r for r in question.replies)
    assert state.memory.get("readback") and state.cart == {"PIE-LIM": 1}
    _, [yes] = talk(engine, state, "ok, así está bien")
    [order] = placed(yes)
    assert order.items == {"PIE-LIM": 1} and order.payment_method == "yape"


def test_no_order_without_confirmation_when_nothing_is_said(engine: Engine) -> None:
    state, decisions = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda", "yape")
    assert all(placed(d) == [] for d in decisions)
    _, [thanks] = talk(engine, state, "gracias")
    assert placed(thanks) == []


def test_ya_te_yapee_after_the_read_back_confirms_and_reports_the_payment(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda, pago con yape")
    _, [paid] = talk(engine, state, "listo, ya te yapeé")
    [order] = placed(paid)
    assert [c.number for c in paid.order_commands if isinstance(c, ReportPayment)] == [order.number]
    assert not [c for c in paid.order_commands if isinstance(c, MarkPaid)]
    assert {n.kind for n in paid.notifications} == {"sale", "payment"}


def test_a_bare_yes_after_the_order_does_not_touch_its_payment(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda, pago con yape", "sí")
    assert state.order is not None and state.order.status == "pending_payment"
    for text in ("ya", "ok", "dale"):
        _, [decision] = talk(engine, state, text)
        assert decision.order_commands == [], text
    _, [paid] = talk(engine, state, "ya te yapeé")
    assert [type(c).__name__ for c in paid.order_commands] == ["ReportPayment"]


def test_a_payment_with_no_open_order_changes_nothing(engine: Engine) -> None:
    _, [decision] = talk(engine, fresh(), "ya pagué")
    assert decision.order_commands == [] and decision.replies
    reported = fresh()
    reported.order = OrderView(number="00004", status="payment_reported", items={"PIE-LIM": 1}, total=45,
                               payment_method="yape")
    _, [again] = talk(engine, reported, "ya te pagué")
    assert again.order_commands == [] and "00004" in " ".join(again.replies)


def test_a_screenshot_after_the_read_back_confirms_and_reports(engine: Engine) -> None:
    state, _ = talk(engine, fresh(), "quiero un pie de limón", "recojo en tienda, pago con yape")
    decision = engine.handle_customer("", state, NOW, kind="image")
    assert [type(c).__name__ for c in decision.order_commands] == ["PlaceOrder", "ReportPayment"]
