"""Staff hear about every sale on WhatsApp, inside or outside the 24 h customer-service window."""

from __future__ import annotations

from fakes.graph_server import FakeGraph
from fakes.webapp import runtime_of
from fakes.whatsapp_chat import Chat
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import NotificationSettings, OutboxMessage

QUIET_STAFF, TALKING_STAFF = "51911222333", "51944555666"  # the demo tenant's two staff numbers


def _use_template(client: TestClient, name: str) -> None:
    with runtime_of(client).session() as session:
        settings = session.scalar(select(NotificationSettings))
        settings.template_name, settings.template_language = name, "es_PE"


def _sale(client: TestClient, graph: FakeGraph) -> None:
    customer = Chat(client, graph)
    customer.says("quiero 2 tortas de chocolate")
    customer.says("confirmo, lo recojo en tienda y pago con yape")


def test_a_staff_number_silent_for_24h_gets_the_template_the_others_plain_text(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    _use_template(live_client, "aviso_equipo")
    Chat(live_client, fake_graph, phone=TALKING_STAFF).says("hola, soy Carla de la tienda")
    _sale(live_client, fake_graph)

    to_quiet = [r.body for r in fake_graph.sent() if r.to == QUIET_STAFF]
    to_talking = [r.body for r in fake_graph.sent() if r.to == TALKING_STAFF and "Torta" in r.text]
    assert len(to_quiet) == 1 and len(to_talking) == 1
    template = to_quiet[0]["template"]
    assert to_quiet[0]["type"] == "template" and template["name"] == "aviso_equipo"
    assert template["language"] == {"code": "es_PE"}
    (notice,) = template["components"][0]["parameters"]
    assert "Torta" in notice["text"] and "\n" not in notice["text"]  # the sale itself, on one line
    assert to_talking[0]["type"] == "text" and "Torta" in to_talking[0]["text"]["body"]


def test_without_a_template_the_notice_goes_as_text(live_client: TestClient, fake_graph: FakeGraph) -> None:
    _use_template(live_client, "")
    _sale(live_client, fake_graph)
    with runtime_of(live_client).session() as session:
        kinds = {row.to: row.payload["type"] for row in session.scalars(select(OutboxMessage))
                 if row.payload.get("kind") == "sale"}
    assert kinds == {QUIET_STAFF: "text", TALKING_STAFF: "text"}
