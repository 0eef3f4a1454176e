"""Finding 6: odd text (lone surrogates, NUL, over-long names and ids) never refuses a delivery,
and one bad message never loses the good ones beside it (SQLite here; PostgreSQL too when
``CHASQUI_TEST_POSTGRES_URL`` is set, through the migration suite's server)."""

from __future__ import annotations

import json

from fakes.graph_server import FakeGraph
from fakes.webapp import DEMO, count, runtime_of, wait_idle
from fakes.whatsapp_corpus import signed
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Contact, Message
from chasqui.whatsapp.inbound import REJECTED_MEDIA_ID


def _message(wamid: str, phone: str, **kind: object) -> dict:
    content = kind or {"type": "text", "text": {"body": "hola"}}
    return {"from": phone, "id": wamid, "timestamp": "1763800000", **content}


def _delivery(messages: list[dict], contacts: list[dict]) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51987654321", "phone_number_id": DEMO["phone_number_id"]},
        "contacts": contacts,
        "messages": messages,
    }
    return {"object": "whatsapp_business_account", "entry": [{"id": DEMO["waba_id"], "changes": [
        {"field": "messages", "value": value}]}]}


def _post(client: TestClient, body: dict) -> int:
    raw, headers = signed(json.dumps(body).encode(), DEMO["app_secret"])  # keeps "\ud800" as an escape
    return client.post("/webhook", content=raw, headers=headers).status_code


def test_a_mixed_delivery_with_odd_text_is_stored_whole_and_every_good_message_answered(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    long_wamid = "wamid." + "W" * 300
    messages = [
        _message("wamid.GOOD1", "51911111111"),
        _message("wamid.SURR", "51922222222", type="text", text={"body": "hola \ud800 y \udfff"}),
        _message("wamid.NUL\u0000", "51933333333", type="text", text={"body": "pre\u0000cio"}),
        _message(long_wamid, "51944444444"),
        _message("wamid.GOOD2", "51955555555", type="text", text={"body": "buenas"}),
    ]
    contacts = [
        {"profile": {"name": "N" * 300}, "wa_id": "51944444444"},
        {"profile": {"name": "Ana \ud83d"}, "wa_id": "51922222222"},
        {"profile": {"name": "Lu\u0000z"}, "wa_id": "51933333333"},
    ]
    assert _post(live_client, _delivery(messages, contacts)) == 200
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        stored = {m.wamid: m for m in session.scalars(select(Message).where(Message.direction == "in"))}
        names = {c.phone: c.name for c in session.scalars(select(Contact))}
    assert set(stored) == {"wamid.GOOD1", "wamid.SURR", "wamid.NUL", long_wamid[:255], "wamid.GOOD2"}
    assert stored["wamid.SURR"].text == "hola \ufffd y \ufffd" and stored["wamid.NUL"].text == "precio"
    assert names["51944444444"] == "N" * 255
    assert names["51922222222"] == "Ana \ufffd" and names["51933333333"] == "Luz"
    answered = {r.to for r in fake_graph.wait_for(5)}
    assert {"51911111111", "51922222222", "51933333333", "51944444444", "51955555555"} <= answered


def test_a_redelivered_over_long_wamid_is_still_deduplicated(client: TestClient) -> None:
    body = _delivery([_message("wamid." + "D" * 400, "51966666666")], [])
    assert [_post(client, body) for _ in range(2)] == [200, 200]
    assert count(client, Message, Message.direction == "in") == 1


def test_a_media_id_with_a_lone_surrogate_is_rejected_at_ingest_and_the_rest_kept(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    image = {"type": "image", "image": {"id": "123\ud800", "mime_type": "image/jpeg", "caption": "mi voucher"}}
    body = _delivery([_message("wamid.BADMEDIA", "51977777777", **image), _message("wamid.OK", "51988888888")], [])
    assert _post(live_client, body) == 200
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        bad = session.scalar(select(Message).where(Message.wamid == "wamid.BADMEDIA"))
        assert bad.processed and bad.text == "mi voucher"
        assert "id" not in bad.media and bad.media["download_error"] == REJECTED_MEDIA_ID
    assert count(live_client, Message, Message.wamid == "wamid.OK") == 1
    assert not [r for r in fake_graph.requests if r.method == "GET"], "no Graph request for a rejected id"
