"""Live updates of the panel: change events per tenant, fanned out to Server-Sent Event streams.

* ``ChangeTracker`` listens to SQLAlchemy sessions: after a commit that added or changed a message,
  a conversation, an escalation, a contact or a note, it publishes one small event per
  conversation (``{"kind": "message", "conversation_id": 7, ...}``) on the tenant's channel. Every
  writer is covered without touching it: the webhook, the worker's bot replies and delivery
  statuses, the panel's own actions.
* ``LiveHub`` holds the SSE subscribers of this process and delivers to them (thread-safe: the
  publishers run in worker threads, the streams on the event loop).
* Where events go: embedded mode (no ``CHASQUI_REDIS_URL``) straight into the hub; distributed mode
  through Redis pub/sub (``RedisRelay``): every web process and ``chasqui worker`` publishes to
  Redis, and each web process relays the channel into its own hub.
* ``GET /events``: the stream of the user's current tenant (``event: change``), with a comment
  line as heartbeat and a bounded lifetime (the browser's EventSource reconnects by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chasqui.db.models import Contact, Conversation, ConversationNote, Escalation, Message

log = logging.getLogger(__name__)
router = APIRouter()

CHANNEL_PREFIX = "chasqui:live:"
HEARTBEAT_S = 15.0
STREAM_MAX_S = 120.0
QUEUE_SIZE = 256
Publish = Callable[[int, dict[str, Any]], None]
_CLOSE = object()


# -- the hub: SSE subscribers of this process ------------------------------------------------------
@dataclass(eq=False)
class Subscriber:
    tenant_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def put(self, item: Any) -> None:
        """Called on the subscriber's loop. A full queue drops the event (the page catches up on
        the next one: every refresh reloads the whole view)."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(item)


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._lock = threading.Lock()
        self.closed = False

    def subscribe(self, tenant_id: int) -> Subscriber:
        subscriber = Subscriber(tenant_id, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.setdefault(tenant_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            group = self._subscribers.get(subscriber.tenant_id)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._subscribers[subscriber.tenant_id]

    def count(self, tenant_id: int | None = None) -> int:
        with self._lock:
            if tenant_id is None:
                return sum(len(group) for group in self._subscribers.values())
            return len(self._subscribers.get(tenant_id, ()))

    def deliver(self, tenant_id: int, payload: dict[str, Any]) -> None:
        """Hand ``payload`` to every stream of ``tenant_id`` (from any thread)."""
        with self._lock:
            targets = list(self._subscribers.get(tenant_id, ()))
        for subscriber in targets:
            with contextlib.suppress(RuntimeError):  # its loop is closed
                subscriber.loop.call_soon_threadsafe(subscriber.put, payload)

    def close(self) -> None:
        """End every stream (shutdown)."""
        self.closed = True
        with self._lock:
            targets = [s for group in self._subscribers.values() for s in group]
        for subscriber in targets:
            with contextlib.suppress(RuntimeError):
                subscriber.loop.call_soon_threadsafe(subscriber.put, _CLOSE)


# -- Redis pub/sub (distributed mode) --------------------------------------------------------------
class RedisPublisher:
    """Publishes events on ``chasqui:live:<tenant_id>``; failures are logged, never raised."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def __call__(self, tenant_id: int, payload: dict[str, Any]) -> None:
        try:
            self.client.publish(f"{CHANNEL_PREFIX}{tenant_id}", json.dumps(payload))
        except Exception as exc:  # Redis down: the page still works, only without live updates
            log.warning("live: cannot publish to Redis: %s", exc)

    def close(self) -> None:
        self.client.close()


class RedisRelay:
    """A thread that relays every ``chasqui:live:*`` message from Redis into a hub."""

    def __init__(self, url: str, hub: LiveHub) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.hub = hub
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chasqui-live-relay", daemon=True)

    def start(self, wait_s: float = 5.0) -> None:
        self._thread.start()
        self._ready.wait(wait_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                self._ready.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._relay(message)
                pubsub.close()
            except Exception as exc:
                log.warning("live: Redis relay interrupted (%s); retrying", exc)
                self._stop.wait(1.0)

    def _relay(self, message: dict[str, Any]) -> None:
        try:
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            tenant_id = int(str(channel).removeprefix(CHANNEL_PREFIX))
            payload = json.loads(message["data"])
        except (KeyError, ValueError, TypeError):
            return
        if isinstance(payload, dict):
            self.hub.deliver(tenant_id, payload)


# -- what changed: SQLAlchemy session events ---------------------------------------------------------
def _change_of(obj: Any) -> tuple[int, int | None, dict[str, Any]] | None:
    if isinstance(obj, Message):
        return obj.tenant_id, obj.conversation_id, {"kind": "message", "direction": obj.direction}
    if isinstance(obj, Conversation):
        return obj.tenant_id, obj.id, {"kind": "conversation", "state": obj.state}
    if isinstance(obj, Escalation):
        return obj.tenant_id, obj.conversation_id, {"kind": "escalation"}
    if isinstance(obj, ConversationNote):
        return obj.tenant_id, obj.conversation_id, {"kind": "note"}
    if isinstance(obj, Contact):
        return obj.tenant_id, None, {"kind": "contact", "contact_id": obj.id}
    return None


class ChangeTracker:
    """Publishes the changes of every committed session bound to ``engine`` (None: every session)."""

    def __init__(self, publish: Publish, engine: Engine | None = None) -> None:
        self.publish = publish
        self.engine = engine
        self.installed = False
        self._key = f"chasqui_live_changes_{id(self)}"  # each tracker keeps its own list per session

    def _mine(self, session: Session) -> bool:
        return self.engine is None or session.bind is self.engine

    def _after_flush(self, session: Session, _context: Any) -> None:
        if not self._mine(session):
            return
        changes: dict[tuple[int, int | None, str], dict[str, Any]] = session.info.setdefault(self._key, {})
        for obj in chain(session.new, session.dirty, session.deleted):
            found = _change_of(obj)
            if found is None or found[0] is None:
                continue
            tenant_id, conversation_id, payload = found
            # one event per conversation and kind: a message beats a conversation update
            changes[(tenant_id, conversation_id, payload["kind"])] = {"conversation_id": conversation_id} | payload

    def _after_commit(self, session: Session) -> None:
        changes = session.info.pop(self._key, None)
        if not changes:
            return
        for (tenant_id, _conversation_id, _kind), payload in changes.items():
            try:
                self.publish(tenant_id, payload)
            except Exception:  # never break a commit that already happened
                log.exception("live: publishing a change failed")

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self._key, None)

    def install(self) -> ChangeTracker:
        if not self.installed:
            event.listen(Session, "after_flush", self._after_flush)
            event.listen(Session, "after_commit", self._after_commit)
            event.listen(Session, "after_soft_rollback", self._after_soft_rollback)
            self.installed = True
        return self

    def _after_soft_rollback(self, session: Session, _previous: Any) -> None:
        self._after_rollback(session)

    def uninstall(self) -> None:
        if self.installed:
            event.remove(Session, "after_flush", self._after_flush)
            event.remove(Session, "after_commit", self._after_commit)
            event.remove(Session, "after_soft_rollback", self._after_soft_rollback)
            self.installed = False


# -- shutdown ---------------------------------------------------------------------------------------
def _end_streams_on_exit_signal(hub: LiveHub) -> Callable[[], None]:
    """Uvicorn waits for open responses before it shuts down, and an event stream never ends by
    itself: on SIGINT/SIGTERM, close the hub first (its streams end at once, the browsers reconnect
    to the next server), then let the server's own handler run. Only from the main thread (where
    uvicorn serves); returns the function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def handler(sig: int, frame: Any) -> None:
        hub.close()
        before = previous.get(sig)
        if callable(before):
            before(sig, frame)
        elif sig == signal.SIGINT:
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(sig) is handler:
                    signal.signal(sig, before)

    return restore


# -- wiring -----------------------------------------------------------------------------------------
@dataclass
class Live:
    """The live-update machinery of one web app (``app.state.chasqui.live``)."""

    hub: LiveHub
    tracker: ChangeTracker
    relay: RedisRelay | None = None
    publisher: RedisPublisher | None = None
    stream_max_s: float = STREAM_MAX_S
    heartbeat_s: float = HEARTBEAT_S
    restore_signals: Callable[[], None] = field(default=lambda: None, repr=False)

    @classmethod
    def start(cls, engine: Engine, redis_url: str | None = None) -> Live:
        hub = LiveHub()
        restore = _end_streams_on_exit_signal(hub)
        if redis_url:
            publisher = RedisPublisher(redis_url)
            relay = RedisRelay(redis_url, hub)
            relay.start()
            return cls(hub, ChangeTracker(publisher, engine).install(), relay, publisher, restore_signals=restore)
        return cls(hub, ChangeTracker(hub.deliver, engine).install(), restore_signals=restore)

    def publish(self, tenant_id: int, payload: dict[str, Any]) -> None:
        self.tracker.publish(tenant_id, payload)

    def stop(self) -> None:
        self.restore_signals()
        self.tracker.uninstall()
        self.hub.close()
        if self.relay is not None:
            self.relay.stop()
        if self.publisher is not None:
            self.publisher.close()


def publish_changes_to_redis(redis_url: str) -> ChangeTracker:
    """For ``chasqui worker`` in distributed mode: its commits reach the panels through Redis."""
    return ChangeTracker(RedisPublisher(redis_url)).install()


# -- the SSE endpoint -------------------------------------------------------------------------------
def _sse(event_name: str, payload: dict[str, Any]) -> str:
    return f"event: {event_name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


async def _stream(live: Live, subscriber: Subscriber) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + live.stream_max_s
    try:
        yield "retry: 2000\n: conectado\n\n"
        while not live.hub.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(subscriber.queue.get(), timeout=min(live.heartbeat_s, remaining))
            except TimeoutError:
                yield ": ping\n\n"
                continue
            if item is _CLOSE:
                break
            yield _sse("change", item)
    finally:
        live.hub.unsubscribe(subscriber)


@router.get("/events")
async def events(request: Request) -> Response:
    from chasqui.web.access import panel_user, tenant_id_of

    state = request.app.state.chasqui

    def tenant() -> int:
        with state.runtime.session() as session:
            return tenant_id_of(panel_user(session, request))

    tenant_id = await run_in_threadpool(tenant)
    subscriber = state.live.hub.subscribe(tenant_id)
    return StreamingResponse(
        _stream(state.live, subscriber),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
