"""One customer message never makes the bot flood the chat (issue 18, finding 15): the bot reads
the first 1,000 characters of a message and says so politely, and one turn queues at most 3 text
messages of at most 4,096 characters (WhatsApp's limit), whatever the engine or the LLM produced."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.conversations.service import TurnPlan
from chasqui.db.models import Conversation, OutboxMessage
from chasqui.dialogue.state import Decision

PHONE = "51933000001"


def _queued_texts(session, conversation_id: int) -> list[str]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id).order_by(OutboxMessage.id)
    )
    texts = []
    for row in rows:
        payload = row.payload or {}
        body = (payload.get("text") or {}).get("body") or ((payload.get("interactive") or {}).get("body") or {}).get(
            "text", ""
        )
        texts.append(body)
    return texts


def test_a_10000_character_message_is_read_up_to_1000_and_the_customer_is_told(client: TestClient) -> None:
    runtime = runtime_of(client)
    text = "hola, ¿cuánto cuesta la torta de chocolate? " + "y también quiero saber más " * 370
    assert len(text) >= 10_000
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(session, PHONE, text, datetime.now(UTC))
        queued = _queued_texts(session, outcome.conversation_id)
    assert "primeros 1000 caracteres" in outcome.decision.replies[0]
    assert 2 <= len(queued) <= 3  # the note and the answer
    assert all(len(body) <= 4096 for body in queued)
    assert sum(len(body) for body in queued) < 2000


def test_one_turn_queues_at_most_3_messages_of_at_most_4096_characters(client: TestClient) -> None:
    runtime = runtime_of(client)
    now = datetime.now(UTC)
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        message = service.record_customer_message(session, PHONE, "hola", now, wamid="wamid.caps.1")
        conversation = session.get(Conversation, message.conversation_id)
        state = service.load_state(session, conversation)
        flood = Decision(replies=[f"respuesta {i} " + "x" * 3990 for i in range(11)], source="llm")
        service.apply_plan(session, message, TurnPlan(state, flood), now, report=False)
        queued = _queued_texts(session, conversation.id)
    assert len(queued) == 3
    assert all(len(body) <= 4096 for body in queued)
    assert sum(len(body) for body in queued) <= 3 * 4096
