"""The operator inbox: list and filters, one conversation, replying, taking over, notes, labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fakes.graph_server import FakeGraph
from fakes.panel import OTHER_TENANT, add_user, csrf, customer_says, login
from fakes.webapp import DEMO, count, runtime_of
from fakes.whatsapp_corpus import FILES, load, retarget, signed
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import (
    AuditLog,
    CannedResponse,
    Contact,
    Conversation,
    ConversationNote,
    Message,
    OutboxMessage,
)
from chasqui.web.operator.queries import TAKEOVER_UNTIL
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.outbox import OutboxSender


def owner(client: TestClient) -> TestClient:
    add_user(client, "duena@dulcelima.pe", name="Carla")
    login(client, "duena@dulcelima.pe")
    return client


def post(client: TestClient, path: str, **data: str):
    return client.post(path, data={"csrf_token": csrf(client)} | data)


def state_of(client: TestClient, conversation_id: int) -> tuple[str, datetime | None]:
    with runtime_of(client).session() as session:
        row = session.get(Conversation, conversation_id)
        return row.state, row.paused_until


def bot_turn(client: TestClient, text: str, phone: str = "51987000001"):
    """A customer message processed by the bot right away (as the worker would)."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        return runtime.service(session, "dulce-lima").customer_message(session, phone, text, datetime.now(UTC))


# ------------------------------------------------------------------------ list and filters
def test_the_list_shows_each_conversation_with_its_last_message_and_unread_count(client: TestClient) -> None:
    owner(client)
    customer_says(client, "hola", phone="51987000001", name="Lucía")
    customer_says(client, "tienen tortas de chocolate?", phone="51987000001", name="Lucía")
    customer_says(client, "buenas", phone="51987000002", name="Pedro")
    page = client.get("/")
    assert page.status_code == 200 and page.template.name == "inbox.html"
    rows = page.context["conversations"]
    assert [(r.customer, r.last_text, r.unread) for r in rows] == [
        ("Pedro", "buenas", 1),
        ("Lucía", "tienen tortas de chocolate?", 2),
    ]
    assert 'aria-label="2 sin leer"' in page.text


def test_filters_by_state_unread_label_and_search(client: TestClient) -> None:
    owner(client)
    lucia = customer_says(client, "quiero una torta para el sábado", phone="51987000001", name="Lucía")
    pedro = customer_says(client, "hola", phone="51987000002", name="Pedro")
    rosa = customer_says(client, "cuánto cuesta el alfajor?", phone="51987000003", name="Rosa")
    with runtime_of(client).session() as session:
        session.get(Conversation, pedro).state = "escalated"
        session.get(Conversation, rosa).unread_count = 0
    assert post(client, f"/conversations/{lucia}/labels", labels="Mayorista, VIP").status_code == 303
    client.get(f"/conversations/{lucia}")  # opening it marks it read

    def names(query: str) -> list[str]:
        return [r.customer for r in client.get(f"/?{query}").context["conversations"]]

    assert names("state=escalated") == ["Pedro"]
    assert names("state=bot") == ["Rosa", "Lucía"]
    assert names("unread=1") == ["Pedro"]
    assert names("label=vip") == ["Lucía"]
    assert names("q=alfajor") == ["Rosa"]  # text of a message
    assert names("q=PEDRO") == ["Pedro"]  # name, any case
    assert names("q=987000003") == ["Rosa"]  # phone digits
    assert names("q=nadie") == [] and "Ninguna conversación coincide" in client.get("/?q=nadie").text
    labels_offered = client.get("/").context["labels"]
    assert labels_offered == ["mayorista", "vip"]


