"""Buttons and lists on WhatsApp: the bot offers them where a tap is quicker, a tap drives the
checkout like typed words would, and typing the answer still works."""

from __future__ import annotations

from fakes.graph_server import FakeGraph, Recorded
from fakes.webapp import runtime_of
from fakes.whatsapp_chat import Chat
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Message, Order


def _titles(reply: Recorded) -> list[str]:
    return [title for _id, title in reply.options]


def test_the_whole_checkout_can_be_done_by_tapping(live_client: TestClient, fake_graph: FakeGraph) -> None:
    chat = Chat(live_client, fake_graph)
    added = chat.says("quiero 2 tortas de chocolate")
    assert added.body["interactive"]["type"] == "button" and "Torta" in added.text
    assert _titles(added) == ["Confirmar pedido", "Ver mi pedido"]

    cart = chat.taps(added, "Ver mi pedido")
    assert "2 × Torta" in cart.text and _titles(cart) == ["Confirmar pedido", "Vaciar pedido"]

    asked = chat.taps(cart, "Confirmar pedido")
    assert _titles(asked) == ["Recojo en tienda", "Delivery"]

    zones = chat.taps(asked, "Delivery")
    assert zones.body["interactive"]["type"] == "list"  # four zones: a list, each with its fee
    assert _titles(zones) == ["Miraflores", "San Isidro", "Barranco", "Surco"]
    rows = zones.body["interactive"]["action"]["sections"][0]["rows"]
    assert rows[0]["description"] == "S/ 5.00"

    address = chat.taps(zones, "San Isidro")
    assert "dirección" in address.text.lower()  # a delivery order asks for the street once
    methods = chat.says("av. los conquistadores 456, dpto 302")
    # five methods: a list; a name longer than a row title is cut, the tap still means the method
    assert _titles(methods)[:2] == ["Yape", "Plin"] and _titles(methods)[3] == "Tarjeta (Visa/Mastercar…"

    readback = chat.taps(methods, "Tarjeta")
    assert "conquistadores 456" in readback.text and "Tarjeta (Visa/Mastercard)" in readback.text
    assert _titles(readback) == ["Confirmar pedido"]
    with runtime_of(live_client).session() as session:
        assert session.scalar(select(Order)) is None  # nothing is placed before the read-back is confirmed
    confirmed = chat.taps(readback, "Confirmar pedido")
    assert not confirmed.options and "Tarjeta (Visa/Mastercard)" in confirmed.text
    with runtime_of(live_client).session() as session:
        order = session.scalar(select(Order))
        assert order.zone == "San Isidro" and order.payment_method == "tarjeta"
        assert order.status == "pending_payment" and order.items[0].quantity == 2
        taps = session.scalars(select(Message).where(Message.type == "interactive")).all()
        assert [m.text for m in taps][-2].startswith("Tarjeta") and all(m.source == "rule" for m in taps)


def test_typing_the_answer_works_as_well_as_tapping(live_client: TestClient, fake_graph: FakeGraph) -> None:
    chat = Chat(live_client, fake_graph)
    chat.says("dame una torta de chocolate")
    asked = chat.says("ya, confirmo el pedido")
    assert _titles(asked) == ["Recojo en tienda", "Delivery"]
    methods = chat.says("paso a recogerlo")
    assert "Yape" in _titles(methods)
    readback = chat.says("con plin")
    assert "Plin" in readback.text and _titles(readback) == ["Confirmar pedido"]
    done = chat.says("sí, confirmo")
    assert "Plin" in done.text and not done.options
    with runtime_of(live_client).session() as session:
        order = session.scalar(select(Order))
        assert order.fulfillment == "pickup" and order.payment_method == "plin"


def test_an_old_button_tapped_later_does_no_harm(live_client: TestClient, fake_graph: FakeGraph) -> None:
    chat = Chat(live_client, fake_graph)
    added = chat.says("quiero 1 torta de chocolate")
    emptied = chat.says("vacía mi pedido")
    assert not emptied.options
    again = chat.taps(added, "Confirmar pedido")  # the cart is empty now: nothing is ordered
    assert not again.options
    with runtime_of(live_client).session() as session:
        assert session.scalar(select(Order)) is None


def test_a_tap_from_another_system_is_read_as_its_title(live_client: TestClient, fake_graph: FakeGraph) -> None:
    chat = Chat(live_client, fake_graph)
    message = {"type": "interactive",
               "interactive": {"type": "button_reply", "button_reply": {"id": "promo-42", "title": "Ver promociones"}}}
    reply = chat.send(message)
    with runtime_of(live_client).session() as session:
        tapped = session.scalar(select(Message).where(Message.wamid == "wamid.TAP.51987000777.1"))
        assert tapped.text == "Ver promociones" and tapped.intent == "consultar_promociones"
    assert reply.text
