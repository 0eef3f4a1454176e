"""Slow request bodies: a client that sends its body a byte every few seconds no longer holds the
request forever. Against a real uvicorn server on 127.0.0.1, over a raw socket: the server answers
408 and closes the connection once the body stops coming (idle) or takes longer than the deadline;
a chunked body (no Content-Length) over a route's cap is answered 413 while it streams."""

from __future__ import annotations

import socket
import time

import pytest
from fakes.live import LiveServer

from chasqui.web.app import create_app

IDLE_S = 1.0
TOTAL_S = 2.5


@pytest.fixture
def server(web_settings):
    settings = web_settings.model_copy(update={"body_timeout_s": TOTAL_S, "body_idle_timeout_s": IDLE_S})
    with LiveServer(create_app(settings, embedded_worker=False)) as live:
        yield live


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def _head(path: str, length: int | None) -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n{size}\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 30 s pass)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed with our unread upload still in its buffer
        pass
    return data


def _send_slowly(sock: socket.socket, pause_s: float, budget_s: float) -> float:
    """Send one byte every ``pause_s`` until the server hangs up or ``budget_s`` passes; when it hung up."""
    start = time.monotonic()
    while time.monotonic() - start < budget_s:
        try:
            sock.sendall(b"a")
        except OSError:
            break
        sock.settimeout(pause_s)
        try:
            if sock.recv(1, socket.MSG_PEEK):
                break
        except TimeoutError:
            continue
    sock.settimeout(30)
    return time.monotonic() - start


@pytest.mark.parametrize("path", ["/login", "/webhook", "/admin/catalog/import"])
def test_a_body_that_stops_coming_is_cut_with_408(server, path: str) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(path, 100) + b"csrf=")
        start = time.monotonic()
        answer = _answer(sock)
        waited = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert waited < IDLE_S + 10


def test_a_body_trickling_one_byte_at_a_time_is_cut_at_the_deadline(server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/login", 10_000))
        hung_up_after = _send_slowly(sock, pause_s=IDLE_S / 3, budget_s=TOTAL_S + 20)
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert hung_up_after < TOTAL_S + 10


def test_a_chunked_body_over_the_cap_is_refused_while_it_streams(server) -> None:
    chunk = b"a" * 65536
    with _connect(server) as sock:
        sock.sendall(_head("/login", None))
        try:
            for _ in range(17):  # 1.1 MB, more than a form may hold
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed while we were still sending
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_normal_request_is_untouched(server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 200")
