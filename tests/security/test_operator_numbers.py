"""``intervention.operator_numbers`` (issue 18, "operator_numbers are ignored"): a message from one
of the tenant's operator numbers is staff, not a customer: the sales bot never answers it, and an
instruction ``NUMBER: text`` sends ``text`` to that customer as the operator (the bot steps aside).
The demo tenant's operator number is 51955000111 (tenants/dulce-lima.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Contact, Conversation, OutboxMessage

OPERATOR, CUSTOMER = "51955000111", "51933000077"


def _outbox_to(session, phone: str) -> list[str]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.to == phone).order_by(OutboxMessage.id))
    return [((r.payload or {}).get("text") or {}).get("body", "") for r in rows]


def test_the_bot_does_not_sell_to_an_operator_number(client: TestClient) -> None:
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(
            session, OPERATOR, "quiero 2 tortas de chocolate", datetime.now(UTC)
        )
        assert outcome.decision.replies == [] and outcome.cart == {} and outcome.order is None
        assert _outbox_to(session, OPERATOR) == []


def test_an_operator_instruction_reaches_the_customer_and_pauses_the_bot(client: TestClient) -> None:
    runtime = runtime_of(client)
    now = datetime.now(UTC)
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        service.customer_message(session, CUSTOMER, "hola", now)
        service.customer_message(session, OPERATOR, f"+{CUSTOMER}: Hola, te atiende Carla", now)
        assert _outbox_to(session, CUSTOMER)[-1] == "Hola, te atiende Carla"
        assert _outbox_to(session, OPERATOR) == []
        conversation = session.scalar(
            select(Conversation).join(Contact, Contact.id == Conversation.contact_id).where(Contact.phone == CUSTOMER)
        )
        assert conversation.state == "paused"
        later = service.customer_message(session, CUSTOMER, "gracias", now)
        assert later.decision.replies == []  # the operator is talking to this customer now
