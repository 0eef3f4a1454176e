"""Tenant isolation of the operator pages: a user of another tenant gets 404 for every object of
this tenant, on every route (the test walks the routers, so a new route cannot be forgotten), and
changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fakes.panel import OTHER_TENANT, add_user, csrf, customer_says, login
from fakes.webapp import runtime_of
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chasqui.db.models import (
    CannedResponse,
    Contact,
    Conversation,
    ConversationNote,
    Escalation,
    Message,
    Tenant,
)
from chasqui.web import operator

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PARAM = re.compile(r"{(\w+)}")


def _tenant_a_objects(client: TestClient) -> dict[str, int]:
    """Objects of the demo tenant, made through the panel by its owner."""
    add_user(client, "duena@dulcelima.pe")
    agent = add_user(client, "agente@dulcelima.pe", role="agent")
    login(client, "duena@dulcelima.pe")
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(
            session, "51987000001", "quiero hablar con una persona", datetime.now(UTC), name="Lucía Secreta")
        conversation_id = outcome.conversation_id
    token = csrf(client)
    base = f"/conversations/{conversation_id}"
    client.post(f"{base}/notes", data={"csrf_token": token, "note": "nota secreta"})
    client.post("/canned", data={"csrf_token": token, "shortcut": "secreto", "text": "texto secreto"})
    client.post(f"{base}/reply", data={"csrf_token": token, "text": ""},
                files={"attachment": ("foto.png", PNG, "image/png")})
    with runtime.session() as session:
        ids = {
            "conversation_id": conversation_id,
            "message_id": session.scalar(select(Message.id).where(Message.type == "image")),
            "escalation_id": session.scalar(select(Escalation.id)),
            "canned_id": session.scalar(select(CannedResponse.id)),
            "note_id": session.scalar(select(ConversationNote.id)),
            "user_id": agent,
        }
    assert all(ids.values()), ids
    assert client.get(f"/media/{ids['message_id']}").status_code == 200  # its own owner sees it
    return ids


def _snapshot(client: TestClient) -> tuple:
    with runtime_of(client).session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == "dulce-lima"))
        conversation = session.scalar(select(Conversation).where(Conversation.tenant_id == tenant_id))
        contact = session.get(Contact, conversation.contact_id)
        return (
            conversation.state, conversation.paused_until, conversation.assignee_user_id, contact.alias,
            tuple(contact.labels), session.scalar(select(func.count(Message.id)).where(Message.tenant_id == tenant_id)),
            session.scalar(select(func.count(ConversationNote.id))),
            session.scalar(select(CannedResponse.text)),
            session.scalar(select(Escalation.resolved_at)),
        )


def _routes() -> list[APIRoute]:
    routes = [r for router in operator.ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 15
    return [r for r in routes if r.path != "/events"]  # the event stream: tests/web/test_live.py


def test_every_operator_route_answers_404_for_another_tenants_objects(make_client) -> None:
    owner_a, other = make_client(), make_client()
    ids = _tenant_a_objects(owner_a)
    add_user(owner_a, "dueno@ferreteria.pe", tenant=OTHER_TENANT)
    login(other, "dueno@ferreteria.pe")
    token = csrf(other)
    before = _snapshot(owner_a)
    form = {"csrf_token": token, "text": "hola", "alias": "x", "labels": "x", "note": "x", "user_id": "",
            "shortcut": "x", "canned_id": "", "filters": ""}
    walked = set()
    for route in _routes():
        params = PARAM.findall(route.path)
        if not params:
            continue
        path = route.path
        for name in params:
            path = path.replace("{" + name + "}", str(ids[name]))
        for method in route.methods:
            response = other.get(path) if method == "GET" else other.post(path, data=form)
            assert response.status_code == 404, f"{method} {route.path}: {response.status_code}"
            assert "Secreta" not in response.text and "secreto" not in response.text
            walked.add(route.path)
    assert walked >= {
        "/conversations/{conversation_id}", "/conversations/{conversation_id}/reply",
        "/conversations/{conversation_id}/takeover", "/conversations/{conversation_id}/release",
        "/conversations/{conversation_id}/notes/{note_id}/delete", "/media/{message_id}",
        "/escalations/{escalation_id}/resolve", "/canned/{canned_id}", "/canned/{canned_id}/delete",
    }
    # an object id of another tenant inside a form is refused the same way
    own = customer_says(owner_a, "hola", phone="51900000009", tenant=OTHER_TENANT, name="Cliente B")
    assigned = other.post(f"/conversations/{own}/assign", data={"csrf_token": token, "user_id": str(ids["user_id"])})
    assert assigned.status_code == 404
    canned = other.post(f"/conversations/{own}/reply",
                        data={"csrf_token": token, "text": "", "canned_id": str(ids["canned_id"])})
    assert canned.status_code == 404
    assert _snapshot(owner_a) == before  # nothing of tenant A changed


def test_list_pages_show_nothing_of_another_tenant(make_client) -> None:
    owner_a, other = make_client(), make_client()
    _tenant_a_objects(owner_a)
    add_user(owner_a, "dueno@ferreteria.pe", tenant=OTHER_TENANT)
    login(other, "dueno@ferreteria.pe")
    for route in _routes():
        if PARAM.search(route.path) or "GET" not in route.methods:
            continue
        for query in ("", "?q=Luc", "?q=987000001", "?state=escalated"):
            page = other.get(route.path + query)
            assert page.status_code == 200, route.path
            assert "Lucía Secreta" not in page.text and "secreto" not in page.text and "51987000001" not in page.text
    assert other.get("/?tenant=dulce-lima").status_code == 404
