"""Media rows in the outbox: the file is uploaded once, then sent by its media id."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.graph_server import FakeGraph
from sqlalchemy import Engine

from chasqui.config import Settings
from chasqui.crypto import encrypt
from chasqui.db.models import OutboxMessage, Tenant
from chasqui.db.session import session_scope
from chasqui.whatsapp.graph import GraphClient, GraphError
from chasqui.worker.outbox import OutboxSender, RetryPolicy

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
TOKEN = "EAA-tenant-token"
PDF = b"%PDF-1.4 catalogo de tortas"


@pytest.fixture
def tenant_id(engine: Engine, settings: Settings) -> int:
    with session_scope(engine) as session:
        tenant = Tenant(slug="dulce-lima", name="Dulce Lima", phone_number_id="109876543210",
                        access_token_encrypted=encrypt(TOKEN, settings.secret()))
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def sender(engine: Engine, graph_client: GraphClient, settings: Settings) -> OutboxSender:
    return OutboxSender(engine, graph_client, settings.secret(), policy=RetryPolicy(base_s=2.0, max_attempts=4),
                        clock=lambda: NOW, rng=random.Random(7))


def _queue_document(engine: Engine, tenant_id: int, path: Path) -> int:
    with session_scope(engine) as session:
        row = OutboxMessage(
            tenant_id=tenant_id, to="51987000001", status="pending", attempts=0, next_attempt_at=NOW,
            payload={"type": "document", "local_path": str(path), "mime_type": "application/pdf",
                     "filename": "catalogo.pdf", "caption": "Nuestro catálogo", "kind": "reply"},
        )
        session.add(row)
        session.flush()
        return row.id


def test_upload_media_posts_the_file_as_multipart_and_returns_its_id(
    graph_client: GraphClient, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "catalogo.pdf"
    path.write_bytes(PDF)
    media_id = graph_client.upload_media("109876543210", TOKEN, path, "application/pdf")
    (request,) = fake_graph.requests
    assert request.path == "/v21.0/109876543210/media" and request.token == TOKEN
    assert request.body["messaging_product"] == "whatsapp" and request.body["type"] == "application/pdf"
    assert request.body["file"] == {"filename": "catalogo.pdf", "content_type": "application/pdf", "size": len(PDF)}
    assert fake_graph.uploaded[media_id] == PDF


def test_upload_errors_are_mapped_like_any_graph_error(
    graph_client: GraphClient, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "foto.png"
    path.write_bytes(b"png")
    fake_graph.fail(400, code=131053, message="Media upload error")
    with pytest.raises(GraphError) as error:
        graph_client.upload_media("109876543210", TOKEN, path, "image/png")
    assert not error.value.transient and error.value.code == 131053
    with pytest.raises(GraphError) as missing:
        graph_client.upload_media("109876543210", TOKEN, tmp_path / "borrado.png", "image/png")
    assert not missing.value.transient


def test_a_document_row_is_uploaded_then_sent_with_its_media_id(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "catalogo.pdf"
    path.write_bytes(PDF)
    row_id = _queue_document(engine, tenant_id, path)
    assert sender.send_due().sent == 1
    upload, message = fake_graph.requests
    assert upload.is_upload and fake_graph.uploaded[upload.wamid] == PDF
    assert message.path == "/v21.0/109876543210/messages" and message.body["type"] == "document"
    assert message.body["document"] == {"id": upload.wamid, "caption": "Nuestro catálogo", "filename": "catalogo.pdf"}
    assert message.row_id == row_id and "local_path" not in message.body


def test_a_retry_after_a_failed_message_call_does_not_upload_again(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "catalogo.pdf"
    path.write_bytes(PDF)
    row_id = _queue_document(engine, tenant_id, path)
    fake_graph.fail(500, path="/messages")
    assert sender.send_due().retried == 1
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        media_id, next_at = row.payload["media_id"], row.next_attempt_at
    assert sender.send_due(next_at).sent == 1
    assert len(fake_graph.uploads()) == 1
    (sent,) = fake_graph.sent()
    assert sent.body["document"]["id"] == media_id
    assert fake_graph.accepted_per_row() == {row_id: 1}


def test_files_whatsapp_would_refuse_as_images_go_out_as_documents(tmp_path: Path) -> None:
    from chasqui.web.operator.media import outbox_payload

    def sent_as(kind: str, mime_type: str, size: int) -> str:
        media = {"kind": kind, "path": "1/x", "filename": "x", "mime_type": mime_type, "size": size}
        return str(outbox_payload(tmp_path, media)["type"])

    assert sent_as("image", "image/jpeg", 1024) == "image"
    assert sent_as("image", "image/webp", 1024) == "document"  # WhatsApp images: JPEG/PNG only
    assert sent_as("image", "image/png", 6 * 1024 * 1024) == "document"  # over the 5 MB image limit
    assert sent_as("video", "video/mp4", 15 * 1024 * 1024) == "video"
    assert sent_as("audio", "audio/ogg", 1024) == "audio"
