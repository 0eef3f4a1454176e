"""Real processes and servers for the reliability tests and the benchmark.

* ``LiveServer(app)``: the ASGI app served by uvicorn on 127.0.0.1 (a free port) in a thread.
* ``WorkerProcess(env, log)``: ``python -m chasqui worker`` as a child process, its log in a file;
  ``wait_ready()``, ``kill()`` (SIGKILL), ``stop()`` (SIGTERM).
* ``ServerProcess(env, log)``: the web app under uvicorn in a child process (``fakes.serve``).
* ``Traffic``: signed WhatsApp text webhooks for many conversations, posted concurrently.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from chasqui.whatsapp.signature import sign

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a background thread (lifespan included)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)


class ChildProcess:
    """A child process (a real OS process: SIGKILL means SIGKILL) whose output goes to a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._offset = 0

    def start(self) -> ChildProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self._offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, *self.argv], cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    def log_tail(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def is_ready(self) -> bool:
        raise NotImplementedError

    def wait_ready(self, timeout: float = 90.0) -> ChildProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready():
                return self
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"{self.argv} not ready in {timeout}s:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the child."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self._reap(10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap(10)

    def _reap(self, timeout: float) -> None:
        if self.process is not None:
            self.process.wait(timeout)
        if self._log is not None and not self._log.closed:
            self._log.close()


class WorkerProcess(ChildProcess):
    """``python -m chasqui worker``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(["-m", "chasqui", "worker"], env, log_path)

    def is_ready(self) -> bool:
        with open(self.log_path, "rb") as handle:
            handle.seek(self._offset)
            return b"worker: started" in handle.read()


class Zygote:
    """``fakes.zygote``: forks ready-imported ``chasqui worker`` processes (see its docstring)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        env = {**env, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"}
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fakes.zygote"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lock = threading.Lock()

    def fork(self, env: dict[str, str], log_path: Path) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self._lock:
            self.process.stdin.write(json.dumps({"env": env, "log": str(log_path)}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the zygote did not fork a worker: {line!r}")
        return int(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class ForkedWorker(WorkerProcess):
    """A ``chasqui worker`` process forked by a ``Zygote`` (same API as ``WorkerProcess``)."""

    def __init__(self, zygote: Zygote, env: dict[str, str], log_path: Path) -> None:
        super().__init__(env, log_path)
        self.zygote = zygote
        self.pid: int | None = None

    def start(self) -> ForkedWorker:
        self.log_path.touch()
        self._offset = self.log_path.stat().st_size
        self.pid = self.zygote.fork(self.env, self.log_path)
        return self

    @property
    def alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def wait_ready(self, timeout: float = 90.0) -> ChildProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready():
                return self
            if not self.alive:
                raise RuntimeError(f"the forked worker died:\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"the forked worker was not ready in {timeout}s:\n{self.log_tail()}")

    def _signal_and_wait(self, sig: int, timeout: float) -> None:
        if self.pid is None:
            return
        with suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        deadline = time.monotonic() + timeout
        while self.alive and time.monotonic() < deadline:
            time.sleep(0.01)

    def kill(self) -> None:
        self._signal_and_wait(signal.SIGKILL, 10)

    def stop(self, timeout: float = 20.0) -> None:
        self._signal_and_wait(signal.SIGTERM, timeout)
        if self.alive:
            self.kill()


class ServerProcess(ChildProcess):
    """The web app under uvicorn on 127.0.0.1 (``tests/fakes/serve.py``), as ``chasqui serve`` runs it."""

    def __init__(self, env: dict[str, str], log_path: Path, *, worker: bool = True, port: int | None = None) -> None:
        self.port = port or free_port()
        argv = ["-m", "fakes.serve", str(self.port)] + ([] if worker else ["--no-worker"])
        super().__init__(argv, {**env, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"}, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


def worker_env(settings: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``chasqui worker`` using these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHASQUI_")}
    env.update(
        CHASQUI_DATABASE_URL=settings.database_url,
        CHASQUI_DATA_DIR=str(settings.data_dir),
        CHASQUI_SECRET_KEY=settings.secret(),
        CHASQUI_GRAPH_API_URL=settings.graph_api_url,
        CHASQUI_GRAPH_API_VERSION=settings.graph_api_version,
        PYTHONPATH=str(ROOT),
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
    )
    if settings.redis_url:
        env["CHASQUI_REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


# ------------------------------------------------------------------------------------------ traffic
def text_body(text: str, wamid: str, phone: str, phone_number_id: str, name: str = "Cliente") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "fake-waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "51987654321", "phone_number_id": phone_number_id},
                            "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
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


@dataclass
class Posted:
    wamid: str
    phone: str
    text: str
    at: float  # monotonic time the POST was sent
    status: int = 0


@dataclass
class Traffic:
    """Posts signed text messages to ``url/webhook`` as Meta would (retrying non-200 answers)."""

    url: str
    app_secret: str
    phone_number_id: str
    posted: list[Posted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def signed(self, text: str, wamid: str, phone: str) -> tuple[bytes, dict[str, str]]:
        raw = json.dumps(text_body(text, wamid, phone, self.phone_number_id)).encode()
        return raw, {"X-Hub-Signature-256": sign(raw, self.app_secret), "Content-Type": "application/json"}

    async def apost(self, client: httpx.AsyncClient, text: str, wamid: str, phone: str) -> Posted:
        raw, headers = self.signed(text, wamid, phone)
        record = Posted(wamid, phone, text, time.monotonic())
        with self._lock:
            self.posted.append(record)
        for _attempt in range(20):
            try:
                response = await client.post(f"{self.url}/webhook", content=raw, headers=headers)
                record.status = response.status_code
                if response.status_code == 200:
                    return record
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        return record

    async def conversation(
        self, client: httpx.AsyncClient, phone: str, texts: Iterable[str], prefix: str, pause_s: float = 0.0
    ) -> None:
        """One customer writing ``texts`` in order (each POST answered before the next)."""
        for index, text in enumerate(texts):
            await self.apost(client, text, f"{prefix}.{phone}.{index}", phone)
            if pause_s:
                await asyncio.sleep(pause_s)

    def run_conversations(
        self, phones: list[str], texts: list[str], prefix: str, concurrency: int = 64, pause_s: float = 0.0
    ) -> None:
        """All conversations at once (at most ``concurrency`` POSTs in flight)."""

        async def main() -> None:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
                await asyncio.gather(*(self.conversation(client, p, texts, prefix, pause_s) for p in phones))

        asyncio.run(main())
