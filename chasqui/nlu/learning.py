"""Continuous learning: retrain the intent model on what the LLM teacher (and humans) labelled,
and promote the result only if it is not worse on a fixed validation set.

- Training data: the seed samples, every confirmed sample, and every ``llm`` sample (confirmed or
  not: labelling the messages the model got wrong is what the teacher is for). Samples of a tenant
  get that tenant's product mentions abstracted exactly as the analyzer does at run time.
- After ``ml_retrain_every`` new eligible samples (platform setting, default 50), the service asks
  for a retrain once its transaction commits; it runs in a background thread of this process.
- Promotion: the candidate's macro-F1 on ``chasqui/nlu/data/validation.jsonl`` (hand-written,
  shared by no training file) must be at least the active model's minus ``PROMOTION_TOLERANCE``;
  otherwise it is stored as ``rejected``. Every run is stored in ``model_versions`` with its
  metrics: samples by source, durations, both validation scores and the decision.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, or_, select
from sqlalchemy.orm import Session

from chasqui.db.models import ModelVersion, TrainingSample
from chasqui.db.session import session_scope
from chasqui.nlu.classifier import IntentModel, train_model
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.normalize import normalize
from chasqui.nlu.registry import load_active_model, register, seed_training_samples
from chasqui.nlu.training import Sample, evaluate, read_samples

log = logging.getLogger(__name__)

VALIDATION_FILE = Path(__file__).resolve().parent / "data" / "validation.jsonl"
PROMOTION_TOLERANCE = 0.01
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingRun:
    version: int
    status: str  # active (promoted) | rejected
    promoted: bool
    metrics: dict[str, Any]
    sample_count: int
    duration_s: float


def load_validation() -> list[Sample]:
    return read_samples(VALIDATION_FILE)


def _eligible():  # noqa: ANN202 - a SQL expression
    return or_(TrainingSample.confirmed.is_(True), TrainingSample.source == "llm")


def watermark(session: Session) -> int:
    """The highest sample id any earlier training (promoted or not) has already used."""
    marks = [int((m or {}).get("last_sample_id") or 0) for m in session.scalars(select(ModelVersion.metrics))]
    return max(marks, default=0)


def new_sample_count(session: Session) -> int:
    """Eligible non-seed samples added since the last training."""
    return int(session.scalar(
        select(func.count(TrainingSample.id)).where(
            TrainingSample.id > watermark(session), TrainingSample.source != "seed", _eligible()
        )
    ) or 0)


def _matchers(session: Session, tenant_ids: set[int]) -> dict[int, CatalogMatcher]:
    from chasqui.tenants.snapshot import load_snapshot

    matchers: dict[int, CatalogMatcher] = {}
    for tenant_id in tenant_ids:
        try:
            snapshot = load_snapshot(session, tenant_id)
        except Exception:  # a tenant deleted meanwhile: its samples stay as written
            log.warning("learning: cannot load tenant %s; its samples are not abstracted", tenant_id)
            continue
        matchers[tenant_id] = CatalogMatcher(
            [p for p in snapshot.products if p.active],
            payment_methods=[m for m in snapshot.payment_methods if m.enabled], zones=snapshot.delivery_zones,
        )
    return matchers


def training_samples(session: Session) -> tuple[list[Sample], int, dict[str, int]]:
    """(samples, highest sample id, count by source) of everything a retrain learns from."""
    rows = session.execute(
        select(TrainingSample.id, TrainingSample.tenant_id, TrainingSample.text, TrainingSample.intent,
               TrainingSample.source).where(_eligible()).order_by(TrainingSample.id)
    ).all()
    matchers = _matchers(session, {r.tenant_id for r in rows if r.tenant_id is not None})
    samples: list[Sample] = []
    for row in rows:
        text = row.text
        matcher = matchers.get(row.tenant_id) if row.tenant_id is not None else None
        if matcher is not None:
            normalized = normalize(text)
            text = matcher.abstract(normalized, matcher.extract_normalized(normalized))
        samples.append((text, row.intent))
    return samples, max((r.id for r in rows), default=0), dict(Counter(r.source for r in rows))


def _summary(report: dict | None) -> dict | None:
    if report is None:
        return None
    return {k: report[k] for k in ("n", "accuracy", "macro_f1")}


def retrain(db: Engine, *, trigger: str = "auto", progress: Progress | None = None) -> TrainingRun:
    """Train a candidate on the current samples, compare it with the active model on the fixed
    validation set, store it as ``active`` (promoted) or ``rejected``. The training itself runs
    outside any database transaction."""
    with session_scope(db) as session:
        seed_training_samples(session)
    with session_scope(db) as session:
        samples, last_id, by_source = training_samples(session)
        active = load_active_model(session)
    if progress:
        progress(f"training on {len(samples)} samples")
    started = time.perf_counter()
    model = train_model(samples)
    duration = time.perf_counter() - started
    run = _judge(model, active, samples, last_id, by_source, duration, trigger)
    with session_scope(db) as session:
        version = register(session, model, run["metrics"], len(samples), duration,
                           status="active" if run["promoted"] else "rejected")
    log.info("intent model v%s %s: validation macro-F1 %.4f (active %s), %d samples, %.1f s",
             version.version, version.status, run["metrics"]["validation"]["macro_f1"],
             (run["metrics"]["active_validation"] or {}).get("macro_f1"), len(samples), duration)
    return TrainingRun(version.version, version.status, run["promoted"], run["metrics"], len(samples), duration)


def _judge(model: IntentModel, active: IntentModel | None, samples: list[Sample], last_id: int,
           by_source: dict[str, int], duration: float, trigger: str) -> dict[str, Any]:
    started = time.perf_counter()
    validation = load_validation()
    candidate = evaluate(model, validation)
    baseline = evaluate(active, validation) if active is not None else None
    promoted = baseline is None or candidate["macro_f1"] >= baseline["macro_f1"] - PROMOTION_TOLERANCE
    metrics = {
        "trigger": trigger,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "samples": {"total": len(samples), **by_source},
        "last_sample_id": last_id,
        "duration_s": round(duration, 3),
        "train": _summary(evaluate(model, samples)),
        "validation": _summary(candidate),
        "validation_per_intent": {k: v["f1"] for k, v in candidate["per_intent"].items()},
        "active_validation": _summary(baseline),
        "tolerance": PROMOTION_TOLERANCE,
        "promoted": promoted,
    }
    metrics["evaluation_s"] = round(time.perf_counter() - started, 3)
    return {"metrics": metrics, "promoted": promoted}


class Learner:
    """Starts a background retrain once enough new samples are committed (one at a time per process)."""

    def __init__(self, db: Engine, on_promoted: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_promoted = on_promoted
        self.last_run: TrainingRun | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def due(self, session: Session) -> bool:
        from chasqui.db.platform_settings import get_typed

        return new_sample_count(session) >= int(get_typed(session, "ml_retrain_every"))

    def after_sample(self, session: Session) -> None:
        """Called by the service after it adds a sample: retrain after the commit when due."""
        session.flush()
        if not self.running and self.due(session):
            event.listen(session, "after_commit", lambda _session: self.start(), once=True)

    def start(self) -> bool:
        with self._guard:
            if self.running:
                return False
            self._thread = threading.Thread(target=self._run, name="chasqui-retrain", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        try:
            with session_scope(self.db) as session:
                if not self.due(session):
                    return
            run = retrain(self.db)
        except Exception:
            log.exception("background retrain failed")
            return
        self.last_run = run
        if run.promoted and self.on_promoted is not None:
            self.on_promoted()
