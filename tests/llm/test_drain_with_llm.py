"""The worker asks the LLM teacher without holding a write lock: a slow LLM never stalls the
webhook (on SQLite one write lock serves the whole database)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

from fakes.llm_server import FakeLLM
from sqlalchemy import select

from chasqui.conversations.service import ConversationService
from chasqui.db.models import BotSettings, Message
from chasqui.runtime import Runtime
from chasqui.worker.drain import drain

SLOW_S = 2.0


def _record(runtime: Runtime, phone: str, text: str) -> int:
    with runtime.session() as session:
        message = runtime.service(session, "dulce-lima").record_customer_message(
            session, phone, text, datetime.now(UTC), name="Lucía"
        )
        return message.conversation_id


def test_a_slow_llm_answer_does_not_block_new_messages_from_being_stored(llm: FakeLLM, runtime: Runtime) -> None:
    with runtime.session() as session:  # every turn below 0.99 goes to the teacher
        session.scalar(select(BotSettings)).confidence_threshold = Decimal("0.99")
    llm.stall(SLOW_S)
    conversation = _record(runtime, "51900000001", "oigan una pregunta rara sobre lo de ayer")
    worker = threading.Thread(target=drain, args=(runtime, conversation))
    worker.start()
    deadline = time.monotonic() + 5
    while not llm.requests and time.monotonic() < deadline:  # the drain is now waiting for the LLM
        time.sleep(0.02)
    assert llm.requests, "the teacher was never asked"

    started = time.monotonic()
    _record(runtime, "51900000002", "hola, tienen tortas?")  # what the webhook does meanwhile
    stored_in = time.monotonic() - started
    worker.join(10)

    assert stored_in < SLOW_S / 2, f"storing a message waited {stored_in:.2f}s for the LLM"
    with runtime.session() as session:
        first = session.scalar(select(Message).where(Message.conversation_id == conversation,
                                                     Message.direction == "in"))
        assert first.processed and first.source == "llm"
        replies = session.scalars(select(Message).where(Message.conversation_id == conversation,
                                                        Message.direction == "out")).all()
        assert [m.text for m in replies][:1] == ["tarde"]


def test_an_operator_writing_while_the_bot_decides_makes_it_decide_again(runtime: Runtime, monkeypatch) -> None:
    conversation = _record(runtime, "51900000003", "cuanto cuesta la torta de chocolate?")
    decide = ConversationService.decide
    calls: list[bool] = []

    def decide_then_operator_writes(self, session, message, now):
        plan = decide(self, session, message, now)
        if not calls:  # between the decision and its writing, an operator takes the chat
            with runtime.session() as other:
                runtime.service(other, "dulce-lima").operator_message(other, "51900000003", "te atiendo yo", now)
        calls.append(bool(plan.decision.replies))
        return plan

    monkeypatch.setattr(ConversationService, "decide", decide_then_operator_writes)
    assert drain(runtime, conversation) == 1
    assert calls == [True, False]  # the first decision would have answered; the second, on the paused chat, not
    with runtime.session() as session:
        bot = session.scalars(select(Message).where(Message.conversation_id == conversation,
                                                    Message.sender == "bot")).all()
        assert bot == []
