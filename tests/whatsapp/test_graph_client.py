"""The Graph API client against a real local HTTP server: request shape and error mapping."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fakes.graph_server import FakeGraph

from chasqui.whatsapp.graph import GraphClient, GraphError, is_transient, parse_retry_after


def test_send_text_posts_to_the_phone_numbers_messages_endpoint(
    fake_graph: FakeGraph, graph_client: GraphClient
) -> None:
    wamid = graph_client.send_text("109876543210", "EAA-token", "51987000001", "Hola 😊")
    (request,) = fake_graph.requests
    assert request.path == "/v21.0/109876543210/messages"
    assert request.headers["authorization"] == "Bearer EAA-token"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "51987000001",
        "type": "text",
        "text": {"body": "Hola 😊", "preview_url": False},
    }
    assert wamid == request.wamid and wamid.startswith("wamid.")


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (500, None, True),
        (503, 2, True),
        (429, 130429, True),
        (400, 130429, True),
        (400, 131056, True),
        (400, 131047, False),
        (400, 131026, False),
        (401, 190, False),
        (400, 100, False),
        (500, 131047, False),
    ],
)
def test_errors_are_mapped_to_transient_or_permanent(
    fake_graph: FakeGraph, graph_client: GraphClient, status: int, code: int | None, transient: bool
) -> None:
    fake_graph.fail(status, code=code, message="nope")
    with pytest.raises(GraphError) as caught:
        graph_client.send_text("1", "t", "51", "x")
    assert caught.value.transient is transient
    assert caught.value.status == status and caught.value.code == code
    assert "nope" in str(caught.value)


def test_retry_after_is_read_from_the_response(fake_graph: FakeGraph, graph_client: GraphClient) -> None:
    fake_graph.fail(429, code=130429, headers={"Retry-After": "7"})
    with pytest.raises(GraphError) as caught:
        graph_client.send_text("1", "t", "51", "x")
    assert caught.value.transient and caught.value.retry_after == 7.0


def test_a_network_failure_is_transient() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = GraphClient(f"http://127.0.0.1:{port}", "v21.0", timeout=2.0)
    try:
        with pytest.raises(GraphError) as caught:
            client.send_text("1", "t", "51", "x")
    finally:
        client.close()
    assert caught.value.transient and caught.value.status is None


def test_retry_after_formats() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now.timestamp()) == 90.0
    )
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert is_transient(None, None) and not is_transient(404, None)
