"""POST/GET /webhook through the real app: signature, routing, storage, dedup, worker, fake Graph API."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from threading import Thread

from fakes.graph_server import FakeGraph
from fakes.webapp import DEMO, count, runtime_of, wait_idle
from fakes.whatsapp_corpus import FILES, load, retarget, signed
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Conversation, Message, OutboxMessage, WebhookEvent
from chasqui.web.app import create_app
from chasqui.whatsapp.graph import GraphClient
from chasqui.whatsapp.signature import sign
from chasqui.worker.drain import drain
from chasqui.worker.outbox import OutboxSender
from chasqui.worker.run import WorkerConfig

CUSTOMER = "51987000001"


def text_body(text: str, wamid: str, phone: str = CUSTOMER, name: str = "Lucía") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": DEMO["waba_id"],
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "51987654321",
                                "phone_number_id": DEMO["phone_number_id"],
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": wamid,
                                    "timestamp": "1763800000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def status_body(wamid: str, status: str, recipient: str = CUSTOMER) -> dict:
    item = {"id": wamid, "status": status, "timestamp": "1763800001", "recipient_id": recipient}
    if status == "failed":
        item["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": DEMO["waba_id"],
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": DEMO["phone_number_id"]},
                            "statuses": [item],
                        },
                    }
                ],
            }
        ],
    }


def post(client: TestClient, body: dict | bytes, secret: str = DEMO["app_secret"]) -> int:
    raw, headers = signed(body, secret)
    return client.post("/webhook", content=raw, headers=headers).status_code


# ------------------------------------------------------------------------ verification handshake
def test_verification_echoes_the_challenge_for_a_tenants_verify_token(client: TestClient) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": DEMO["verify_token"],
        "hub.challenge": "1158201444",
    }
    response = client.get("/webhook", params=params)
    assert response.status_code == 200 and response.text == "1158201444"
    assert client.get("/webhook", params=params | {"hub.verify_token": "wrong"}).status_code == 403
    assert client.get("/webhook", params=params | {"hub.mode": "unsubscribe"}).status_code == 403
    assert client.get("/webhook").status_code == 403


# ------------------------------------------------------------------------ what gets stored
def _expected_messages(body: dict) -> int:
    """Customer messages are stored; of the business app's echoes, the text ones (operator messages)."""
    change = body["entry"][0]["changes"][0]
    if change["field"] == "smb_message_echoes":
        return sum(1 for echo in change["value"]["message_echoes"] if echo["type"] == "text")
    return len(change["value"].get("messages") or []) if change["field"] == "messages" else 0


def test_every_conformance_body_is_accepted_and_stored(client: TestClient) -> None:
    """Each captured body, addressed to the demo tenant and signed, is answered 200 and stored with
    its messages (one app for all files: the files run in a row, as Meta would send them)."""
    problems = []
    for number, path in enumerate(FILES, 1):
        body = retarget(load(path.name), DEMO["phone_number_id"], DEMO["waba_id"], prefix=f"{path.stem}:")
        status = post(client, body)
        with runtime_of(client).session() as session:
            events = session.scalars(select(WebhookEvent)).all()
            stored = session.scalars(select(Message).where(Message.wamid.startswith(f"{path.stem}:"))).all()
        if status != 200:
            problems.append(f"{path.name}: HTTP {status}")
        elif len(events) != number or not (
            events[-1].signature_ok and events[-1].tenant_id and events[-1].processed
        ):
            problems.append(f"{path.name}: webhook event not stored as routed and processed")
        elif len(stored) != _expected_messages(body):
            problems.append(
                f"{path.name}: {len(stored)} messages stored, expected {_expected_messages(body)}"
            )
    assert not problems, "\n".join(problems)
    assert len(FILES) >= 100


def test_bad_or_missing_signature_is_401_and_stores_nothing(client: TestClient) -> None:
    raw = json.dumps(text_body("hola", "wamid.SIG")).encode()
    assert (
        client.post("/webhook", content=raw, headers={"X-Hub-Signature-256": sign(raw, "wrong")}).status_code
        == 401
    )
    assert client.post("/webhook", content=raw).status_code == 401
    tampered = raw.replace(b"hola", b"hols")
    assert (
        client.post(
            "/webhook", content=tampered, headers={"X-Hub-Signature-256": sign(raw, DEMO["app_secret"])}
        ).status_code
        == 401
    )
    assert count(client, WebhookEvent) == 0 and count(client, Message) == 0


