""" "Reentrenar ahora": the project's retraining (``chasqui.nlu.learning.retrain``) started by hand,
in a background thread, one at a time, with its progress kept for the page to poll.

Each job has a scope: one tenant's own model (its owner's button) or the platform model (only
platform staff). ``learning.retrain`` trains a candidate on that scope's samples, judges it
against the model the scope uses now (validation macro-F1 and per-intent held-out recall) and
stores it as ``active`` (promoted) or ``rejected`` with the reason. Afterwards this job measures
the new version on the validation set once more for the full per-intent report and the confusion
pairs the ML page shows, and, when it was promoted, switches the running app's bot to it at once.
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
    rejection: str | None = None  # why the candidate was not promoted
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
    """The manual training of one scope (``tenant_id`` None: the platform model); ``status()`` is
    safe to poll from any request. ``busy`` tells whether another training of the app is running."""

    def __init__(self, runtime: Any, tenant_id: int | None = None, busy: Any = None) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id
        self._busy = busy or (lambda: False)
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
            if self._status.running or self._auto_training_running() or self._busy():
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
            run = learning.retrain(self.runtime.db, tenant_id=self.tenant_id, trigger="manual",
                                   progress=self._progress)
            self._update(
                step="Midiendo la calidad con el conjunto de validación",
                progress=85,
                line=f"Versión {run.version} entrenada",
            )
            self._store_report(run.version)
            if run.promoted:
                self.runtime.reload_model(self.tenant_id)
                if self.tenant_id is None:
                    self.runtime.model()
            with self.runtime.session() as session:
                session.add(
                    AuditLog(
                        tenant_id=tenant_id,
                        user_id=user_id,
                        action="ml.retrain",
                        detail={"version": run.version, "promoted": run.promoted,
                                "scope": "platform" if self.tenant_id is None else "tenant"},
                    )
                )
            if run.promoted:
                step = f"Listo: versión {run.version} activa"
            else:
                step = f"Versión {run.version} rechazada: {run.metrics.get('rejection')}; el modelo activo sigue en uso"
            self._update(
                state="done",
                step=step,
                progress=100,
                version=run.version,
                promoted=run.promoted,
                rejection=run.metrics.get("rejection"),
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
            scope = ModelVersion.tenant_id.is_(None) if self.tenant_id is None else \
                ModelVersion.tenant_id == self.tenant_id
            row = session.scalar(select(ModelVersion).where(scope, ModelVersion.version == version))
            if row is None:
                return
            report = validation_report(IntentModel.from_bytes(row.artifact))
            row.metrics = {**dict(row.metrics or {}), "validation_report": report}
