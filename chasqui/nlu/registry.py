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

from sqlalchemy import func, or_, select, update
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


def _scope(tenant_id: int | None):  # noqa: ANN202 - a SQL expression
    """Versions of the platform model (``tenant_id`` None) or of one tenant's own model."""
    return ModelVersion.tenant_id.is_(None) if tenant_id is None else ModelVersion.tenant_id == tenant_id


def active_version(session: Session, tenant_id: int | None = None) -> ModelVersion | None:
    """The active version of the platform model, or of ``tenant_id``'s own model (None if it has none)."""
    return session.scalar(
        select(ModelVersion).where(_scope(tenant_id), ModelVersion.status == "active")
        .order_by(ModelVersion.version.desc()).limit(1)
    )


def active_version_number(session: Session, tenant_id: int | None = None) -> int | None:
    """The active model's version number (one indexed query: cheap enough to ask every second)."""
    return session.scalar(
        select(func.max(ModelVersion.version)).where(_scope(tenant_id), ModelVersion.status == "active")
    )


def active_version_numbers(session: Session, tenant_id: int) -> tuple[int | None, int | None]:
    """(platform, tenant's own) active version numbers in one query; None where there is none."""
    rows = session.execute(
        select(ModelVersion.tenant_id, func.max(ModelVersion.version))
        .where(or_(ModelVersion.tenant_id.is_(None), ModelVersion.tenant_id == tenant_id),
               ModelVersion.status == "active")
        .group_by(ModelVersion.tenant_id)
    ).all()
    found = {owner: version for owner, version in rows}
    return found.get(None), found.get(tenant_id)


def load_active_model(session: Session, tenant_id: int | None = None) -> IntentModel | None:
    row = active_version(session, tenant_id)
    if row is None:
        return None
    if hashlib.sha256(row.artifact).hexdigest() != row.sha256:
        raise ValueError(f"model version {row.version}: artifact checksum mismatch")
    return IntentModel.from_bytes(row.artifact)


def register(session: Session, model: IntentModel, metrics: dict, sample_count: int, duration_s: float,
             *, activate: bool = True, status: str | None = None, tenant_id: int | None = None) -> TrainedVersion:
    """Store a trained model of the platform (``tenant_id`` None) or of one tenant; ``status``
    (active, candidate, rejected) overrides ``activate``. Versions are numbered per owner."""
    latest = session.scalar(select(func.max(ModelVersion.version)).where(_scope(tenant_id)))
    version = (latest or 0) + 1
    artifact = model.to_bytes()
    status = status or ("active" if activate else "candidate")
    if status == "active":
        session.execute(
            update(ModelVersion).where(_scope(tenant_id), ModelVersion.status == "active")
            .values(status="candidate")
        )
    session.add(ModelVersion(
        tenant_id=tenant_id, version=version, status=status, artifact=artifact,
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


def _summary(report: dict) -> dict:
    return {k: report[k] for k in ("n", "accuracy", "macro_f1") if k in report}
