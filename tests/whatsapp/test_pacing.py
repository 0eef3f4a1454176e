"""Pacing within Meta's limits: 80 messages/s per number, to one customer 45 at once then one every 6 s.

GCRA with a fake clock (``MemoryPacer``), the outbox sender holding back what may not go yet (order
kept), the worker looking again when pacing allows instead of after a full poll, and ``RedisPacer``
sharing one budget between processes (only with ``CHASQUI_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fakes.graph_server import FakeGraph
from fakes.outbox_rows import NOW, add_tenant, outbox_row, queue_text
from sqlalchemy import Engine

from chasqui.config import Settings
from chasqui.runtime import Runtime
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.outbox import OutboxSender
from chasqui.worker.pacing import MemoryPacer, PacingPolicy, RedisPacer
from chasqui.worker.run import Worker, WorkerConfig

REDIS_ENV = "CHASQUI_TEST_REDIS_URL"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _burst(pacer: MemoryPacer, number: str, recipient: str, count: int) -> list[float]:
    return [pacer.reserve(number, recipient) for _ in range(count)]


# ------------------------------------------------------------------------------------------- GCRA
def test_45_to_one_customer_go_at_once_then_one_every_6_seconds(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(), clock)
    assert _burst(pacer, "1", "51987000001", 45) == [0.0] * 45
    assert pacer.reserve("1", "51987000001") == pytest.approx(6.0)
    clock.advance(5.9)
    assert pacer.reserve("1", "51987000001") == pytest.approx(0.1)
    clock.advance(0.1)
    assert pacer.reserve("1", "51987000001") == 0.0  # the 46th
    assert pacer.reserve("1", "51987000001") == pytest.approx(6.0)  # then one every 6 s
    clock.advance(6.0)
    assert pacer.reserve("1", "51987000001") == 0.0
    clock.advance(6.0 * 45)  # idle long enough: the whole burst is back
    assert _burst(pacer, "1", "51987000001", 45) == [0.0] * 45
    assert pacer.reserve("1", "51987000001") > 0


def test_other_customers_and_other_numbers_are_unaffected(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(), clock)
    _burst(pacer, "1", "51987000001", 45)
    assert pacer.reserve("1", "51987000001") > 0
    assert _burst(pacer, "1", "51987000002", 30) == [0.0] * 30
    assert _burst(pacer, "2", "51987000001", 45) == [0.0] * 45  # same customer, another business number


def test_80_per_second_per_number(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(), clock)
    assert [pacer.reserve("1", f"5198700{i:04d}") for i in range(80)] == [0.0] * 80
    wait = pacer.reserve("1", "51987009999")  # the 81st in the same second
    assert wait == pytest.approx(1 / 80) and getattr(wait, "number", False)
    assert pacer.reserve("2", "51987009999") == 0.0  # another number has its own 80/s
    clock.advance(1 / 80)
    assert pacer.reserve("1", "51987009999") == 0.0
    assert pacer.reserve("1", "51987009998") == pytest.approx(1 / 80)


def test_a_wait_consumes_nothing(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(number_per_s=1, pair_interval_s=60, pair_burst=1), clock)
    assert pacer.reserve("1", "A") == 0.0
    for _ in range(100):
        assert pacer.reserve("1", "A") > 0  # asking again and again does not push the wait further
    number_wait = pacer.reserve("1", "B")
    assert number_wait == pytest.approx(1.0) and getattr(number_wait, "number", False)
    clock.advance(1.0)
    assert pacer.reserve("1", "B") == 0.0  # B's own budget was not spent by the number's refusal
    clock.advance(1.0)
    pair_wait = pacer.reserve("1", "B")
    assert pair_wait == pytest.approx(59.0) and not getattr(pair_wait, "number", False)
    assert pacer.reserve("1", "C") == 0.0  # the number's budget was not spent by B's refusal
    clock.advance(58.0)
    assert pacer.reserve("1", "A") == 0.0


def test_a_limit_of_zero_is_off(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(number_per_s=0, pair_interval_s=0, pair_burst=0), clock)
    assert _burst(pacer, "1", "A", 500) == [0.0] * 500
    only_pair = MemoryPacer(PacingPolicy(number_per_s=0, pair_burst=2), clock)
    assert _burst(only_pair, "1", "A", 3)[2] > 0
    assert [only_pair.reserve("1", f"C{i}") for i in range(500)] == [0.0] * 500


def test_threads_share_the_budget_exactly(clock: FakeClock) -> None:
    pacer = MemoryPacer(PacingPolicy(), clock)
    granted: list[float] = []
    lock = threading.Lock()

    def send() -> None:
        waits = _burst(pacer, "1", "A", 20)
        with lock:
            granted.extend(w for w in waits if w == 0.0)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 45


# ------------------------------------------------------------------------------------ the sender
@pytest.fixture
def tenant_id(engine: Engine, settings: Settings) -> int:
    return add_tenant(engine, settings.secret(), "dulce-lima", "109876543210")


def _status(engine: Engine, row_id: int) -> str:
    return outbox_row(engine, row_id).status


def _sender(engine: Engine, graph: GraphClient, settings: Settings, pacer: MemoryPacer) -> OutboxSender:
    return OutboxSender(engine, graph, settings.secret(), clock=lambda: NOW, rng=random.Random(7), pacer=pacer)


def test_a_customer_past_the_burst_waits_in_order_while_the_others_are_served(
    engine: Engine, tenant_id: int, settings: Settings, graph_client: GraphClient, fake_graph: FakeGraph,
    clock: FakeClock,
) -> None:
    busy, others = "51987000001", ["51987000002", "51987000003"]
    for i in range(50):
        queue_text(engine, tenant_id, busy, f"busy {i}")
        if i % 10 == 5:
            for other in others:
                queue_text(engine, tenant_id, other, f"{other} {i}")
    sender = _sender(engine, graph_client, settings, MemoryPacer(PacingPolicy(), clock))

    report = sender.send_due()
    assert report.sent == 45 + 10
    assert [r.text for r in fake_graph.sent() if r.to == busy] == [f"busy {i}" for i in range(45)]
    assert all(len([r for r in fake_graph.sent() if r.to == other]) == 5 for other in others)
    assert report.wait_s == pytest.approx(6.0)

    again = sender.send_due()  # nothing may go yet: no request, the same wait
    assert again.total == 0 and again.wait_s == pytest.approx(6.0) and len(fake_graph.sent()) == 55

    clock.advance(6.0)
    report = sender.send_due()
    assert report.sent == 1 and fake_graph.sent()[-1].text == "busy 45"
    assert report.wait_s == pytest.approx(6.0)


def test_when_the_number_must_wait_the_tenants_later_rows_wait(
    engine: Engine, tenant_id: int, settings: Settings, graph_client: GraphClient, fake_graph: FakeGraph,
    clock: FakeClock,
) -> None:
    other_tenant = add_tenant(engine, settings.secret(), "otra-tienda", "109876543299")
    rows = {to: queue_text(engine, tenant_id, to, f"hola {to}") for to in ("A", "B", "C")}
    rows["E"] = queue_text(engine, tenant_id, "E", "hola E")
    elsewhere = queue_text(engine, other_tenant, "A", "hola desde otra tienda")
    sender = _sender(engine, graph_client, settings, MemoryPacer(PacingPolicy(number_per_s=2), clock))

    report = sender.send_due()
    assert [_status(engine, rows[to]) for to in "ABCE"] == ["sent", "sent", "pending", "pending"]
    assert _status(engine, elsewhere) == "sent"  # another number has its own budget
    assert report.wait_s == pytest.approx(0.5)

    clock.advance(0.5)
    assert sender.send_due().sent == 1
    assert [_status(engine, rows[to]) for to in "CE"] == ["sent", "pending"]  # in order, one per 0.5 s
    clock.advance(0.5)
    assert sender.send_due().sent == 1 and _status(engine, rows["E"]) == "sent"


def test_without_a_pacer_nothing_is_held_back(
    engine: Engine, tenant_id: int, settings: Settings, graph_client: GraphClient, fake_graph: FakeGraph
) -> None:
    for i in range(60):
        queue_text(engine, tenant_id, "51987000001", f"sin límite {i}")
    report = OutboxSender(engine, graph_client, settings.secret(), clock=lambda: NOW).send_due()
    assert report.sent == 60 and report.wait_s is None


# ------------------------------------------------------------------------------------ the worker
def test_the_worker_looks_again_when_pacing_allows_not_after_a_full_poll(
    engine: Engine, tenant_id: int, settings: Settings, graph_client: GraphClient, fake_graph: FakeGraph
) -> None:
    for i in range(30):
        queue_text(engine, tenant_id, f"5198700{i:04d}", f"mensaje {i}")
    config = WorkerConfig(poll_s=5.0, sweep_s=600, pacing=PacingPolicy(number_per_s=20, pair_interval_s=0))
    worker = Worker(Runtime(settings=settings, db=engine), graph_client, config=config)
    worker.start()
    try:
        sent = fake_graph.wait_for(30, timeout=4)
    finally:
        worker.stop()
    assert len(sent) == 30  # a full poll (5 s) per held-back message would take minutes
    assert sent[-1].at - sent[0].at >= 10 / 20 - 0.05  # 20 at once, then 10 more at 20/s


def test_pacing_settings_come_from_the_environment() -> None:
    assert WorkerConfig().pacing == PacingPolicy(number_per_s=80, pair_interval_s=6.0, pair_burst=45)
    env = {"CHASQUI_PACE_NUMBER_PER_S": "40", "CHASQUI_PACE_PAIR_INTERVAL_S": "3", "CHASQUI_PACE_PAIR_BURST": "10"}
    assert WorkerConfig().with_env(env).pacing == PacingPolicy(40, 3.0, 10)
    off = {"CHASQUI_PACE_NUMBER_PER_S": "0", "CHASQUI_PACE_PAIR_BURST": "0"}
    assert not WorkerConfig().with_env(off).pacing.enabled


# ------------------------------------------------------------------------------------------ Redis
@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"redis: set {REDIS_ENV} (e.g. redis://127.0.0.1:6379/0) to run the shared pacer with Redis")
    return url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    import redis

    name = f"chasqui-test:pace:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def _process(redis_url: str, prefix: str, policy: PacingPolicy) -> RedisPacer:
    """A pacer with its own connection, as in another ``chasqui worker`` process."""
    return RedisPacer.from_url(redis_url, policy, prefix=prefix)


@pytest.mark.redis
def test_two_processes_share_one_customers_budget(redis_url: str, prefix: str) -> None:
    policy = PacingPolicy(number_per_s=0, pair_interval_s=60, pair_burst=3)
    one, two = _process(redis_url, prefix, policy), _process(redis_url, prefix, policy)
    try:
        assert [one.reserve("1", "A"), two.reserve("1", "A"), one.reserve("1", "A")] == [0.0, 0.0, 0.0]
        for pacer in (one, two):
            wait = pacer.reserve("1", "A")
            assert 59 < wait <= 60 and not getattr(wait, "number", False)
        assert two.reserve("1", "B") == 0.0 and one.reserve("2", "A") == 0.0
    finally:
        one.close()
        two.close()


@pytest.mark.redis
def test_two_processes_share_one_numbers_budget_and_keys_expire(redis_url: str, prefix: str) -> None:
    import redis

    policy = PacingPolicy(number_per_s=4, pair_interval_s=60, pair_burst=45)
    one, two = _process(redis_url, prefix, policy), _process(redis_url, prefix, policy)
    try:
        granted = [one.reserve("1", "A"), two.reserve("1", "B"), one.reserve("1", "C"), two.reserve("1", "D")]
        assert granted == [0.0] * 4
        waits = [one.reserve("1", "E"), two.reserve("1", "E")]
        assert all(0 < wait <= 0.25 and getattr(wait, "number", False) for wait in waits)
        time.sleep(0.26)
        assert two.reserve("1", "E") == 0.0  # the refused tries spent nothing
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        assert len(keys) == 6 and all(0 < client.pttl(key) <= 60_000 for key in keys)  # they expire alone
        client.close()
    finally:
        one.close()
        two.close()


def test_without_redis_messages_go_unpaced() -> None:
    pacer = RedisPacer.from_url("redis://127.0.0.1:1/0", PacingPolicy(pair_burst=1))
    try:
        assert [pacer.reserve("1", "A") for _ in range(3)] == [0.0, 0.0, 0.0]
    finally:
        pacer.close()
