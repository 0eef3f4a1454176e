"""Fixtures for the WhatsApp tests: the fake Graph API server and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.graph_server import FakeGraph

from chasqui.whatsapp.graph import GraphClient


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    with FakeGraph() as graph:
        yield graph


@pytest.fixture
def graph_client(fake_graph: FakeGraph) -> Iterator[GraphClient]:
    client = GraphClient(fake_graph.url, "v21.0", timeout=5.0)
    yield client
    client.close()
