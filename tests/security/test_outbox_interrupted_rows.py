"""Rows a SIGKILLed worker left in ``sending`` (issue 18, finding 14): they no longer hold the
customer's later replies for 5 minutes, a row whose WhatsApp message id is known is never sent
again, and a row without one is sent again once at most.

The kill is reproduced by its trace in the database (a row claimed, ``sending``, its sender gone),
as ``tests/reliability/test_kill_worker.py`` leaves it; the sends go to the fake Graph API, and the
worker's own default settings (``WorkerConfig``) decide how long a row is waited for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fakes.graph_server import FakeGraph
from fakes.outbox_rows import NOW, add_tenant, outbox_row, queue_text
from sqlalchemy import Engine

from chasqui.db.models import Message, OutboxMessage
from chasqui.db.session import session_scope
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.outbox import OutboxSender
from chasqui.worker.run import WorkerConfig

CUSTOMER = "51987000001"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:  # no status webhooks: Meta's callback never comes
        yield fake


@pytest.fixture
def sender(engine: Engine, graph: FakeGraph) -> Iterator[OutboxSender]:
    client = GraphClient(graph.url, "v21.0", timeout=5.0)
    yield OutboxSender(engine, client, "chasqui-test-secret-key-not-for-production")
    client.close()


@pytest.fixture
def tenant_id(engine: Engine) -> int:
    return add_tenant(engine, "chasqui-test-secret-key-not-for-production")


def _killed_while_sending(engine: Engine, row_id: int, *, wamid: str | None = None) -> None:
    """What a SIGKILL between the claim and the recorded outcome leaves behind."""
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, NOW
        if wamid is not None and row.message_id is not None:
            session.get(Message, row.message_id).wamid = wamid


def _settle(sender: OutboxSender, at: timedelta) -> None:
    """One recovery pass and one send pass of the worker, ``at`` after the kill."""
    sender.recover_interrupted(timedelta(seconds=WorkerConfig().unknown_after_s), now=NOW + at)
    sender.send_due(NOW + at)


def test_later_replies_are_not_held_for_minutes_behind_an_interrupted_row(
    engine: Engine, tenant_id: int, sender: OutboxSender, graph: FakeGraph
) -> None:
    first = queue_text(engine, tenant_id, CUSTOMER, "primera respuesta")
    later = queue_text(engine, tenant_id, CUSTOMER, "segunda respuesta")
    _killed_while_sending(engine, first)
    _settle(sender, timedelta(seconds=30))  # the restarted worker, half a minute later
    assert [r.text for r in graph.sent()] == ["primera respuesta", "segunda respuesta"]
    assert outbox_row(engine, later).status == "sent"


def test_a_row_whose_whatsapp_id_is_known_is_marked_sent_and_never_sent_again(
    engine: Engine, tenant_id: int, sender: OutboxSender, graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, CUSTOMER, "ya aceptado", with_message=True)
    _killed_while_sending(engine, row_id, wamid="wamid.ACCEPTED1")
    for minutes in (1, 6, 60):
        _settle(sender, timedelta(minutes=minutes))
    row = outbox_row(engine, row_id)
    assert row.status == "sent" and row.wamid == "wamid.ACCEPTED1"
    assert graph.sent() == []  # the customer never gets it twice


def test_a_row_without_an_id_is_sent_again_once_and_never_a_third_time(
    engine: Engine, tenant_id: int, sender: OutboxSender, graph: FakeGraph
) -> None:
    row_id = queue_text(engine, tenant_id, CUSTOMER, "quizás enviado")
    _killed_while_sending(engine, row_id)
    sender.recover_interrupted(timedelta(seconds=WorkerConfig().unknown_after_s), now=NOW + timedelta(minutes=6))
    _killed_while_sending(engine, row_id)  # the resend is interrupted too
    for minutes in (12, 60):
        _settle(sender, timedelta(minutes=minutes))
    assert graph.sent() == []
    row = outbox_row(engine, row_id)
    assert row.status == "failed" and "not sent a third time" in row.last_error
