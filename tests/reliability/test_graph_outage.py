"""The Graph API failing with 500s and 429s (with Retry-After and Meta's rate-limit codes), then
recovering: every reply is delivered exactly once, in order per customer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakes.reliability import TEXTS, running_stack, verify

CONVERSATIONS = 20


@pytest.mark.timeout(120)
def test_graph_api_errors_then_recovery_deliver_every_reply_exactly_once(deployment, tmp_path: Path) -> None:
    with running_stack(
        tmp_path,
        database_url=deployment.database_url,
        redis_url=deployment.redis_url,
        embedded_worker=not deployment.distributed,
        template=deployment.template,
    ) as stack:
        if deployment.distributed:
            stack.workers = [stack.worker(i).start() for i in range(deployment.workers)]
            for worker in stack.workers:
                worker.wait_ready()
        graph = stack.graph
        graph.fail(500, times=25)
        graph.fail(429, code=130429, message="Rate limit hit", times=10, headers={"Retry-After": "1"})
        graph.fail(503, times=15)
        graph.fail(429, code=131056, message="Pair rate limit hit", times=10)
        graph.fail(500, code=131000, message="Something went wrong", times=10)
        started = time.monotonic()
        traffic = stack.traffic()
        phones = [f"51977{int(deployment.distributed)}{i:05d}" for i in range(CONVERSATIONS)]
        traffic.run_conversations(phones, TEXTS[:3], prefix=f"wamid.outage.{deployment.name}")
        stack.wait_idle(timeout=90)
        elapsed = time.monotonic() - started
        verdict = verify(stack, traffic.posted)
        failures = [r for r in graph.requests if r.status >= 400]
        print(
            f"\n[{deployment.name}] {len(failures)} Graph API errors (500/503/429/131056/131000) then recovery: "
            f"{len(graph.sent())} replies accepted in {elapsed:.1f}s; {verdict}"
        )
        assert len(failures) == 70  # every scripted failure was hit, then the API recovered
        assert not verdict.problems, str(verdict)
