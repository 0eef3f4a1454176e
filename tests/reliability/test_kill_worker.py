"""SIGKILL a ``chasqui worker`` process mid-drain 20 times in a row while messages keep coming:
0 messages lost, 0 answered twice, every reply accepted once by the Graph API, in order.

SQLite: one worker process (the supported set-up), killed and restarted. Distributed: two worker
processes on Redis + PostgreSQL, killed in turn (sometimes both are down at once: the signals wait
in Redis). Each kill happens while inbound messages or replies are waiting, i.e. while the victim is
draining or sending.

The workers are forked from a pre-imported parent (``fakes.zygote``): real processes running
exactly what ``chasqui worker`` runs, without re-importing the engine 20 times; the other
distributed tests start them as ``python -m chasqui worker``.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from fakes.reliability import Feeder, Stack, running_stack, verify

KILLS = 20
CONVERSATIONS = 12
ROUND_EVERY_S = 0.4  # each conversation writes a message this often while the workers are killed


def _busy(stack: Stack) -> bool:
    counts = stack.counts()
    return bool(counts["unprocessed"] or counts.get("pending") or counts.get("sending"))


def _kill_when_busy(stack: Stack, index: int, rng: random.Random) -> bool:
    """Wait for work in flight, let the victim get into it, SIGKILL it; returns whether work was
    in flight at the moment of the kill."""
    deadline = time.monotonic() + 3.0
    while not _busy(stack) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.08))  # into the drain or the send of what just arrived
    busy = _busy(stack)
    stack.workers[index].kill()
    return busy


@pytest.mark.timeout(170)
def test_sigkill_a_worker_mid_drain_20_times_loses_nothing_and_answers_nothing_twice(
    deployment, tmp_path: Path
) -> None:
    rng = random.Random(20)
    with running_stack(
        tmp_path,
        database_url=deployment.database_url,
        redis_url=deployment.redis_url,
        embedded_worker=False,
        template=deployment.template,
    ) as stack:
        count = deployment.workers
        stack.workers = [stack.forked_worker(i).start() for i in range(count)]
        for worker in stack.workers:
            worker.wait_ready()
        phones = [f"51966{int(deployment.distributed)}{i:05d}" for i in range(CONVERSATIONS)]
        feeder = Feeder(stack.traffic(), phones, f"wamid.kill.{deployment.name}", ROUND_EVERY_S)
        started = time.monotonic()
        feeder.start()
        busy_kills = 0
        for kill in range(KILLS):
            index = kill % count
            stack.workers[index].wait_ready()
            busy_kills += _kill_when_busy(stack, index, rng)
            stack.workers[index] = stack.forked_worker(index).start()
            if count == 1:
                stack.workers[index].wait_ready()
        feeder.done.set()
        feeder.join(timeout=60)
        for worker in stack.workers:
            worker.wait_ready()
        stack.wait_idle(timeout=90)
        elapsed = time.monotonic() - started
        posted = feeder.traffic.posted
        verdict = verify(stack, posted)
        print(
            f"\n[{deployment.name}] {KILLS} SIGKILLs ({busy_kills} with work in flight) in {elapsed:.1f}s, "
            f"{len(posted)} messages from {CONVERSATIONS} customers; {verdict}"
        )
        assert not verdict.problems, str(verdict)
        assert busy_kills >= KILLS // 2  # the kills really hit workers with work to do
