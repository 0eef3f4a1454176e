"""Distributed mode survives its servers blinking (issue 18, finding 5): while customers keep
writing, the test's own Redis server is SIGKILLed and started again on the same port 3 s later,
then every PostgreSQL connection of the workers is terminated (``pg_terminate_backend``) three
times. Both ``chasqui worker`` processes stay up, reconnect (one log line per retry), and every
message still gets exactly one processing, every reply is accepted once, in order per chat.

The shared PostgreSQL server is never restarted (others use it): only the connections whose
``application_name`` is this test's workers' are killed. Needs ``CHASQUI_TEST_REDIS_URL`` (only to
know that Redis is part of the run; the test starts its own ``redis-server``) and
``CHASQUI_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fakes.live import free_port
from fakes.reliability import Feeder, running_stack, verify
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

REDIS_ENV, POSTGRES_ENV = "CHASQUI_TEST_REDIS_URL", "CHASQUI_TEST_POSTGRES_URL"
CONVERSATIONS = 8
ROUND_EVERY_S = 0.3
REDIS_DOWN_S = 3.0


class RedisServer:
    """A private ``redis-server`` on a fixed free port (no persistence): killed and restarted at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory)]
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    missing = [name for name in (REDIS_ENV, POSTGRES_ENV) if not os.environ.get(name)]
    if missing:
        pytest.skip(f"distributed mode: set {' and '.join(missing)}")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the test restarts its own Redis")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory).start()
    try:
        yield server
    finally:
        server.kill()


def terminate_connections(database_url: str, application_name: str) -> int:
    """``pg_terminate_backend`` on every connection of ``application_name``; returns how many."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            ).all()
        return len(killed)
    finally:
        admin.dispose()


@pytest.mark.timeout(240)
def test_workers_survive_a_redis_restart_and_killed_postgres_connections_mid_load(
    own_redis: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    app_name = f"chasqui-outage-{uuid.uuid4().hex[:8]}"
    with running_stack(tmp_path, database_url=postgres_url, redis_url=own_redis.url) as stack:
        workers = [stack.worker(i) for i in range(2)]
        for worker in workers:
            worker.env = {**worker.env, "PGAPPNAME": app_name}
        stack.workers = [worker.start() for worker in workers]
        for worker in stack.workers:
            worker.wait_ready()
        feeder = Feeder(stack.traffic(), [f"51977{i:06d}" for i in range(CONVERSATIONS)], "wamid.outage", ROUND_EVERY_S)
        feeder.start()
        time.sleep(1.5)  # messages flowing

        own_redis.kill()
        time.sleep(REDIS_DOWN_S)
        own_redis.start()
        time.sleep(1.5)

        terminated = 0
        for _ in range(3):
            terminated += terminate_connections(postgres_url, app_name)
            time.sleep(0.7)
        time.sleep(1.0)
        feeder.done.set()
        feeder.join(timeout=60)

        stack.wait_idle(timeout=90)
        verdict = verify(stack, feeder.traffic.posted)
        alive = [worker.alive for worker in stack.workers]
        logs = "".join(worker.log_path.read_text(encoding="utf-8", errors="replace") for worker in stack.workers)
        print(f"\n[outage] {len(feeder.traffic.posted)} messages, {terminated} PostgreSQL connections "
              f"terminated; {verdict}")
        assert alive == [True, True], logs[-4000:]
        assert terminated > 0  # the workers' connections really were cut
        assert "reconnecting" in logs  # each retry is logged
        assert not verdict.problems, str(verdict)
