"""Intent model versions: trained, stored in ``model_versions``, one active at a time.

The artifact is the model's own safe format (``IntentModel.to_bytes``: arrays + checksum, no
pickle). Training the seed data always gives the same model, so a local cache keyed by the
data's hash lets throwaway databases (``simulate``, tests) skip the few seconds of training.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chasqui.db.models import ModelVersion, TrainingSample
from chasqui.nlu.classifier import IntentModel, train_model
from chasqui.nlu.training import Sample, data_hash, evaluate, load_training_data

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainedVersion:
    version: int
    status: str
    metrics: dict
    sample_count: int
    duration_s: float


def cache_dir() -> Path:
    base = (os.environ.get("CHASQUI_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
            or str(Path.home() / ".cache"))
    return Path(base) / "chasqui" / "models"


def seed_model(progress: Progress | None = None, samples: list[Sample] | None = None) -> tuple[IntentModel, float]:
    """The model trained on the packaged seed data (cached on disk by the data's hash); ``samples``:
    that data when the caller has already read it."""
    path = cache_dir() / f"intent-{data_hash()}.bin"
    if path.exists():
        try:
            return IntentModel.from_bytes(path.read_bytes()), 0.0
        except ValueError:
            path.unlink(missing_ok=True)
    if progress:
        progress("training the intent model on the seed data")
    started = time.perf_counter()
    model = train_model(samples if samples is not None else load_training_data())
    duration = time.perf_counter() - started
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(model.to_bytes())
        tmp.replace(path)
    except OSError:
        pass
    return model, duration


def seed_training_samples(session: Session, samples: list[Sample] | None = None) -> int:
    """Load the packaged training data into ``training_samples`` once (source seed, confirmed)."""
    exists = session.scalar(select(func.count(TrainingSample.id)).where(TrainingSample.source == "seed"))
    if exists:
        return 0
    samples = samples if samples is not None else load_training_data()
    now = datetime.now(UTC)
    session.add_all(
        TrainingSample(tenant_id=None, text=text, intent=intent, source="seed", confirmed=True,
                       created_at=now)
        for text, intent in samples
    )
    return len(samples)


def active_version(session: Session) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.tenant_id.is_(None), ModelVersion.status == "active")
        .order_by(ModelVersion.version.desc()).limit(1)
    )


def active_version_number(session: Session) -> int | None:
    """The active model's version number (one indexed query: cheap enough to ask every second)."""
    return session.scalar(
        select(func.max(ModelVersion.version)).where(ModelVersion.tenant_id.is_(None), ModelVersion.status == "active")
    )


def load_active_model(session: Session) -> IntentModel | None:
    row = active_version(session)
    if row is None:
        return None
    if hashlib.sha256(row.artifact).hexdigest() != row.sha256:
        raise ValueError(f"model version {row.version}: artifact checksum mismatch")
    return IntentModel.from_bytes(row.artifact)


def register(session: Session, model: IntentModel, metrics: dict, sample_count: int, duration_s: float,
             *, activate: bool = True, status: str | None = None) -> TrainedVersion:
    """Store a trained model; ``status`` (active, candidate, rejected) overrides ``activate``."""
    latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.tenant_id.is_(None)))
    version = (latest or 0) + 1
    artifact = model.to_bytes()
    status = status or ("active" if activate else "candidate")
    if status == "active":
        session.execute(
            update(ModelVersion).where(ModelVersion.tenant_id.is_(None), ModelVersion.status == "active")
            .values(status="candidate")
        )
    session.add(ModelVersion(
        tenant_id=None, version=version, status=status, artifact=artifact,
        sha256=hashlib.sha256(artifact).hexdigest(), metrics=metrics, sample_count=sample_count,
        duration_s=duration_s, created_at=datetime.now(UTC),
    ))
    session.flush()
    return TrainedVersion(version, status, metrics, sample_count, duration_s)


def ensure_model(session: Session, progress: Progress | None = None) -> IntentModel:
    """The active model; the first call on a new database registers the seed model."""
    model = load_active_model(session)
    if model is not None:
        return model
    samples = load_training_data()  # read once: seed rows, the model (when not cached) and its metrics
    seed_training_samples(session, samples)
    model, duration = seed_model(progress, samples)
    register(session, model, {"train": _summary(evaluate(model, samples))}, len(samples), duration)
    return model


def train_new_version(session: Session, progress: Progress | None = None) -> TrainedVersion:
    """Train on every confirmed sample in the DB (seed + human-confirmed) and activate it."""
    seed_training_samples(session)
    rows = session.execute(
        select(TrainingSample.text, TrainingSample.intent).where(TrainingSample.confirmed.is_(True))
    ).all()
    samples = [(text, intent) for text, intent in rows]
    if progress:
        progress(f"training on {len(samples)} samples")
    started = time.perf_counter()
    model = train_model(samples)
    duration = time.perf_counter() - started
    metrics = {"train": _summary(evaluate(model, samples))}
    return register(session, model, metrics, len(samples), duration)


def _summary(report: dict) -> dict:
    return {k: report[k] for k in ("n", "accuracy", "macro_f1") if k in report}
