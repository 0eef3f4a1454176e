"""Intent engine benchmark: prints latency, batch and training figures side by side.

    .venv/bin/python bench/nlu.py [--json]

- single message, lean path (``IntentModel.predict``) vs the scikit-learn pipeline on one string,
  and the whole ``analyze`` (normalize + catalog entities + classify) with the demo catalog;
- per-message cost in a batch of 1,000 (``predict_many`` vs ``pipeline.predict_proba``);
- training time on the full seed data and on 5,000 samples drawn with replacement;
- the same model behind a local FastAPI endpoint, called over HTTP with httpx (p50/p99 and the
  HTTP / in-process ratio).
Runs in well under 90 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from chasqui.domain import DeliveryZone, PaymentMethod, Product  # noqa: E402
from chasqui.nlu.analyzer import analyze  # noqa: E402
from chasqui.nlu.classifier import IntentModel, prepare_text, train_model  # noqa: E402
from chasqui.nlu.entities import CatalogMatcher  # noqa: E402
from chasqui.nlu.training import load_training_data  # noqa: E402

DEMO_TENANT = ROOT / "tenants" / "dulce-lima.yaml"
SINGLE_RUNS = 1_000
SKLEARN_RUNS = 300
HTTP_RUNS = 500
BATCH = 1_000


def demo_matcher() -> CatalogMatcher:
    data = yaml.safe_load(DEMO_TENANT.read_text(encoding="utf-8"))
    products = [Product(sku=r["sku"], name=r["name"], category=r.get("category", ""), unit=r.get("unit", ""),
                        aliases=tuple(r.get("aliases", ()))) for r in data["catalog"]]
    business = data["business"]
    methods = [PaymentMethod(m["code"], m["name"]) for m in business["payment_methods"]]
    zones = [DeliveryZone(z["name"], Decimal(str(z["fee"]))) for z in business["delivery"]["zones"]]
    return CatalogMatcher(products, methods, zones)


def percentiles_ms(timings: Sequence[float]) -> dict[str, float]:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered) * 1e3, 4), "p99": round(p99 * 1e3, 4)}


def time_each(fn: Callable[[str], object], texts: Sequence[str], runs: int) -> list[float]:
    for text in texts[:50]:
        fn(text)
    timings = []
    for k in range(runs):
        text = texts[k % len(texts)]
        started = time.perf_counter()
        fn(text)
        timings.append(time.perf_counter() - started)
    return timings


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


class ClassifyIn(BaseModel):
    text: str


def make_app(model: IntentModel, matcher: CatalogMatcher) -> FastAPI:
    app = FastAPI()

    @app.post("/classify")
    def classify(body: ClassifyIn) -> dict:
        prediction = model.predict(body.text)
        return {"intent": prediction.intent, "confidence": prediction.confidence}

    @app.post("/analyze")
    def analyze_endpoint(body: ClassifyIn) -> dict:
        result = analyze(body.text, matcher, model)
        return {"intent": result.prediction.intent, "confidence": result.prediction.confidence,
                "skus": list(result.entities.skus)}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_figures(model: IntentModel, matcher: CatalogMatcher, texts: Sequence[str]) -> dict:
    port = free_port()
    config = uvicorn.Config(make_app(model, matcher), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            def call(path: str) -> Callable[[str], object]:
                return lambda text: client.post(path, json={"text": text}).raise_for_status()

            classify = time_each(call("/classify"), texts, HTTP_RUNS)
            full = time_each(call("/analyze"), texts, HTTP_RUNS)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return {"classify": percentiles_ms(classify), "analyze": percentiles_ms(full)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    samples = load_training_data()
    rng = random.Random(0)
    resampled = [rng.choice(samples) for _ in range(5_000)]
    model, train_full_s = timed(lambda: train_model(samples))
    _, train_5k_s = timed(lambda: train_model(resampled))
    matcher = demo_matcher()
    pipeline = model.sklearn_pipeline
    texts = [text for text, _ in samples]
    rng.shuffle(texts)

    lean = percentiles_ms(time_each(model.predict, texts, SINGLE_RUNS))
    sk = percentiles_ms(time_each(lambda t: pipeline.predict_proba([prepare_text(t)]), texts, SKLEARN_RUNS))
    full = percentiles_ms(time_each(lambda t: analyze(t, matcher, model), texts, SINGLE_RUNS))
    batch = texts[:BATCH]
    _, lean_batch_s = timed(lambda: model.predict_many(batch))
    _, sk_batch_s = timed(lambda: pipeline.predict_proba([prepare_text(t) for t in batch]))
    http = http_figures(model, matcher, texts)

    figures = {
        "samples": len(samples),
        "single_ms": {"lean": lean, "sklearn_pipeline": sk, "analyze_demo_catalog": full},
        "batch_1000_ms_per_message": {"lean": round(lean_batch_s * 1e3 / BATCH, 4),
                                      "sklearn_pipeline": round(sk_batch_s * 1e3 / BATCH, 4)},
        "train_s": {"full": round(train_full_s, 2), "resampled_5000": round(train_5k_s, 2)},
        "http_ms": http,
        "http_over_in_process": {
            "classify_p50": round(http["classify"]["p50"] / lean["p50"], 1),
            "analyze_p50": round(http["analyze"]["p50"] / full["p50"], 1),
        },
        "temperature": round(model.temperature, 4),
        "artifact_bytes": len(model.to_bytes()),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_table(figures)


def print_table(f: dict) -> None:
    single, http = f["single_ms"], f["http_ms"]
    rows = [
        ("single message, ms", "p50", "p99"),
        ("  lean predict (in-process)", single["lean"]["p50"], single["lean"]["p99"]),
        ("  sklearn pipeline.predict_proba", single["sklearn_pipeline"]["p50"],
         single["sklearn_pipeline"]["p99"]),
        ("  analyze (normalize+entities+predict)", single["analyze_demo_catalog"]["p50"],
         single["analyze_demo_catalog"]["p99"]),
        ("  HTTP hop: /classify", http["classify"]["p50"], http["classify"]["p99"]),
        ("  HTTP hop: /analyze", http["analyze"]["p50"], http["analyze"]["p99"]),
    ]
    print(f"Intent engine benchmark ({f['samples']} training samples)")
    for label, a, b in rows:
        print(f"{label:42} {a!s:>10} {b!s:>10}")
    ratio = f["http_over_in_process"]
    print(f"{'  HTTP / in-process (p50)':42} {ratio['classify_p50']!s:>9}x {ratio['analyze_p50']!s:>9}x"
          "   (classify, analyze)")
    batch = f["batch_1000_ms_per_message"]
    print(f"{'batch of 1000, ms per message':42} {'lean':>10} {'sklearn':>10}")
    print(f"{'':42} {batch['lean']:>10} {batch['sklearn_pipeline']:>10}")
    train = f["train_s"]
    print(f"{'training time, s':42} {'full':>10} {'5000':>10}")
    print(f"{'':42} {train['full']:>10} {train['resampled_5000']:>10}")
    print(f"temperature {f['temperature']}, artifact {f['artifact_bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
