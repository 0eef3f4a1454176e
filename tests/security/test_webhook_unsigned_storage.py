"""Finding 3: nothing posted to /webhook is stored unless it carries a valid signature, unroutable
bodies are never stored, and raw webhook rows expire by the retention setting."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fakes.webapp import DEMO, count, runtime_of
from fakes.whatsapp_corpus import signed
from fastapi.testclient import TestClient

from chasqui.db.models import Message, WebhookEvent
from chasqui.whatsapp.ingest import refused_log
from chasqui.whatsapp.retention import purge_webhook_events
from chasqui.whatsapp.signature import sign


def _unroutable(padding: int = 0) -> dict:
    value = {"metadata": {"phone_number_id": "000000000"}, "messages": [], "junk": "x" * padding}
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "999", "changes": [change]}]}


def test_unsigned_bodies_are_refused_and_nothing_is_stored(client: TestClient) -> None:
    big = json.dumps(_unroutable(padding=1000 * 1000)).encode()
    answers = [client.post("/webhook", content=b"{}").status_code]
    answers += [client.post("/webhook", content=big).status_code for _ in range(30)]
    forged = {"X-Hub-Signature-256": sign(big, "guess")}
    answers.append(client.post("/webhook", content=big, headers=forged).status_code)
    assert set(answers) == {401}
    assert count(client, WebhookEvent) == 0


def test_a_signed_body_for_no_tenant_is_acknowledged_but_only_logged_truncated_and_rate_limited(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    refused_log._window_start, refused_log._lines, refused_log._held = 0.0, 0, 0
    raw, headers = signed(_unroutable(padding=200_000), DEMO["app_secret"])
    with caplog.at_level(logging.WARNING, logger="chasqui.whatsapp.ingest"):
        answers = {client.post("/webhook", content=raw, headers=headers).status_code for _ in range(25)}
    assert answers == {200}
    assert count(client, WebhookEvent) == 0 and count(client, Message) == 0
    lines = [r.getMessage() for r in caplog.records if "no tenant" in r.getMessage()]
    assert 1 <= len(lines) <= refused_log.per_minute
    assert max(len(line) for line in lines) < 600


def test_webhook_rows_older_than_the_retention_are_purged(client: TestClient) -> None:
    runtime = runtime_of(client)
    now = datetime.now(UTC)
    with runtime.session() as session:
        for age_days in (40, 31, 29, 1):
            session.add(
                WebhookEvent(
                    tenant_id=None, received_at=now - timedelta(days=age_days), body="{}", signature_ok=True,
                    processed=True,
                )
            )
    assert runtime.settings.webhook_retention_days == 30
    assert purge_webhook_events(runtime, now=now) == 2
    assert count(client, WebhookEvent) == 2
    assert purge_webhook_events(runtime, now=now, days=1) == 1
