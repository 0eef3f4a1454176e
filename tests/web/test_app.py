"""The app factory, its lifespan (embedded worker started and stopped) and the first-start bootstrap."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.graph_server import FakeGraph
from fakes.webapp import make_settings, runtime_of, wait_idle
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.config import Settings
from chasqui.db.models import Message
from chasqui.runtime import Runtime
from chasqui.web.app import ADMIN_EMAIL, bootstrap, create_app


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_the_embedded_worker_stops_with_the_app(web_settings: Settings) -> None:
    with TestClient(create_app(web_settings, embedded_worker=True)) as client:
        worker = client.app.state.chasqui.worker
        assert worker.running
    assert not worker.running


def test_messages_left_unprocessed_by_a_crash_are_answered_on_start(
    web_settings: Settings, make_client, fake_graph: FakeGraph
) -> None:
    runtime = Runtime.from_settings(web_settings)
    with runtime.session() as session:
        runtime.service(session, "dulce-lima").record_customer_message(
            session, "51987000009", "hola", datetime.now(UTC), name="Rosa", wamid="wamid.BEFORE-CRASH"
        )
    runtime.db.dispose()
    client = make_client(worker=True)
    (reply, *_rest) = fake_graph.wait_for(1)
    assert reply.to == "51987000009"
    wait_idle(client)
    with runtime_of(client).session() as session:
        message = session.scalar(select(Message).where(Message.wamid == "wamid.BEFORE-CRASH"))
        assert message.processed and message.intent == "saludo"


def test_bootstrap_prepares_an_empty_install_and_prints_the_admin_password_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path)
    bootstrap(settings)
    first = capsys.readouterr().err
    match = re.search(r"usuario (\S+), contraseña (\S+) \(cámbiala\)", first)
    assert match and match.group(1) == ADMIN_EMAIL
    assert "http://127.0.0.1:8000/login" in first
    bootstrap(settings)  # idempotent: nothing new, no password printed again
    assert "contraseña" not in capsys.readouterr().err
    with TestClient(create_app(settings, embedded_worker=False), follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/login", data={"email": ADMIN_EMAIL, "password": match.group(2), "csrf_token": token}
        )
        assert response.status_code == 303 and response.headers["location"] == "/account/password"
        inbox = client.get("/")
        assert inbox.status_code == 200 and "Dulce Lima" in inbox.text  # the demo tenant was imported
        assert 'id="password-banner"' in inbox.text  # until the one-time password is changed


def test_a_model_promoted_by_another_process_is_used_without_a_restart(web_settings: Settings) -> None:
    from chasqui.nlu.registry import active_version_number, register

    worker, trainer = Runtime.from_settings(web_settings), Runtime.from_settings(web_settings)
    with worker.session() as session:
        before = worker.service(session, "dulce-lima").engine.brain.model
        assert worker.service(session, "dulce-lima").engine.brain.model is before  # no new version: kept
    with trainer.session() as session:  # another process retrains and promotes a version
        register(session, trainer.model(), {"train": {}}, 1, 0.0)
        promoted = active_version_number(session)
    with worker.session() as session:
        after = worker.service(session, "dulce-lima").engine.brain.model
        assert after is not before and worker._model_version == promoted
    worker.db.dispose()
    trainer.db.dispose()
