"""Escalations in the panel: pending list with reason and age, stats, resolving, history, wa.me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fakes.panel import add_user, csrf, login
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Conversation, Escalation


def escalate(client: TestClient, phone: str, name: str, text: str, minutes_ago: int = 0) -> int:
    """A customer asks for a person; the bot escalates (as the worker would)."""
    runtime = runtime_of(client)
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(session, phone, text, when, name=name)
        assert outcome.state == "escalated"
        return outcome.conversation_id


def test_pending_escalations_show_reason_age_and_a_whatsapp_link(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    escalate(client, "51987000001", "Lucía", "quiero hablar con una persona", minutes_ago=125)
    escalate(client, "51987000002", "Pedro", "pásame con un asesor por favor", minutes_ago=3)
    page = client.get("/escalations")
    assert page.status_code == 200
    pending = page.context["pending"]
    assert [(e["customer"], e["age"]) for e in pending] == [("Lucía", "hace 2 h 5 min"), ("Pedro", "hace 3 min")]
    assert all(e["reason"] for e in pending) and pending[0]["detail"] == "quiero hablar con una persona"
    assert 'href="https://wa.me/51987000001"' in page.text
    assert page.context["stats"] == {"pending": 2, "resolved_today": 0, "opened_today": 2}


def test_resolving_reactivates_the_bot_and_counts_as_resolved_today(client: TestClient) -> None:
    user_id = add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    conversation_id = escalate(client, "51987000001", "Lucía", "quiero hablar con una persona")
    with runtime_of(client).session() as session:
        escalation_id = session.scalar(select(Escalation.id))
    response = client.post(f"/escalations/{escalation_id}/resolve", data={"csrf_token": csrf(client)})
    assert response.status_code == 303 and response.headers["location"] == "/escalations"
    page = client.get("/escalations")
    assert "Escalación resuelta: el bot vuelve a responder." in page.text
    assert page.context["stats"]["pending"] == 0 and page.context["stats"]["resolved_today"] == 1
    assert [e["customer"] for e in page.context["resolved"]] == ["Lucía"]
    with runtime_of(client).session() as session:
        escalation = session.get(Escalation, escalation_id)
        assert escalation.resolved_at is not None and escalation.resolved_by == f"user:{user_id}"
        assert session.get(Conversation, conversation_id).state == "bot"
        outcome = runtime_of(client).service(session, "dulce-lima").customer_message(
            session, "51987000001", "qué promociones hay?", datetime.now(UTC))
        assert outcome.decision.replies and outcome.state == "bot"  # the bot answers again

    again = client.post(f"/escalations/{escalation_id}/resolve", data={"csrf_token": csrf(client)})
    assert again.status_code == 303 and "ya estaba resuelta" in client.get("/escalations").text


def test_the_conversation_shows_the_customers_escalation_history(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    conversation_id = escalate(client, "51987000001", "Lucía", "quiero hablar con una persona", minutes_ago=60)
    with runtime_of(client).session() as session:
        first = session.scalar(select(Escalation.id))
    client.post(f"/escalations/{first}/resolve", data={"csrf_token": csrf(client), "next": "conversation"})
    escalate(client, "51987000001", "Lucía", "esto es pésimo, nadie me responde")
    page = client.get(f"/conversations/{conversation_id}")
    history = page.context["escalations"]
    assert len(history) == 2 and history[0]["resolved"] == "" and history[1]["resolved_by"] == "duena@dulcelima.pe"
    assert history[1]["detail"] == "quiero hablar con una persona"
    assert f'action="/escalations/{history[0]["id"]}/resolve"' in page.text  # resolvable from the chat