# ------------------------------------------------------------------------ one conversation
def test_opening_a_conversation_shows_its_history_and_marks_it_read(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola, tienen pie de limón?")
    bot_turn(client, "cuánto cuesta?")
    page = client.get(f"/conversations/{conversation_id}")
    assert page.status_code == 200 and page.template.name == "conversation.html"
    texts = [m.text for m in page.context["messages"]]
    assert texts[:2] == ["hola, tienen pie de limón?", "cuánto cuesta?"] and len(texts) >= 3
    assert {m.sender for m in page.context["messages"]} == {"customer", "bot"}
    assert "https://wa.me/51987000001" in page.text
    with runtime_of(client).session() as session:
        assert session.get(Conversation, conversation_id).unread_count == 0


def test_the_options_the_bot_offered_are_shown_under_its_reply(client: TestClient) -> None:
    owner(client)
    outcome = bot_turn(client, "quiero 2 tortas de chocolate")
    page = client.get(f"/conversations/{outcome.conversation_id}")
    assert '<span class="choice">Confirmar pedido</span><span class="choice">Ver mi pedido</span>' in page.text


def test_every_kind_of_whatsapp_message_is_shown_in_the_conversation(client: TestClient) -> None:
    """Every captured webhook body goes in through the real webhook; every conversation page then
    shows each stored message as a bubble with something to read (text, media, place, reply...)."""
    owner(client)
    for path in FILES:
        body = retarget(load(path.name), DEMO["phone_number_id"], DEMO["waba_id"], prefix=f"{path.stem}:")
        raw, headers = signed(body, DEMO["app_secret"])
        assert client.post("/webhook", content=raw, headers=headers).status_code == 200
    with runtime_of(client).session() as session:
        stored = {m.id: m.type for m in session.scalars(select(Message))}
        conversations = set(session.scalars(select(Conversation.id)))
    kinds = set(stored.values())
    assert {"text", "image", "audio", "document", "location", "interactive", "reaction"} <= kinds
    shown: dict[int, str] = {}
    for conversation_id in conversations:
        page = client.get(f"/conversations/{conversation_id}")
        assert page.status_code == 200
        for view in page.context["messages"]:
            shown[view.id] = view.text
    assert set(shown) == set(stored)
    empty = [(i, stored[i]) for i, text in shown.items() if not text.strip() or "None" in text]
    assert not empty, f"messages shown without content: {empty[:10]}"


# ------------------------------------------------------------------------ replying
def test_a_reply_goes_to_the_customer_and_pauses_the_bot(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola")
    response = post(client, f"/conversations/{conversation_id}/reply", text="Hola Lucía, te atiende Carla")
    assert response.status_code == 303 and response.headers["location"] == f"/conversations/{conversation_id}"
    with runtime_of(client).session() as session:
        (queued,) = session.scalars(select(OutboxMessage)).all()
        assert queued.to == "51987000001" and queued.payload["text"]["body"] == "Hola Lucía, te atiende Carla"
        message = session.get(Message, queued.message_id)
        assert (message.sender, message.direction, message.status) == ("operator", "out", "queued")
    state, until = state_of(client, conversation_id)
    assert state == "paused" and until > datetime.now(UTC)
    outcome = bot_turn(client, "gracias!")  # the bot stays silent while the operator talks
    assert outcome.decision.replies == [] and outcome.state == "paused"
    page = client.get(f"/conversations/{conversation_id}")
    assert "Hola Lucía, te atiende Carla" in page.text and "Pausada" in page.text


def test_bad_replies_are_refused_with_a_message_and_nothing_is_sent(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola")
    empty = post(client, f"/conversations/{conversation_id}/reply", text="   ")
    assert empty.status_code == 400 and "Escribe un mensaje o adjunta un archivo." in empty.text
    too_long = post(client, f"/conversations/{conversation_id}/reply", text="a" * 5000)
    assert too_long.status_code == 400 and "máximo 4096 caracteres" in too_long.text
    assert too_long.context["draft"] == "a" * 5000  # what was typed is kept
    assert count(client, OutboxMessage) == 0 and count(client, Message, Message.direction == "out") == 0
    assert state_of(client, conversation_id)[0] == "bot"


def test_a_canned_response_is_sent_when_the_box_is_empty(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "a qué hora abren?")
    with runtime_of(client).session() as session:
        canned = CannedResponse(tenant_id=1, shortcut="horario", text="Abrimos de 9 a 7 😊", position=1)
        session.add(canned)
        session.flush()
        canned_id = canned.id
    page = client.get(f"/conversations/{conversation_id}")
    assert 'data-text="Abrimos de 9 a 7 😊"' in page.text
    post(client, f"/conversations/{conversation_id}/reply", text="", canned_id=str(canned_id))
    with runtime_of(client).session() as session:
        assert [r.payload["text"]["body"] for r in session.scalars(select(OutboxMessage))] == ["Abrimos de 9 a 7 😊"]


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_an_attachment_is_stored_recorded_queued_and_shown(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "me mandas la foto?")
    response = client.post(
        f"/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf(client), "text": "Aquí está"},
        files={"attachment": ("torta chocolate.png", PNG, "image/png")},
    )
    assert response.status_code == 303
    with runtime_of(client).session() as session:
        image = session.scalar(select(Message).where(Message.type == "image"))
        assert image.sender == "operator" and image.status == "queued"
        assert image.media["filename"] == "torta chocolate.png" and image.media["size"] == len(PNG)
        text_row, image_row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        assert text_row.payload["text"]["body"] == "Aquí está"  # the text goes first, then the picture
        assert image_row.message_id == image.id and image_row.payload["type"] == "image"
    served = client.get(f"/media/{image.id}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png" and served.headers["x-content-type-options"] == "nosniff"
    assert f'src="/media/{image.id}"' in client.get(f"/conversations/{conversation_id}").text
    assert state_of(client, conversation_id)[0] == "paused"


def test_oversized_and_unsafe_attachments_are_refused_and_nothing_is_saved(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola")
    token = csrf(client)
    big = client.post(
        f"/conversations/{conversation_id}/reply",
        data={"csrf_token": token, "text": "va el catálogo"},
        files={"attachment": ("catalogo.pdf", b"%PDF" + b"0" * (20 * 1024 * 1024), "application/pdf")},
    )
    assert big.status_code == 400 and "más de 16 MB" in big.text
    page = client.post(
        f"/conversations/{conversation_id}/reply",
        data={"csrf_token": token, "text": ""},
        files={"attachment": ("pagina.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert page.status_code == 400 and "Ese tipo de archivo no se puede adjuntar" in page.text
    assert count(client, Message, Message.direction == "out") == 0 and count(client, OutboxMessage) == 0
    assert not list((client.app.state.chasqui.settings.data_dir / "media").glob("**/*.*"))


def test_an_attachment_reaches_whatsapp_as_an_upload_and_a_message_with_its_media_id(
    client: TestClient, fake_graph: FakeGraph
) -> None:
    owner(client)
    conversation_id = customer_says(client, "me pasas el catálogo?", phone="51987000001")
    pdf = b"%PDF-1.4 catalogo"
    response = client.post(
        f"/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf(client), "text": ""},
        files={"attachment": ("catálogo 2026.pdf", pdf, "application/pdf")},
    )
    assert response.status_code == 303
    runtime = runtime_of(client)
    sender = OutboxSender(runtime.db, GraphClient(fake_graph.url, "v21.0"), runtime.settings.secret())
    fake_graph.fail(500, path="/messages")  # the message call fails once: the retry reuses the upload
    assert sender.send_due().retried == 1
    assert sender.send_due(datetime.now(UTC) + timedelta(hours=1)).sent == 1
    (upload,) = fake_graph.uploads()
    assert fake_graph.uploaded[upload.wamid] == pdf and upload.body["type"] == "application/pdf"
    (sent,) = fake_graph.sent()
    assert sent.to == "51987000001" and sent.body["type"] == "document"
    assert sent.body["document"]["id"] == upload.wamid and sent.body["document"]["filename"].endswith(".pdf")
    with runtime.session() as session:
        document = session.scalar(select(Message).where(Message.type == "document"))
        assert (document.status, document.wamid) == ("sent", sent.wamid)
    assert "solo en el panel" not in client.get(f"/conversations/{conversation_id}").text


# ------------------------------------------------------------------------ take over / return
def test_take_over_silences_the_bot_until_it_is_given_back(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola")
    assert post(client, f"/conversations/{conversation_id}/takeover").status_code == 303
    assert state_of(client, conversation_id) == ("paused", TAKEOVER_UNTIL)
    assert "Control humano" in client.get(f"/conversations/{conversation_id}").text
    later = datetime.now(UTC) + timedelta(days=30)
    runtime = runtime_of(client)
    with runtime.session() as session:  # a month later the bot still stays out
        outcome = runtime.service(session, "dulce-lima").customer_message(session, "51987000001", "hola??", later)
        assert outcome.decision.replies == []
    post(client, f"/conversations/{conversation_id}/reply", text="Ya te atiendo")
    assert state_of(client, conversation_id) == ("paused", TAKEOVER_UNTIL)  # a reply keeps the control

    assert post(client, f"/conversations/{conversation_id}/release").status_code == 303
    assert state_of(client, conversation_id) == ("bot", None)
    assert bot_turn(client, "qué promociones hay?").decision.replies  # the bot answers again
    with runtime_of(client).session() as session:
        actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert actions == ["conversation.take_over", "conversation.return_to_bot"]
        assert session.get(Conversation, conversation_id).assignee_user_id is not None  # taken = assigned


# ------------------------------------------------------------------------ alias, labels, notes, assignment
def test_alias_labels_notes_and_assignment(client: TestClient) -> None:
    owner(client)
    agent_id = add_user(client, "agente@dulcelima.pe", role="agent", name="Beto")
    stranger_id = add_user(client, "otro@ferreteria.pe", role="agent", tenant=OTHER_TENANT)
    conversation_id = customer_says(client, "hola")
    base = f"/conversations/{conversation_id}"
    post(client, f"{base}/alias", alias="  Lucía   (tortas de boda) ")
    post(client, f"{base}/labels", labels="Boda, vip, VIP")
    post(client, f"{base}/notes", note="Pidió factura con RUC")
    post(client, f"{base}/assign", user_id=str(agent_id))
    with runtime_of(client).session() as session:
        contact = session.scalar(select(Contact).where(Contact.phone == "51987000001"))
        assert contact.alias == "Lucía (tortas de boda)" and contact.labels == ["boda", "vip"]
        assert session.get(Conversation, conversation_id).assignee_user_id == agent_id
        (note,) = session.scalars(select(ConversationNote)).all()
        assert note.text == "Pidió factura con RUC"
    assert count(client, OutboxMessage) == 0  # a note is never sent
    page = client.get(base)
    assert "Pidió factura con RUC" in page.text and "Lucía (tortas de boda)" in page.text
    row = client.get("/").context["conversations"][0]
    assert (row.customer, row.labels, row.assignee) == ("Lucía (tortas de boda)", ["boda", "vip"], "Beto")
    assert [r.customer for r in client.get("/?mine=1").context["conversations"]] == []

    assert post(client, f"{base}/assign", user_id=str(stranger_id)).status_code == 404
    bad = post(client, f"{base}/labels", labels="ok, <script>")
    assert bad.status_code == 400 and "Las etiquetas solo pueden tener" in bad.text
    assert post(client, f"{base}/alias", alias="x" * 101).status_code == 400
    assert post(client, f"{base}/notes", note=" ").status_code == 400
    with runtime_of(client).session() as session:
        contact = session.scalar(select(Contact).where(Contact.phone == "51987000001"))
        assert contact.labels == ["boda", "vip"] and contact.alias == "Lucía (tortas de boda)"
        assert session.get(Conversation, conversation_id).assignee_user_id == agent_id

    note_id = note.id
    assert post(client, f"{base}/notes/{note_id}/delete").status_code == 303
    assert count(client, ConversationNote) == 0


def test_every_post_needs_the_sessions_csrf_token(client: TestClient) -> None:
    owner(client)
    conversation_id = customer_says(client, "hola")
    base = f"/conversations/{conversation_id}"
    for path, data in [
        (f"{base}/reply", {"text": "hola"}),
        (f"{base}/takeover", {}),
        (f"{base}/labels", {"labels": "vip"}),
        ("/canned", {"shortcut": "x", "text": "y"}),
    ]:
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data=data | {"csrf_token": "forged"}).status_code == 403, path
    cross_site = client.post(f"{base}/reply", data={"text": "hola", "csrf_token": csrf(client)},
                             headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    htmx = client.post(f"{base}/takeover", headers={"X-CSRF-Token": csrf(client)})
    assert htmx.status_code == 303  # HTMX sends the token as a header
    assert count(client, OutboxMessage) == 0 and count(client, CannedResponse) == 0


def test_pages_render_without_the_front_end_libraries(client: TestClient, monkeypatch, tmp_path) -> None:
    import chasqui.web.layout as layout

    owner(client)
    conversation_id = customer_says(client, "hola")
    monkeypatch.setattr(layout, "VENDOR_DIR", tmp_path / "no-vendor")
    page = client.get(f"/conversations/{conversation_id}")
    assert page.status_code == 200 and "htmx.min.js" not in page.text
    # plain forms: everything works without JavaScript libraries
    assert re.search(r'<form class="composer" method="post" action="/conversations/\d+/reply"', page.text)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "htmx.min.js").write_text("/* htmx */")
    monkeypatch.setattr(layout, "VENDOR_DIR", tmp_path / "vendor")
    assert '<script src="/static/vendor/htmx.min.js?v=' in client.get("/").text
    assert client.get("/static/panel.js").status_code == 200
