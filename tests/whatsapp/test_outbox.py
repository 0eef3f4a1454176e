"""The outbox sender against the fake Graph API: sent once, retried with backoff, failed for good."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from fakes.graph_server import FakeGraph
from fakes.outbox_rows import NOW, TOKEN, add_tenant, outbox_row, queue_text
from sqlalchemy import Engine

from chasqui.config import Settings
from chasqui.db.models import Message, OutboxMessage, Tenant
from chasqui.db.session import session_scope
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.outbox import OutboxSender, RetryPolicy, row_of_callback


@pytest.fixture
def tenant_id(engine: Engine, settings: Settings) -> int:
    return add_tenant(engine, settings.secret())


@pytest.fixture
def sender(engine: Engine, graph_client: GraphClient, settings: Settings) -> OutboxSender:
    return OutboxSender(
        engine,
        graph_client,
        settings.secret(),
        policy=RetryPolicy(base_s=2.0, max_attempts=4),
        clock=lambda: NOW,
        rng=random.Random(7),
    )


def test_a_pending_row_is_sent_once_with_the_tenants_token(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "Hola, ¿en qué te ayudo?", with_message=True)
    assert sender.send_due().sent == 1
    assert sender.send_due().total == 0  # nothing left: never sent twice
    (request,) = fake_graph.requests
    assert request.path == "/v21.0/109876543210/messages" and request.token == TOKEN
    assert request.to == "51987000001" and request.text == "Hola, ¿en qué te ayudo?"
    assert "kind" not in request.body
    row = outbox_row(engine, row_id)
    assert (row.status, row.attempts, row.wamid, row.sent_at) == ("sent", 1, request.wamid, NOW)
    with session_scope(engine) as session:
        message = session.get(Message, row.message_id)
        assert (message.status, message.wamid) == ("sent", request.wamid)


def test_a_claimed_row_cannot_be_claimed_again(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "uno")
    assert sender.send_one(row_id) == "sent"
    assert sender.send_one(row_id) is None
    assert len(fake_graph.requests) == 1


def test_server_errors_are_retried_with_backoff_then_delivered_once(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "reintento")
    fake_graph.fail(500, times=2)
    assert sender.send_due().retried == 1
    first = outbox_row(engine, row_id)
    assert first.status == "pending" and first.attempts == 1 and "HTTP 500" in first.last_error
    assert NOW + timedelta(seconds=1) <= first.next_attempt_at <= NOW + timedelta(seconds=2)
    assert sender.send_due(NOW).total == 0  # not due yet: no request
    assert sender.send_due(first.next_attempt_at).retried == 1
    second = outbox_row(engine, row_id)
    assert second.attempts == 2
    assert second.next_attempt_at - first.next_attempt_at >= timedelta(seconds=2)  # the backoff grows
    assert sender.send_due(second.next_attempt_at).sent == 1
    assert [r.status for r in fake_graph.requests] == [500, 500, 200]
    assert len(fake_graph.sent()) == 1 and outbox_row(engine, row_id).status == "sent"


def test_429_waits_at_least_retry_after(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "despacio")
    fake_graph.fail(429, code=130429, headers={"Retry-After": "30"})
    sender.send_due()
    assert outbox_row(engine, row_id).next_attempt_at == NOW + timedelta(seconds=30)
    assert sender.send_due(NOW + timedelta(seconds=29)).total == 0
    assert len(fake_graph.requests) == 1
    assert sender.send_due(NOW + timedelta(seconds=30)).sent == 1


def test_a_permanent_error_fails_the_row_and_is_not_retried(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "fuera de la ventana", with_message=True)
    fake_graph.fail(400, code=131047, message="Re-engagement message")
    assert sender.send_due().failed == 1
    row = outbox_row(engine, row_id)
    assert row.status == "failed" and "131047" in row.last_error
    assert sender.send_due(NOW + timedelta(days=1)).total == 0
    assert len(fake_graph.requests) == 1
    with session_scope(engine) as session:
        assert session.get(Message, row.message_id).status == "failed"


def test_transient_errors_give_up_after_max_attempts(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "caído")
    fake_graph.fail(503, times=10)
    when = NOW
    for _ in range(4):
        sender.send_due(when)
        when = outbox_row(engine, row_id).next_attempt_at
    row = outbox_row(engine, row_id)
    assert row.status == "failed" and row.attempts == 4 and "gave up after 4 attempts" in row.last_error
    assert len(fake_graph.requests) == 4


def test_one_recipients_messages_keep_their_order(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    first = queue_text(engine, tenant_id, "51987000001", "primero")
    second = queue_text(engine, tenant_id, "51987000001", "segundo")
    other = queue_text(engine, tenant_id, "51987000002", "otro cliente")
    fake_graph.fail(500)
    report = sender.send_due()
    assert (report.retried, report.sent) == (1, 1)  # "segundo" waits behind "primero"
    assert outbox_row(engine, second).status == "pending" and outbox_row(engine, other).status == "sent"
    sender.send_due(outbox_row(engine, first).next_attempt_at)
    assert [r.text for r in fake_graph.sent()] == ["otro cliente", "primero", "segundo"]


def test_a_tenant_without_whatsapp_fails_its_rows(
    engine: Engine, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    with session_scope(engine) as session:
        tenant = Tenant(slug="sin-whatsapp", name="Sin WhatsApp")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    row_id = queue_text(engine, tenant_id, "51987000001", "hola")
    assert sender.send_due().failed == 1
    assert "no WhatsApp" in outbox_row(engine, row_id).last_error and not fake_graph.requests


def test_a_row_left_sending_by_a_crash_is_sent_again_only_when_whatsapp_never_confirmed_it(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "en vuelo")
    with session_scope(engine) as session:
        session.get(OutboxMessage, row_id).status = "sending"
    assert sender.recover_interrupted(timedelta(minutes=5), now=NOW + timedelta(minutes=1)) == 0  # maybe in flight
    assert sender.send_due(NOW + timedelta(minutes=1)).total == 0 and not fake_graph.requests
    assert sender.recover_interrupted(timedelta(minutes=5), now=NOW + timedelta(minutes=6)) == 1
    row = outbox_row(engine, row_id)
    assert row.status == "pending" and "sent again" in row.last_error
    assert sender.send_due(NOW + timedelta(minutes=6)).sent == 1
    assert [r.text for r in fake_graph.sent()] == ["en vuelo"]


def test_a_row_that_used_its_attempts_is_failed_when_recovered(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "último intento")
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        row.status, row.attempts = "sending", 4
    assert sender.recover_interrupted(timedelta(minutes=5), now=NOW + timedelta(minutes=6)) == 1
    assert outbox_row(engine, row_id).status == "failed"
    assert sender.send_due(NOW + timedelta(hours=1)).total == 0 and not fake_graph.requests


def test_every_request_names_its_outbox_row_for_the_status_webhooks(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, "51987000001", "hola")
    sender.send_due()
    (request,) = fake_graph.requests
    assert request.body["biz_opaque_callback_data"] == f"chasqui:{row_id}"
    assert row_of_callback(request.body["biz_opaque_callback_data"]) == row_id
    assert row_of_callback("someone else's data") is None and row_of_callback("chasqui:x") is None


def test_a_row_another_sender_is_sending_holds_back_the_later_rows_of_that_customer(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    first = queue_text(engine, tenant_id, "51987000001", "primero")
    queue_text(engine, tenant_id, "51987000001", "segundo")
    real_claim = sender._claim

    def claimed_elsewhere(row_id: int, now: datetime):  # another worker claimed it just before us
        if row_id == first:
            return None
        return real_claim(row_id, now)

    sender._claim = claimed_elsewhere  # type: ignore[method-assign]
    assert sender.send_due().total == 0
    assert not fake_graph.requests  # "segundo" never overtakes "primero"


def _answering(engine: Engine, row_id: int, wamid: str) -> None:
    """Make the row a reply to the customer message ``wamid`` (as the drain tags replies)."""
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        row.payload = {**row.payload, "reply_to": {"message_id": 1, "wamid": wamid}}


def test_the_customer_message_is_marked_read_once_after_its_first_reply(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    for text in ("¡Hola!", "Tenemos tortas y alfajores."):
        _answering(engine, queue_text(engine, tenant_id, "51987000001", text), "wamid.IN.7")
    assert sender.send_due().sent == 2
    bodies = [r.body for r in fake_graph.requests]
    assert [b.get("status") or b["text"]["body"] for b in bodies] == ["¡Hola!", "read", "Tenemos tortas y alfajores."]
    assert bodies[1]["message_id"] == "wamid.IN.7"


def test_a_failed_read_receipt_never_holds_back_a_reply(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    fake_graph.fail(500, reads=True)
    first = queue_text(engine, tenant_id, "51987000001", "uno")
    _answering(engine, first, "wamid.IN.8")
    second = queue_text(engine, tenant_id, "51987000001", "dos")
    assert sender.send_due().sent == 2
    assert [r.text for r in fake_graph.sent()] == ["uno", "dos"]
    assert outbox_row(engine, first).status == outbox_row(engine, second).status == "sent"
    assert sum(1 for r in fake_graph.requests if r.body.get("status") == "read") == 1  # never retried


def test_no_read_receipts_when_turned_off(
    engine: Engine, tenant_id: int, sender: OutboxSender, fake_graph: FakeGraph
) -> None:
    sender.mark_read = False
    _answering(engine, queue_text(engine, tenant_id, "51987000001", "uno"), "wamid.IN.9")
    sender.send_due()
    assert [r.text for r in fake_graph.requests] == ["uno"]


def test_read_receipts_can_be_turned_off_from_the_environment() -> None:
    from chasqui.worker.run import WorkerConfig

    assert WorkerConfig().mark_read is True
    assert WorkerConfig().with_env({"CHASQUI_MARK_READ": "0"}).mark_read is False
    assert WorkerConfig().with_env({"CHASQUI_MARK_READ": "true"}).mark_read is True
