"""200 conversations × 5 messages at once: every message answered, in order within each conversation,
embedded (SQLite) and distributed (2 workers on Redis + PostgreSQL). About 20 s and 30 s on a quiet
2-core machine (78 s for the distributed run on a busy one)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakes.reliability import TEXTS, running_stack, verify

CONVERSATIONS = 200


@pytest.mark.timeout(300)
def test_200_conversations_of_5_messages_all_answered_in_order(deployment, tmp_path: Path) -> None:
    embedded = not deployment.distributed
    conversations = CONVERSATIONS
    with running_stack(
        tmp_path,
        database_url=deployment.database_url,
        redis_url=deployment.redis_url,
        embedded_worker=embedded,
        template=deployment.template,
    ) as stack:
        if deployment.distributed:
            stack.workers = [stack.worker(i).start() for i in range(deployment.workers)]
            for worker in stack.workers:
                worker.wait_ready()
        traffic = stack.traffic()
        # 51958…: clear of the demo tenant's operator number (51955000111), which the bot never sells to
        phones = [f"51958{int(deployment.distributed)}{i:05d}" for i in range(conversations)]
        started = time.monotonic()
        traffic.run_conversations(phones, TEXTS, prefix=f"wamid.load.{deployment.name}", concurrency=64)
        posted_in = time.monotonic() - started
        stack.wait_idle(timeout=120, expected_messages=None)
        total = time.monotonic() - started
        verdict = verify(stack, traffic.posted)
        print(
            f"\n[{deployment.name}] {len(traffic.posted)} messages from {conversations} conversations: "
            f"posted in {posted_in:.1f}s, all answered in {total:.1f}s; {verdict}"
        )
        assert len(traffic.posted) == conversations * len(TEXTS)
        assert not verdict.problems, str(verdict)
