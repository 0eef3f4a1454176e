"""Product photos: the catalog's image URL goes to the customer when one product is asked about,
once per conversation, and again whenever the customer asks for a photo."""

from __future__ import annotations

from fakes.graph_server import FakeGraph
from fakes.webapp import runtime_of
from fakes.whatsapp_chat import Chat
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Message, Product

PHOTO = "https://cdn.dulcelima.example/torta-chocolate.jpg"


def _photos(graph: FakeGraph) -> list[dict]:
    return [r.body["image"] for r in graph.sent() if r.body.get("type") == "image"]


def test_a_product_photo_is_sent_once_and_again_when_asked(live_client: TestClient, fake_graph: FakeGraph) -> None:
    with runtime_of(live_client).session() as session:
        session.scalar(select(Product).where(Product.sku == "TOR-CHOC")).image_url = PHOTO
    chat = Chat(live_client, fake_graph)
    answer = chat.says("cuánto cuesta la torta de chocolate?")
    assert answer.body["type"] == "image"  # the price first, then the photo
    assert "Torta" in fake_graph.sent()[-2].text
    assert _photos(fake_graph) == [{"link": PHOTO, "caption": "Torta de chocolate"}]

    chat.says("y la torta de chocolate tienen hoy?")
    assert len(_photos(fake_graph)) == 1  # not again unasked

    chat.says("tienes fotos de la torta?")
    assert len(_photos(fake_graph)) == 2

    chat.says("cuánto está la chicha morada?")  # no photo in the catalog: text only
    assert len(_photos(fake_graph)) == 2
    with runtime_of(live_client).session() as session:
        sent = session.scalars(select(Message).where(Message.type == "image", Message.direction == "out")).all()
        assert [m.media["link"] for m in sent] == [PHOTO, PHOTO] and all(m.status == "sent" for m in sent)
