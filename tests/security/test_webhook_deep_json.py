"""Finding 8: deeply nested JSON never reaches the parser unsigned and never gives a 500."""

from __future__ import annotations

from fakes.webapp import DEMO
from fakes.whatsapp_corpus import signed
from fastapi.testclient import TestClient

from chasqui.whatsapp.sanitize import MAX_DEPTH


def _nested(levels: int) -> bytes:
    return b'{"entry": ' + b"[" * levels + b"]" * levels + b"}"


def test_unsigned_deep_json_is_refused_before_parsing(client: TestClient) -> None:
    for levels in (5_000, 100_000):
        assert client.post("/webhook", content=_nested(levels)).status_code == 401


def test_signed_deep_json_is_a_400_not_a_500(client: TestClient) -> None:
    for levels in (MAX_DEPTH + 1, 5_000, 100_000):
        raw, headers = signed(_nested(levels), DEMO["app_secret"])
        response = client.post("/webhook", content=raw, headers=headers)
        assert response.status_code == 400, levels
    raw, headers = signed(b'{"s": "' + b"[" * 10_000 + b'", "entry": []}', DEMO["app_secret"])
    assert client.post("/webhook", content=raw, headers=headers).status_code == 200  # brackets in a string
