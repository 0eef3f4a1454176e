"""The webhook verify token is stored encrypted (found by a keyed hash) and never written to the
access log; the handshake keeps working."""

from __future__ import annotations

import logging

import pytest
from fakes.webapp import DEMO, runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import text


def test_the_verify_token_is_not_stored_readable_and_the_handshake_still_works(client: TestClient) -> None:
    with runtime_of(client).session() as session:
        rows = [" ".join(str(v) for v in row) for row in session.execute(text("SELECT * FROM tenants"))]
    assert rows and not any(DEMO["verify_token"] in row for row in rows)
    params = {"hub.mode": "subscribe", "hub.verify_token": DEMO["verify_token"], "hub.challenge": "42"}
    assert client.get("/webhook", params=params).text == "42"
    assert client.get("/webhook", params=params | {"hub.verify_token": "x"}).status_code == 403


def test_the_access_log_redacts_the_verify_token_and_access_tokens(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = f"/webhook?hub.mode=subscribe&hub.verify_token={DEMO['verify_token']}&hub.challenge=1&access_token=EAAx"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # uvicorn's own access-log call (uvicorn.protocols.http.h11_impl)
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200
        )
    (line,) = [r.getMessage() for r in caplog.records]
    assert DEMO["verify_token"] not in line and "EAAx" not in line
    assert "hub.verify_token=***" in line and "access_token=***" in line
