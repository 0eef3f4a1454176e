"""Continuous learning: retrain an intent model on what the LLM teacher (and humans) labelled,
and promote the result only if it is not worse on data no tenant can edit.

- Scopes: the platform model (``tenant_id`` None) learns from the seed samples and the samples
  platform staff confirmed (``platform_confirmed``); only staff retrain it. A tenant's own model
  learns from those plus that tenant's confirmed samples and its ``llm`` samples (confirmed or
  not: labelling the messages the model got wrong is what the teacher is for), and is used for
  that tenant's messages only. Nothing one tenant confirms ever reaches another tenant's model.
  Samples of a tenant get its product mentions abstracted exactly as the analyzer does at run time.
- After ``ml_retrain_every`` new eligible samples of a tenant (platform setting, default 50), the
  service asks for a retrain of that tenant's model once its transaction commits; it runs in a
  background thread of this process.
- Promotion, against the scope's active model (a tenant without one: the platform model):
  the candidate's macro-F1 on ``chasqui/nlu/data/validation.jsonl`` must be at least the active
  model's minus ``PROMOTION_TOLERANCE``, and the recall of every intent on the packaged held-out
  set (validation + ``recall_guard.jsonl``) must not drop by more than ``RECALL_TOLERANCE``;
  otherwise it is stored as ``rejected`` with the reason (``metrics["rejection"]``). Every run is
  stored in ``model_versions`` with its metrics: samples by source, durations, scores, decision.
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

from sqlalchemy import ColumnElement, Engine, and_, event, func, or_, select
from sqlalchemy.orm import Session

from chasqui.db.models import ModelVersion, TrainingSample
from chasqui.db.session import session_scope
from chasqui.nlu.classifier import IntentModel, train_model
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.intents import INTENTS
from chasqui.nlu.normalize import normalize
from chasqui.nlu.registry import ensure_model, load_active_model, register, seed_training_samples
from chasqui.nlu.training import Sample, evaluate, read_samples

log = logging.getLogger(__name__)

VALIDATION_FILE = Path(__file__).resolve().parent / "data" / "validation.jsonl"
RECALL_GUARD_FILE = Path(__file__).resolve().parent / "data" / "recall_guard.jsonl"
PROMOTION_TOLERANCE = 0.01
RECALL_TOLERANCE = 0.05  # the most any intent's held-out recall may drop (absolute)
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


def load_recall_guard() -> list[Sample]:
    """The held-out set whose per-intent recall a candidate must keep (packaged: no tenant edits it)."""
    return load_validation() + read_samples(RECALL_GUARD_FILE)


def _platform_samples() -> ColumnElement[bool]:
    return and_(TrainingSample.confirmed.is_(True),
                or_(TrainingSample.tenant_id.is_(None), TrainingSample.platform_confirmed.is_(True)))


def _tenant_samples(tenant_id: int) -> ColumnElement[bool]:
    return and_(TrainingSample.tenant_id == tenant_id,
                or_(TrainingSample.confirmed.is_(True), TrainingSample.source == "llm"))


def _eligible(tenant_id: int | None) -> ColumnElement[bool]:
    """What a model of the platform (None) or of ``tenant_id`` learns from."""
    if tenant_id is None:
        return _platform_samples()
    return or_(_platform_samples(), _tenant_samples(tenant_id))


def _versions_of(tenant_id: int | None) -> ColumnElement[bool]:
    return ModelVersion.tenant_id.is_(None) if tenant_id is None else ModelVersion.tenant_id == tenant_id


def watermark(session: Session, tenant_id: int | None = None) -> int:
    """The highest sample id any earlier training (promoted or not) of this scope has already used."""
    metrics = session.scalars(select(ModelVersion.metrics).where(_versions_of(tenant_id)))
    return max((int((m or {}).get("last_sample_id") or 0) for m in metrics), default=0)


def new_sample_count(session: Session, tenant_id: int | None = None) -> int:
    """Eligible non-seed samples of this scope added since its last training."""
    own = _platform_samples() if tenant_id is None else _tenant_samples(tenant_id)
    return int(session.scalar(
        select(func.count(TrainingSample.id)).where(
            TrainingSample.id > watermark(session, tenant_id), TrainingSample.source != "seed", own
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


def training_samples(session: Session, tenant_id: int | None = None) -> tuple[list[Sample], int, dict[str, int]]:
    """(samples, highest sample id, count by source) of everything a retrain of this scope learns from."""
    rows = session.execute(
        select(TrainingSample.id, TrainingSample.tenant_id, TrainingSample.text, TrainingSample.intent,
               TrainingSample.source).where(_eligible(tenant_id)).order_by(TrainingSample.id)
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


def retrain(db: Engine, *, tenant_id: int | None = None, trigger: str = "auto",
            progress: Progress | None = None) -> TrainingRun:
    """Train a candidate of the platform model (``tenant_id`` None) or of one tenant's own model,
    judge it against the model that scope uses now, store it as ``active`` (promoted) or
    ``rejected``. The training itself runs outside any database transaction."""
    with session_scope(db) as session:
        seed_training_samples(session)
    with session_scope(db) as session:
        samples, last_id, by_source = training_samples(session, tenant_id)
        active = _baseline(session, tenant_id)
    if progress:
        progress(f"training on {len(samples)} samples")
    started = time.perf_counter()
    model = train_model(samples)
    duration = time.perf_counter() - started
    run = _judge(model, active, samples, last_id, by_source, duration, trigger)
    run["metrics"]["scope"] = "platform" if tenant_id is None else "tenant"
    with session_scope(db) as session:
        version = register(session, model, run["metrics"], len(samples), duration, tenant_id=tenant_id,
                           status="active" if run["promoted"] else "rejected")
    log.info("intent model %s v%s %s: validation macro-F1 %.4f (active %s), %d samples, %.1f s%s",
             "platform" if tenant_id is None else f"of tenant {tenant_id}", version.version, version.status,
             run["metrics"]["validation"]["macro_f1"], (run["metrics"]["active_validation"] or {}).get("macro_f1"),
             len(samples), duration, f" ({run['metrics']['rejection']})" if run["metrics"]["rejection"] else "")
    return TrainingRun(version.version, version.status, run["promoted"], run["metrics"], len(samples), duration)


def _baseline(session: Session, tenant_id: int | None) -> IntentModel:
    """The model this scope uses now: the tenant's own active model, else the platform's (registered
    from the seed data on a new database)."""
    own = load_active_model(session, tenant_id) if tenant_id is not None else None
    return own if own is not None else ensure_model(session)


def recall_drops(candidate: dict, baseline: dict, tolerance: float | None = None) -> dict[str, list[float]]:
    """``{intent: [baseline recall, candidate recall]}`` of the intents whose held-out recall
    dropped by more than ``tolerance`` (default ``RECALL_TOLERANCE``)."""
    tolerance = RECALL_TOLERANCE if tolerance is None else tolerance
    drops: dict[str, list[float]] = {}
    for intent in INTENTS:
        before = baseline["per_intent"].get(intent, {}).get("recall")
        if before is None:
            continue
        after = candidate["per_intent"].get(intent, {}).get("recall", 0.0)
        if before - after > tolerance + 1e-9:
            drops[intent] = [before, after]
    return drops


def rejection_reason(candidate: dict, baseline: dict, drops: dict[str, list[float]]) -> str | None:
    """Why a candidate is not promoted, in Spanish for the panel and the CLI; None: it is promoted."""
    reasons = []
    if candidate["macro_f1"] < baseline["macro_f1"] - PROMOTION_TOLERANCE:
        reasons.append(f"F1 macro de validación {candidate['macro_f1']:.3f}, peor que el "
                       f"{baseline['macro_f1']:.3f} del modelo en uso (tolerancia {PROMOTION_TOLERANCE})")
    if drops:
        worst = sorted(drops.items(), key=lambda item: item[1][1] - item[1][0])
        listed = ", ".join(f"«{intent}» {before:.2f} → {after:.2f}" for intent, (before, after) in worst[:5])
        reasons.append(f"bajó la exhaustividad por intención en el conjunto de control (máximo "
                       f"−{RECALL_TOLERANCE:.2f}): {listed}")
    return "; ".join(reasons) or None


def _judge(model: IntentModel, active: IntentModel, samples: list[Sample], last_id: int,
           by_source: dict[str, int], duration: float, trigger: str) -> dict[str, Any]:
    started = time.perf_counter()
    validation = load_validation()
    candidate, baseline = evaluate(model, validation), evaluate(active, validation)
    guard = load_recall_guard()
    guard_candidate, guard_baseline = evaluate(model, guard), evaluate(active, guard)
    drops = recall_drops(guard_candidate, guard_baseline)
    rejection = rejection_reason(candidate, baseline, drops)
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
        "recall_guard": {"n": guard_candidate["n"], "tolerance": RECALL_TOLERANCE, "drops": drops,
                         "recall": {k: v["recall"] for k, v in guard_candidate["per_intent"].items()}},
        "rejection": rejection,
        "promoted": rejection is None,
    }
    metrics["evaluation_s"] = round(time.perf_counter() - started, 3)
    return {"metrics": metrics, "promoted": rejection is None}


class Learner:
    """Starts a background retrain of a tenant's own model once enough new samples of that tenant
    are committed (one training at a time per process)."""

    def __init__(self, db: Engine, on_promoted: Callable[[int | None], None] | None = None) -> None:
        self.db = db
        self.on_promoted = on_promoted
        self.last_run: TrainingRun | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._pending: set[int] = set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def due(self, session: Session, tenant_id: int) -> bool:
        from chasqui.db.platform_settings import get_typed

        return new_sample_count(session, tenant_id) >= int(get_typed(session, "ml_retrain_every"))

    def after_sample(self, session: Session, tenant_id: int) -> None:
        """Called by the service after it adds a sample of ``tenant_id``: retrain that tenant's model
        after the commit when due."""
        session.flush()
        if self.due(session, tenant_id):
            event.listen(session, "after_commit", lambda _session: self.start(tenant_id), once=True)

    def start(self, tenant_id: int) -> bool:
        with self._guard:
            self._pending.add(tenant_id)
            if self.running:
                return False
            self._thread = threading.Thread(target=self._run, name="chasqui-retrain", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _next(self) -> int | None:
        with self._guard:
            if self._pending:
                return self._pending.pop()
            self._thread = None  # done: the next ``start`` runs a new thread
            return None

    def _run(self) -> None:
        while (tenant_id := self._next()) is not None:
            self._run_one(tenant_id)

    def _run_one(self, tenant_id: int) -> None:
        try:
            with session_scope(self.db) as session:
                if not self.due(session, tenant_id):
                    return
            run = retrain(self.db, tenant_id=tenant_id)
        except Exception:
            log.exception("background retrain of tenant %s failed", tenant_id)
            return
        self.last_run = run
        if run.promoted and self.on_promoted is not None:
            self.on_promoted(tenant_id)
