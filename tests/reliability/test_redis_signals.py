"""Distributed mode's live path: ``chasqui serve`` enqueues "conversation C has work" in Redis after
the commit; the signal waits there while no worker is up; a worker takes it at once (not at its
next database sweep)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from fakes.reliability import running_stack, verify
from fakes.webapp import DEMO


@pytest.mark.timeout(90)
def test_signals_wait_in_redis_for_a_worker_and_wake_it_at_once(deployment, tmp_path: Path) -> None:
    if not deployment.distributed:
        pytest.skip("Redis signals exist only in distributed mode")
    with running_stack(
        tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url, embedded_worker=False
    ) as stack:
        client = redis.Redis.from_url(deployment.redis_url)
        traffic = stack.traffic()
        traffic.run_conversations(["51988000001"], ["hola"], prefix="wamid.signal.early")
        assert client.zcard(stack.queue) == 1  # no worker yet: the signal is kept in Redis
        assert stack.counts()["unprocessed"] == 1

        # A worker that sweeps the database only every 10 minutes: whatever it does at once, it
        # does because of a Redis job.
        worker = stack.worker(0)
        worker.env = {**worker.env, "CHASQUI_WORKER_SWEEP_S": "600"}
        stack.workers = [worker.start()]
        worker.wait_ready()
        stack.wait_idle(timeout=20)
        time.sleep(0.5)  # the start-up sweep is over; from now on only signals wake the worker
        before = len(stack.graph.sent())
        started = time.monotonic()
        traffic.run_conversations(["51988000002"], ["qué promociones hay?"], prefix="wamid.signal.live")
        stack.graph.wait_for(before + 1, timeout=10)
        latency = time.monotonic() - started
        stack.wait_idle(timeout=20)
        assert client.zcard(stack.queue) == 0
        client.close()
        verdict = verify(stack, traffic.posted)
        assert not verdict.problems, str(verdict)
        print(f"\n[redis] reply {latency * 1000:.0f} ms after the webhook, with database sweeps every 600 s")
        assert latency < 5.0
        assert DEMO["phone_number_id"] in stack.graph.sent()[-1].path
