"""Finding 16: a media id from the webhook is a number or nothing, and media is downloaded with the
token only from Meta's hosts (the Graph API host, Meta's CDNs), never from a URL someone chose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fakes.graph_server import FakeGraph

from chasqui.whatsapp.graph import GraphClient, GraphError
from chasqui.whatsapp.media import fetch_media

TOKEN = "EAAsecret-token"


class _Thief(ThreadingHTTPServer):
    """Any other server: records the Authorization headers it is sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        thief = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                thief.seen.append(self.headers.get("Authorization") or "")
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"\xff\xd8\xff")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def thief() -> Iterator[_Thief]:
    server = _Thief()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def graph(fake_graph: FakeGraph) -> Iterator[GraphClient]:
    client = GraphClient(fake_graph.url, "v21.0")
    yield client
    client.close()


@pytest.mark.parametrize("media_id", ["../../v21.0/109876543210/messages", "1?access_token=x", "12#", "abc", ""])
def test_a_non_numeric_media_id_never_reaches_the_graph_api(
    graph: GraphClient, fake_graph: FakeGraph, tmp_path: Path, media_id: str
) -> None:
    with pytest.raises(GraphError):
        fetch_media(graph, TOKEN, media_id, tmp_path, 1)
    assert fake_graph.requests == []


@pytest.mark.parametrize(
    "path",
    ["/x.jpg", "@lookaside.fbsbx.com/x.jpg"],
)
def test_the_token_is_never_sent_to_a_host_that_is_not_meta(
    graph: GraphClient, fake_graph: FakeGraph, thief: _Thief, tmp_path: Path, path: str
) -> None:
    fake_graph.add_media("5551", b"\xff\xd8\xff", "image/jpeg", url=thief.url + path)
    with pytest.raises(GraphError, match="host refused"):
        fetch_media(graph, TOKEN, "5551", tmp_path, 1)
    assert thief.seen == []


def test_meta_hosts_are_accepted_and_others_refused(graph: GraphClient, fake_graph: FakeGraph) -> None:
    assert graph.is_media_host(f"{fake_graph.url}/download/1")
    assert graph.is_media_host("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert graph.is_media_host("https://scontent.xx.fbcdn.net/v/t61/1.jpg")
    for url in (
        "http://lookaside.fbsbx.com/x",  # no TLS
        "https://fbcdn.net.evil.example/x",
        "https://evil.example/?u=lookaside.fbsbx.com",
        "https://user@lookaside.fbsbx.com/x",
        "https://lookaside.fbsbx.com:8443/x",
        "file:///etc/passwd",
    ):
        assert not graph.is_media_host(url), url
