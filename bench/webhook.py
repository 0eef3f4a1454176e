"""Webhook benchmark: ingest rate against a bare FastAPI endpoint, and end-to-end reply latency.

    .venv/bin/python bench/webhook.py [--json] [--seconds 8] [--conversations 100]

1. Ingest: signed WhatsApp text webhooks POSTed by a concurrent httpx client to ``chasqui serve``
   (real uvicorn on 127.0.0.1, SQLite, embedded worker off so only the webhook is measured:
   signature, routing, dedup, storage in one transaction) and, the same way, to a bare FastAPI
   endpoint that only reads the body and answers "ok". Requests/s of each and the ratio (goal ≥ 0.5).
2. Latency: ``chasqui serve`` with its embedded worker and the fake Graph API on loopback;
   100 conversations at once, each customer writing, waiting for the first reply, thinking a few
   seconds, and writing again. Latency = first reply accepted by the fake Graph API − webhook POST
   (webhook → commit → signal → drain → engine → outbox → Graph API). p50/p99 (goal p99 ≤ 250 ms).
   Also the same 100 customers writing at the very same instant (a burst).
Bounded: about 70 s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import httpx  # noqa: E402
from fakes.graph_server import FakeGraph, Recorded  # noqa: E402
from fakes.live import ChildProcess, ServerProcess, Traffic, free_port, worker_env  # noqa: E402
from fakes.reliability import TEXTS, build_template  # noqa: E402
from fakes.webapp import DEMO, make_settings  # noqa: E402
from sqlalchemy import select  # noqa: E402

from chasqui.db.models import Message, OutboxMessage  # noqa: E402
from chasqui.runtime import Runtime  # noqa: E402

BARE_APP = '''
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
app = FastAPI()

@app.post("/webhook")
async def webhook(request: Request):
    await request.body()
    return PlainTextResponse("ok")

@app.get("/health")
def health():
    return {"ok": True}
'''


class BareServer(ChildProcess):
    """A bare FastAPI endpoint under the same uvicorn, in its own process."""

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        run = f"uvicorn.run(app, host='127.0.0.1', port={self.port}, log_level='warning')"
        code = f"{BARE_APP}\nimport uvicorn\n{run}\n"
        super().__init__(["-c", code], env, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ------------------------------------------------------------------------------------------ ingest
async def _hammer(traffic: Traffic, seconds: float, concurrency: int, prefix: str) -> tuple[int, int]:
    """POST distinct signed messages for ``seconds``; returns (answered 200, other)."""
    ok = bad = 0
    deadline = time.monotonic() + seconds
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:

        async def loop(lane: int) -> None:
            nonlocal ok, bad, counter
            while time.monotonic() < deadline:
                counter += 1
                phone = f"5196{lane:03d}{counter % 50:04d}"
                raw, headers = traffic.signed(TEXTS[counter % len(TEXTS)], f"{prefix}.{counter}", phone)
                response = await client.post(f"{traffic.url}/webhook", content=raw, headers=headers)
                if response.status_code == 200:
                    ok += 1
                else:
                    bad += 1

        await asyncio.gather(*(loop(lane) for lane in range(concurrency)))
    return ok, bad


def bench_ingest(work: Path, seconds: float, concurrency: int) -> dict[str, float]:
    settings = make_settings(work, "http://127.0.0.1:9")
    env = worker_env(settings)
    results: dict[str, float] = {}
    for name in ("bare", "chasqui"):
        server: ChildProcess
        if name == "bare":
            server = BareServer(work / "bare.log", env)
        else:
            server = ServerProcess(env, work / "ingest.log", worker=False)
        server.start().wait_ready()
        try:
            traffic = Traffic(server.url, DEMO["app_secret"], DEMO["phone_number_id"])  # type: ignore[attr-defined]
            asyncio.run(_hammer(traffic, 1.0, concurrency, f"wamid.warm.{name}"))  # warm-up
            started = time.monotonic()
            ok, bad = asyncio.run(_hammer(traffic, seconds, concurrency, f"wamid.bench.{name}"))
            elapsed = time.monotonic() - started
        finally:
            server.stop()
        if bad:
            raise SystemExit(f"{name}: {bad} requests were not answered 200")
        results[f"{name}_rps"] = ok / elapsed
    results["ratio"] = results["chasqui_rps"] / results["bare_rps"]
    return results


# ----------------------------------------------------------------------------------------- latency
class Replies:
    """Wakes the coroutine of a customer when a reply to their number reaches the fake Graph API."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: dict[str, asyncio.Event] = {}

    def on_accept(self, recorded: Recorded) -> None:
        event = self.events.get(recorded.to)
        if event is not None:
            self.loop.call_soon_threadsafe(event.set)


async def _customers(
    traffic: Traffic, graph: FakeGraph, phones: list[str], turns: int, think: float, prefix: str
) -> None:
    replies = Replies(asyncio.get_running_loop())
    graph.on_accept = replies.on_accept
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=len(phones), max_keepalive_connections=len(phones))
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def customer(phone: str) -> None:
            event = replies.events[phone] = asyncio.Event()
            await asyncio.sleep(rng.uniform(0, think))  # customers do not all start at once
            for turn in range(turns):
                event.clear()
                await traffic.apost(client, TEXTS[turn % len(TEXTS)], f"{prefix}.{phone}.{turn}", phone)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=30)
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

        await asyncio.gather(*(customer(phone) for phone in phones))
    graph.on_accept = None


