"""Helpers for tests that drive the real web app (settings, waiting for the worker, counting rows)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chasqui.config import Settings
from chasqui.db.models import Message, OutboxMessage
from chasqui.runtime import Runtime
from chasqui.worker.outbox import RetryPolicy
from chasqui.worker.run import WorkerConfig

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "chasqui-web-tests-secret-key"
DEMO = {
    "slug": "dulce-lima",
    "phone_number_id": "109876543210",
    "waba_id": "102030405060",
    "app_secret": "demo-app-secret",
    "verify_token": "demo-verify-token",
    "token": "EAAdemo-token-not-real",
}
FAST_WORKER = WorkerConfig(poll_s=0.05, sweep_s=0.5, retry=RetryPolicy(base_s=0.05, max_delay_s=1.0))


def make_settings(directory: Path, graph_url: str = "http://127.0.0.1:9") -> Settings:
    return Settings(
        database_url=f"sqlite:///{directory / 'chasqui.db'}",
        data_dir=directory,
        secret_key=SECRET_KEY,
        redis_url=None,
        graph_api_url=graph_url,
        graph_api_version="v21.0",
    )


def runtime_of(client: TestClient) -> Runtime:
    return client.app.state.chasqui.runtime  # type: ignore[attr-defined]


def wait_idle(client: TestClient, timeout: float = 15.0) -> None:
    """Wait until every inbound message is processed and no outbox row is pending or in flight."""
    runtime = runtime_of(client)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.session() as session:
            busy = session.scalar(
                select(func.count(Message.id)).where(Message.direction == "in", Message.processed.is_(False))
            )
            busy += session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError("the worker did not finish in time")


def count(client: TestClient, model: Any, *where: Any) -> int:
    with runtime_of(client).session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