def test_an_unknown_phone_number_is_acknowledged_and_not_stored(client: TestClient) -> None:
    body = text_body("hola", "wamid.UNKNOWN")
    body["entry"][0]["id"] = "999"
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "000000000"
    assert post(client, body, secret="whatever") == 401  # signed by no app we know
    assert post(client, body) == 200  # signed by a known app: acknowledged, only logged
    assert count(client, WebhookEvent) == 0 and count(client, Message) == 0


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    raw = b'{"object": "whatsapp_business_account", "entry": ['
    assert (
        client.post(
            "/webhook", content=raw, headers={"X-Hub-Signature-256": sign(raw, DEMO["app_secret"])}
        ).status_code
        == 400
    )
    big = b"{" + b" " * (1024 * 1024 + 1) + b"}"
    assert client.post("/webhook", content=big).status_code == 413
    assert count(client, WebhookEvent) == 0


def test_a_redelivered_message_is_stored_once(client: TestClient) -> None:
    body = text_body("hola", "wamid.DUP")
    assert [post(client, body) for _ in range(3)] == [200, 200, 200]
    assert count(client, Message, Message.wamid == "wamid.DUP") == 1
    assert count(client, WebhookEvent) == 3


# ------------------------------------------------------------------------ through the worker
def test_a_text_message_gets_a_reply_through_the_graph_api(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    assert post(live_client, text_body("hola, que promociones hay?", "wamid.E2E")) == 200
    (reply, *_more) = fake_graph.wait_for(1)
    assert reply.path == f"/v21.0/{DEMO['phone_number_id']}/messages"
    assert reply.token == DEMO["token"] and reply.to == CUSTOMER and reply.text
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        inbound = session.scalar(select(Message).where(Message.wamid == "wamid.E2E"))
        assert inbound.processed and inbound.intent == "consultar_promociones"
        out = session.scalar(select(Message).where(Message.wamid == reply.wamid))
        assert out.direction == "out" and out.text == reply.text and out.status == "sent"


def test_three_deliveries_of_one_message_give_one_set_of_replies(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    body = text_body("quiero 2 tortas de chocolate", "wamid.TRIPLE")
    threads = [Thread(target=post, args=(live_client, copy.deepcopy(body))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fake_graph.wait_for(1)
    wait_idle(live_client)
    replies = count(live_client, OutboxMessage)
    assert replies >= 1 and len(fake_graph.sent()) == replies
    assert count(live_client, Message, Message.direction == "in") == 1
    assert len({r.text for r in fake_graph.sent()}) == replies  # no reply twice


def test_graph_failing_then_recovering_delivers_once(live_client: TestClient, fake_graph: FakeGraph) -> None:
    fake_graph.fail(500, times=2)
    assert post(live_client, text_body("hola", "wamid.RETRY")) == 200
    wait_idle(live_client)
    assert [r.status for r in fake_graph.requests][:3] == [500, 500, 200]
    assert len(fake_graph.sent()) == count(live_client, OutboxMessage, OutboxMessage.status == "sent") >= 1


def test_a_batch_is_processed_in_order_per_customer(live_client: TestClient, fake_graph: FakeGraph) -> None:
    body = load("message__batch_three_messages_two_statuses.json")  # already addressed to the demo tenant
    assert post(live_client, body) == 200
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
        assert [m.text for m in inbound] == ["hola", "buenas, tienen alfajores?", "qué promociones hay?"]
        assert all(m.processed for m in inbound)
        assert len({m.conversation_id for m in inbound}) == 2
    assert {r.to for r in fake_graph.sent()} == {"51987500001", "51987500002"}


# ------------------------------------------------------------------------ statuses and echoes
def test_statuses_only_move_forward_and_failed_is_final(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    post(live_client, text_body("hola", "wamid.ST"))
    (reply, *_rest) = fake_graph.wait_for(1)
    wait_idle(live_client)

    def status_now() -> str:
        with runtime_of(live_client).session() as session:
            return session.scalar(select(Message.status).where(Message.wamid == reply.wamid))

    for status, expected in [
        ("delivered", "delivered"),
        ("sent", "delivered"),
        ("read", "read"),
        ("delivered", "read"),
        ("failed", "failed"),
        ("read", "failed"),
    ]:
        assert post(live_client, status_body(reply.wamid, status)) == 200
        assert status_now() == expected, status
    with runtime_of(live_client).session() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.wamid == reply.wamid))
        assert row.status == "failed" and "131047" in row.last_error


def test_an_echo_is_an_operator_message_that_is_not_sent_again(
    live_client: TestClient, fake_graph: FakeGraph
) -> None:
    body = retarget(load("echo__text.json"), DEMO["phone_number_id"], DEMO["waba_id"])
    echo = body["entry"][0]["changes"][0]["value"]["message_echoes"][0]
    echo["to"], echo["id"] = CUSTOMER, "wamid.ECHO"
    assert post(live_client, body) == 200
    assert post(live_client, body) == 200  # redelivered: still one message
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        (message,) = session.scalars(select(Message).where(Message.wamid == "wamid.ECHO")).all()
        assert (message.sender, message.direction, message.text) == ("operator", "out", "Test message")
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation.state == "paused"  # the bot steps aside while the owner talks
    assert count(live_client, OutboxMessage) == 0 and not fake_graph.requests


# ------------------------------------------------------------------------ crash windows and wake-ups
def test_the_embedded_worker_is_woken_by_the_webhook_not_by_its_sweep(
    web_settings, fake_graph: FakeGraph
) -> None:
    """A webhook's signal reaches the worker at once (its database sweep runs every 10 minutes)."""
    config = WorkerConfig(poll_s=0.05, sweep_s=600)
    with TestClient(create_app(web_settings, embedded_worker=True, worker_config=config)) as client:
        time.sleep(0.3)  # the start-up sweep is over
        started = time.monotonic()
        assert post(client, text_body("hola", "wamid.WAKE")) == 200
        assert fake_graph.wait_for(1, timeout=5), "no reply: the signal did not wake the worker"
        assert time.monotonic() - started < 3


def test_a_status_naming_our_row_confirms_a_reply_whose_sender_died_before_recording_it(
    client: TestClient, fake_graph: FakeGraph
) -> None:
    """The worker was killed after WhatsApp accepted the reply but before writing it down: Meta's
    status (carrying our ``biz_opaque_callback_data``) records it as sent, so it is never resent."""
    assert post(client, text_body("hola", "wamid.KILLED")) == 200
    runtime = runtime_of(client)
    with runtime.session() as session:
        conversation_id = session.scalar(select(Message.conversation_id).where(Message.wamid == "wamid.KILLED"))
    assert drain(runtime, conversation_id) == 1
    with runtime.session() as session:
        row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        row.status, row_id, message_id = "sending", row.id, row.message_id  # claimed, then SIGKILL
        assert row.payload["reply_to"]["wamid"] == "wamid.KILLED"
    body = status_body("wamid.ACCEPTED", "sent")
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = f"chasqui:{row_id}"
    assert post(client, body) == 200
    assert post(client, status_body("wamid.ACCEPTED", "delivered")) == 200
    with runtime.session() as session:
        row = session.get(OutboxMessage, row_id)
        message = session.get(Message, message_id)
        assert (row.status, row.wamid) == ("sent", "wamid.ACCEPTED")
        assert (message.wamid, message.status) == ("wamid.ACCEPTED", "delivered")
    sender = OutboxSender(runtime.db, GraphClient(fake_graph.url, "v21.0"), runtime.settings.secret())
    far = datetime.now(UTC) + timedelta(hours=1)
    assert sender.recover_interrupted(now=far) == 0
    sender.send_due(far)
    assert [r.row_id for r in fake_graph.sent()].count(row_id) == 0  # never sent a second time


def test_an_inbound_image_is_downloaded_before_the_bot_answers(
    live_client: TestClient, fake_graph: FakeGraph, web_settings
) -> None:
    photo = b"\xff\xd8\xff" + b"voucher" * 50
    fake_graph.add_media("424242", photo, "image/jpeg")
    body = text_body("", "wamid.PHOTO")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"], message["image"] = "image", {"id": "424242", "mime_type": "image/jpeg"}
    assert post(live_client, body) == 200
    wait_idle(live_client)
    with runtime_of(live_client).session() as session:
        stored = session.scalar(select(Message).where(Message.wamid == "wamid.PHOTO"))
        assert stored.processed and stored.media["path"] == f"{stored.tenant_id}/" + stored.media["path"].split("/")[1]
    assert (web_settings.data_dir / "media" / stored.media["path"]).read_bytes() == photo
    assert fake_graph.sent(), "the bot still answered"
