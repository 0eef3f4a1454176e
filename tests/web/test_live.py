"""Live updates: committed changes become per-tenant events, and the panel's event stream (SSE)
delivers them only to users of that tenant; through Redis pub/sub in the distributed mode."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import pytest
from fakes.panel import OTHER_TENANT, add_user, customer_says, login
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Conversation
from chasqui.db.session import make_engine
from chasqui.web.live import ChangeTracker, Live, LiveHub, publish_changes_to_redis


def test_a_commit_publishes_one_event_per_changed_conversation_and_a_rollback_none(client: TestClient) -> None:
    runtime = runtime_of(client)
    events: list[tuple[int, dict]] = []
    tracker = ChangeTracker(lambda tenant, payload: events.append((tenant, payload)), runtime.db).install()
    try:
        conversation_id = customer_says(client, "hola")
        kinds = {p["kind"] for _, p in events}
        assert {"message", "conversation"} <= kinds
        assert {t for t, _ in events} == {1} and all(p["conversation_id"] in (conversation_id, None) for _, p in events)
        message_event = next(p for _, p in events if p["kind"] == "message")
        assert message_event == {"conversation_id": conversation_id, "kind": "message", "direction": "in"}

        events.clear()
        with pytest.raises(RuntimeError), runtime.session() as session:
            session.get(Conversation, conversation_id).unread_count = 99
            session.flush()
            raise RuntimeError("rolled back")
        assert events == []
    finally:
        tracker.uninstall()
    customer_says(client, "otra vez")
    assert events == []  # uninstalled


def test_the_hub_delivers_to_the_streams_of_that_tenant_only() -> None:
    async def scenario() -> tuple[list, list]:
        hub = LiveHub()
        mine, theirs = hub.subscribe(1), hub.subscribe(2)
        publisher = threading.Thread(target=hub.deliver, args=(1, {"kind": "message", "conversation_id": 7}))
        publisher.start()
        publisher.join()
        got = await asyncio.wait_for(mine.queue.get(), 2)
        await asyncio.sleep(0.05)
        hub.unsubscribe(mine)
        hub.unsubscribe(theirs)
        assert hub.count() == 0
        return [got], [theirs.queue.get_nowait() for _ in range(theirs.queue.qsize())]

    delivered, leaked = asyncio.run(scenario())
    assert delivered == [{"kind": "message", "conversation_id": 7}] and leaked == []


def _events(body: str) -> list[dict]:
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]


def test_the_event_stream_carries_new_messages_of_the_users_tenant(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    live = client.app.state.chasqui.live
    live.stream_max_s = 1.5

    def customers_write() -> None:
        deadline = time.monotonic() + 1.0
        while live.hub.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        customer_says(client, "hola, tienen tortas?", phone="51987000001")
        customer_says(client, "tienen tornillos?", phone="51987000003", tenant=OTHER_TENANT)

    writer = threading.Thread(target=customers_write)
    writer.start()
    response = client.get("/events")
    writer.join()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert "event: change" in response.text
    with runtime_of(client).session() as session:
        mine = session.scalar(select(Conversation.id).where(Conversation.tenant_id == 1))
        theirs = session.scalar(select(Conversation.id).where(Conversation.tenant_id != 1))
    ids = {e["conversation_id"] for e in _events(response.text)}
    assert mine in ids and theirs not in ids


def test_the_event_stream_needs_a_login(client: TestClient) -> None:
    response = client.get("/events")
    assert response.status_code == 401


@pytest.mark.redis
def test_a_workers_commits_reach_a_web_process_through_redis(client: TestClient) -> None:
    url = os.environ.get("CHASQUI_TEST_REDIS_URL")
    if not url:
        pytest.skip("redis: set CHASQUI_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run this with Redis")
    worker = publish_changes_to_redis(url)  # what `chasqui worker` installs: every session, to Redis
    other_engine = make_engine(str(runtime_of(client).db.url))
    web = Live.start(other_engine, url)  # another web process: it only hears Redis
    try:
        async def receive() -> dict:
            subscriber = web.hub.subscribe(1)
            await asyncio.sleep(0.2)
            await asyncio.to_thread(customer_says, client, "hola por redis")
            while True:
                payload = await asyncio.wait_for(subscriber.queue.get(), 5)
                if payload.get("kind") == "message":
                    return payload

        payload = asyncio.run(receive())
        assert payload["direction"] == "in" and payload["conversation_id"]
    finally:
        web.stop()
        worker.uninstall()
        other_engine.dispose()
