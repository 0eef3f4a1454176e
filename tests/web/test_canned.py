"""Canned responses: managers keep them, agents use them; bad input is refused with a message."""

from __future__ import annotations

from fakes.panel import add_user, csrf, login
from fakes.webapp import count
from fastapi.testclient import TestClient

from chasqui.db.models import CannedResponse


def test_managers_create_edit_and_delete_canned_responses(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    token = csrf(client)
    created = client.post("/canned", data={"csrf_token": token, "shortcut": "horario", "text": "Abrimos de 9 a 7"})
    assert created.status_code == 303
    page = client.get("/canned")
    assert "Respuesta rápida guardada." in page.text
    (item,) = page.context["items"]
    assert (item["shortcut"], item["text"]) == ("horario", "Abrimos de 9 a 7")

    duplicate = client.post("/canned", data={"csrf_token": token, "shortcut": "horario", "text": "otro"})
    assert duplicate.status_code == 400 and "Ya existe una respuesta llamada «horario»" in duplicate.text
    empty = client.post("/canned", data={"csrf_token": token, "shortcut": "", "text": "x"})
    assert empty.status_code == 400 and "Escribe un nombre corto y el texto" in empty.text
    too_long = client.post("/canned", data={"csrf_token": token, "shortcut": "largo", "text": "x" * 5000})
    assert too_long.status_code == 400 and too_long.context["form"]["shortcut"] == "largo"
    assert count(client, CannedResponse) == 1

    client.post(f"/canned/{item['id']}", data={"csrf_token": token, "shortcut": "horario", "text": "De 9 a 8"})
    assert client.get("/canned").context["items"][0]["text"] == "De 9 a 8"
    client.post(f"/canned/{item['id']}/delete", data={"csrf_token": token})
    assert count(client, CannedResponse) == 0


def test_agents_see_canned_responses_but_cannot_change_them(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    add_user(client, "agente@dulcelima.pe", role="agent")
    login(client, "duena@dulcelima.pe")
    client.post("/canned", data={"csrf_token": csrf(client), "shortcut": "yape", "text": "Yapea al 987 654 321"})
    item_id = client.get("/canned").context["items"][0]["id"]
    login(client, "agente@dulcelima.pe")
    page = client.get("/canned")
    assert page.status_code == 200 and "Yapea al 987 654 321" in page.text and 'action="/canned"' not in page.text
    token = csrf(client)
    assert client.post("/canned", data={"csrf_token": token, "shortcut": "a", "text": "b"}).status_code == 403
    assert client.post(f"/canned/{item_id}/delete", data={"csrf_token": token}).status_code == 403
    assert count(client, CannedResponse) == 1
