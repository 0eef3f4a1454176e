""" "Reentrenar ahora": the project's retraining (``chasqui.nlu.learning.retrain``) started by hand,
in a background thread, one at a time, with its progress kept for the page to poll.

``learning.retrain`` trains a candidate on the seed, confirmed and teacher-labelled samples,
compares it with the active model on the fixed validation set and stores it as ``active``
(promoted) or ``rejected``. Afterwards this job measures the new version on the validation set
once more for the full per-intent report and the confusion pairs the ML page shows, and, when
it was promoted, switches the running app's bot to it at once.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from chasqui.db.models import AuditLog, ModelVersion
from chasqui.nlu import learning
from chasqui.nlu.classifier import IntentModel
from chasqui.nlu.training import evaluate

log = logging.getLogger(__name__)

MAX_CONFUSION_PAIRS = 30


@dataclass(frozen=True)
class JobStatus:
    state: str = "idle"  # idle | running | done | failed
    step: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: int | None = None
    promoted: bool | None = None
    error: str | None = None
    progress: int = 0  # percent
    log: tuple[str, ...] = field(default_factory=tuple)

    @property
    def running(self) -> bool:
        return self.state == "running"


def validation_report(model: IntentModel) -> dict[str, Any]:
    """Per-intent precision/recall/F1/support and the confusion pairs on the fixed validation set."""
    report = evaluate(model, learning.load_validation())
    return {
        "n": report["n"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "per_intent": report["per_intent"],
        "confusion_pairs": [list(pair) for pair in report["confusion_pairs"][:MAX_CONFUSION_PAIRS]],
    }


class RetrainJob:
    """At most one manual training at a time per app; ``status()`` is safe to poll from any request."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._thread: threading.Thread | None = None

    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def _update(self, **changes: Any) -> None:
        with self._lock:
            line = changes.pop("line", None)
            status = replace(self._status, **changes)
            if line:
                status = replace(status, log=(*status.log, line)[-20:])
            self._status = status

    def _auto_training_running(self) -> bool:
        learner = getattr(self.runtime, "_learner", None)
        return bool(learner is not None and getattr(learner, "running", False))

    def start(self, tenant_id: int | None, user_id: int | None) -> bool:
        """Start a training in the background; False when one (manual or automatic) is running."""
        with self._lock:
            if self._status.running or self._auto_training_running():
                return False
            self._status = JobStatus(
                state="running", step="Preparando los datos", progress=5, started_at=datetime.now(UTC)
            )
        self._thread = threading.Thread(
            target=self._run, args=(tenant_id, user_id), name="chasqui-manual-retrain", daemon=True
        )
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> JobStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _progress(self, message: str) -> None:
        found = re.search(r"(\d+)", message)
        step = f"Entrenando con {found.group(1)} ejemplos" if found else "Entrenando"
        self._update(step=step, progress=25, line=step)

    def _run(self, tenant_id: int | None, user_id: int | None) -> None:
        try:
            run = learning.retrain(self.runtime.db, trigger="manual", progress=self._progress)
            self._update(
                step="Midiendo la calidad con el conjunto de validación",
                progress=85,
                line=f"Versión {run.version} entrenada",
            )
            self._store_report(run.version)
            if run.promoted:
                self.runtime.reload_model()
                self.runtime.model()
            with self.runtime.session() as session:
                session.add(
                    AuditLog(
                        tenant_id=tenant_id,
                        user_id=user_id,
                        action="ml.retrain",
                        detail={"version": run.version, "promoted": run.promoted},
                    )
                )
            if run.promoted:
                step = f"Listo: versión {run.version} activa"
            else:
                step = f"Versión {run.version} rechazada: en la validación no superó al modelo activo, que sigue en uso"
            self._update(
                state="done",
                step=step,
                progress=100,
                version=run.version,
                promoted=run.promoted,
                finished_at=datetime.now(UTC),
                line=step,
            )
        except Exception as exc:  # noqa: BLE001 - reported on the page, and logged
            log.exception("manual retraining failed")
            self._update(
                state="failed",
                step="Falló el entrenamiento",
                error=str(exc)[:300],
                finished_at=datetime.now(UTC),
                line=f"Error: {str(exc)[:200]}",
            )

    def _store_report(self, version: int) -> None:
        with self.runtime.session() as session:
            row = session.scalar(
                select(ModelVersion).where(ModelVersion.tenant_id.is_(None), ModelVersion.version == version)
            )
            if row is None:
                return
            report = validation_report(IntentModel.from_bytes(row.artifact))
            row.metrics = {**dict(row.metrics or {}), "validation_report": report}
