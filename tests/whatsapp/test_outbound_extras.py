"""Outbound extras against the fake Graph API: interactive buttons and lists, templates, images,
mark-as-read, and inbound media download with type and size limits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fakes.graph_server import FakeGraph

from chasqui.whatsapp import messages
from chasqui.whatsapp.graph import GraphClient, GraphError, MediaTooLarge
from chasqui.whatsapp.media import MediaRefused, fetch_media

PHONE_ID, TOKEN, CUSTOMER = "109876543210", "EAA-token", "51987000001"


def test_reply_buttons_reach_the_graph_api_as_meta_expects(graph_client: GraphClient, fake_graph: FakeGraph) -> None:
    message = messages.reply_buttons(
        "Tu pedido: 2 tortas de chocolate, total S/ 130.00. ¿Lo confirmo?",
        [("confirm", "Sí, confirmo"), ("change", "Cambiar algo")],
        footer="También puedes escribir tu respuesta",
    )
    assert graph_client.send_message(PHONE_ID, TOKEN, CUSTOMER, message).startswith("wamid.FAKE")
    (request,) = fake_graph.sent()
    interactive = request.body["interactive"]
    assert request.body["type"] == "interactive" and interactive["type"] == "button"
    assert [b["reply"]["title"] for b in interactive["action"]["buttons"]] == ["Sí, confirmo", "Cambiar algo"]


def test_buttons_and_lists_outside_metas_limits_are_refused_before_sending() -> None:
    four = [(f"b{i}", f"Opción {i}") for i in range(4)]
    with pytest.raises(messages.MessageError, match="1 to 3"):
        messages.reply_buttons("¿Cómo pagas?", four)
    with pytest.raises(messages.MessageError, match="title"):
        messages.reply_buttons("¿Cómo pagas?", [("yape", "Yape, Plin o transferencia bancaria")])
    with pytest.raises(messages.MessageError, match="unique"):
        messages.reply_buttons("¿Cómo pagas?", [("x", "Yape"), ("x", "Plin")])
    rows = [(f"r{i}", f"Producto {i}", None) for i in range(11)]
    with pytest.raises(messages.MessageError, match="10 rows"):
        messages.list_message("Elige", "Ver carta", [("Tortas", rows)])


def test_a_payment_method_list_keeps_ids_titles_and_descriptions(
    graph_client: GraphClient, fake_graph: FakeGraph
) -> None:
    message = messages.list_message(
        "¿Con qué medio pagas?",
        "Medios de pago",
        [("Pago", [("yape", "Yape", "Al 987 654 321"), ("efectivo", "Efectivo", None)])],
    )
    graph_client.send_message(PHONE_ID, TOKEN, CUSTOMER, message)
    section = fake_graph.sent()[0].body["interactive"]["action"]["sections"][0]
    assert section["rows"] == [
        {"id": "yape", "title": "Yape", "description": "Al 987 654 321"},
        {"id": "efectivo", "title": "Efectivo"},
    ]


def test_a_template_for_staff_outside_the_24h_window(graph_client: GraphClient, fake_graph: FakeGraph) -> None:
    message = messages.template("nuevo_pedido", "es", ["00042", "S/ 130.00"])
    graph_client.send_message(PHONE_ID, TOKEN, "51999000000", message)
    body = fake_graph.sent()[0].body
    assert body["type"] == "template" and body["template"]["name"] == "nuevo_pedido"
    assert body["template"]["language"] == {"code": "es"}
    params = body["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["00042", "S/ 130.00"]
    with pytest.raises(messages.MessageError):
        messages.template("Nuevo Pedido")


def test_an_image_by_link_or_by_uploaded_media_id() -> None:
    assert messages.image(link="https://example.com/torta.jpg", caption="Torta de chocolate")["image"] == {
        "link": "https://example.com/torta.jpg",
        "caption": "Torta de chocolate",
    }
    assert messages.image(media_id="1234")["image"] == {"id": "1234"}
    with pytest.raises(messages.MessageError):
        messages.image()


def test_mark_as_read_posts_the_read_status_of_the_message(graph_client: GraphClient, fake_graph: FakeGraph) -> None:
    graph_client.mark_read(PHONE_ID, TOKEN, "wamid.IN1", typing=True)
    (request,) = fake_graph.requests
    assert request.path == f"/v21.0/{PHONE_ID}/messages" and request.token == TOKEN
    assert request.body == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
        "typing_indicator": {"type": "text"},
    }
    assert not fake_graph.sent()  # not a message to the customer


# ------------------------------------------------------------------------------------ inbound media
def test_a_voucher_image_is_downloaded_with_the_token_and_stored_under_the_data_dir(
    graph_client: GraphClient, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    content = b"\xff\xd8\xff" + b"captura de yape" * 100
    fake_graph.add_media("777", content, "image/jpeg")
    stored = fetch_media(graph_client, TOKEN, "777", tmp_path, 1)
    assert stored.path.startswith("1/in-") and stored.path.endswith(".jpg") and stored.mime_type == "image/jpeg"
    assert (tmp_path / "media" / stored.path).read_bytes() == content
    assert stored.sha256 == hashlib.sha256(content).hexdigest() and stored.size == len(content)
    downloads = [r for r in fake_graph.requests if r.method == "GET"]
    assert [r.path for r in downloads] == ["/v21.0/777", "/download/777"]
    assert all(r.token == TOKEN for r in downloads)


def test_media_of_a_refused_type_or_over_the_limit_is_not_stored(
    graph_client: GraphClient, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    fake_graph.add_media("7001", b"MZ...", "application/x-msdownload")
    with pytest.raises(MediaRefused, match="not accepted"):
        fetch_media(graph_client, TOKEN, "7001", tmp_path, 1)
    fake_graph.add_media("7002", b"x" * 2048, "image/jpeg", file_size=100)
    with pytest.raises(MediaTooLarge):  # Meta's description says 100 bytes; the download is what counts
        fetch_media(graph_client, TOKEN, "7002", tmp_path, 1, limits={"image/jpeg": 1024})
    fake_graph.add_media("7003", b"x" * 10, "image/jpeg", file_size=10 * 1024 * 1024)
    with pytest.raises(MediaRefused, match="over the"):
        fetch_media(graph_client, TOKEN, "7003", tmp_path, 1)
    fake_graph.add_media("7004", b"abc", "image/png", sha256="0" * 64)
    with pytest.raises(MediaRefused, match="sha256"):
        fetch_media(graph_client, TOKEN, "7004", tmp_path, 1)
    assert not list(tmp_path.rglob("*.*"))


def test_an_unknown_media_id_is_a_graph_error(graph_client: GraphClient, tmp_path: Path) -> None:
    with pytest.raises(GraphError) as error:
        fetch_media(graph_client, TOKEN, "7005", tmp_path, 1)
    assert not error.value.transient