def _latencies(runtime: Runtime, graph: FakeGraph, traffic: Traffic, prefix: str) -> list[float]:
    """Milliseconds from each POST to the first reply to it accepted by the fake Graph API."""
    arrival = {r.row_id: r.at for r in graph.sent() if r.row_id is not None}
    first: dict[str, float] = {}
    with runtime.session() as session:
        for row in session.scalars(select(OutboxMessage)):
            wamid = ((row.payload or {}).get("reply_to") or {}).get("wamid")
            if wamid and row.id in arrival:
                first[wamid] = min(first.get(wamid, float("inf")), arrival[row.id])
        stored = set(session.scalars(select(Message.wamid).where(Message.wamid.startswith(prefix))))
    return [(first[p.wamid] - p.at) * 1000 for p in traffic.posted if p.wamid in stored and p.wamid in first]


def bench_latency(work: Path, conversations: int, turns: int, think: float) -> dict[str, float]:
    directory = work / "latency"
    directory.mkdir()
    template = work / "template" / "chasqui.db"
    (directory / "chasqui.db").write_bytes(template.read_bytes())
    results: dict[str, float] = {}
    with FakeGraph() as graph:
        settings = make_settings(directory, graph.url)
        env = worker_env(settings, CHASQUI_WORKER_POLL_S="0.2", CHASQUI_WORKER_SWEEP_S="5")
        server = ServerProcess(env, directory / "server.log", worker=True)
        server.start().wait_ready()
        runtime = Runtime.from_settings(settings)
        try:
            graph.report_statuses(server.url, DEMO["app_secret"], DEMO["phone_number_id"], delay_s=0.5)
            phones = [f"51981{i:06d}" for i in range(conversations)]
            steady = Traffic(server.url, DEMO["app_secret"], DEMO["phone_number_id"])
            started = time.monotonic()
            asyncio.run(_customers(steady, graph, phones, turns, think, "wamid.lat"))
            duration = time.monotonic() - started
            values = _latencies(runtime, graph, steady, "wamid.lat")
            results.update(
                steady_messages=len(values),
                steady_rate=len(steady.posted) / duration,
                steady_p50_ms=statistics.median(values),
                steady_p99_ms=percentile(values, 99),
            )
            time.sleep(1.0)
            burst = Traffic(server.url, DEMO["app_secret"], DEMO["phone_number_id"])
            burst.run_conversations(phones, ["cuánto cuesta la torta de chocolate?"], "wamid.burst", concurrency=100)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(_latencies(runtime, graph, burst, "wamid.burst")) < conversations:
                time.sleep(0.2)
            values = _latencies(runtime, graph, burst, "wamid.burst")
            results.update(
                burst_messages=len(values),
                burst_p50_ms=statistics.median(values),
                burst_p99_ms=percentile(values, 99),
            )
        finally:
            server.stop()
            runtime.db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--seconds", type=float, default=8.0, help="ingest measurement per server")
    parser.add_argument("--concurrency", type=int, default=32, help="ingest: requests in flight")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--turns", type=int, default=3, help="latency: messages per customer")
    parser.add_argument("--think", type=float, default=4.0, help="latency: seconds from a reply to the next message")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chasqui-bench-") as tmp:
        work = Path(tmp)
        (work / "template").mkdir()
        build_template(work / "template")
        (work / "chasqui.db").write_bytes((work / "template" / "chasqui.db").read_bytes())
        ingest = bench_ingest(work, args.seconds, args.concurrency)
        latency = bench_latency(work, args.conversations, args.turns, args.think)
    figures = {**ingest, **latency, "seconds": time.monotonic() - started}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    rows = [
        ("POST /webhook ingest (req/s)", f"{ingest['chasqui_rps']:.0f}", f"bare FastAPI {ingest['bare_rps']:.0f}",
         f"ratio {ingest['ratio']:.2f}", "≥ 0.50", ingest["ratio"] >= 0.5),
        (f"reply latency, {args.conversations} conversations ({latency['steady_rate']:.1f} msg/s)",
         f"p50 {latency['steady_p50_ms']:.0f} ms", f"p99 {latency['steady_p99_ms']:.0f} ms",
         f"n={latency['steady_messages']:.0f}", "p99 ≤ 250 ms", latency["steady_p99_ms"] <= 250),
        (f"reply latency, burst of {args.conversations} at once",
         f"p50 {latency['burst_p50_ms']:.0f} ms", f"p99 {latency['burst_p99_ms']:.0f} ms",
         f"n={latency['burst_messages']:.0f}", "(no goal)", True),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'chasqui':>12}  {'reference':>20}  {'figure':>12}  {'goal':>13}")
    for name, a, b, c, goal, met in rows:
        print(f"{name:<{width}}  {a:>12}  {b:>20}  {c:>12}  {goal:>13} {'ok' if met else 'MISSED'}")
    print(f"(total {figures['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
