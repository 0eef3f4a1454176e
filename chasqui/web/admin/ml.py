"""ML control (owners and the superadmin): the active intent model, its quality, the confidence
threshold, "reentrenar ahora" with progress, the training history, and the review queue.

Tenant isolation: an owner's confirmations and "Reentrenar" only ever train and promote that
tenant's own model (``model_versions.tenant_id``), used for its messages only; the platform model
every other tenant falls back to is retrained only by the superadmin (``scope=platform``), from the
seed data and the samples the superadmin confirmed (``platform_confirmed``).

The review queue holds what a person should look at: samples the LLM teacher labelled (source
``llm``, not confirmed) and customer messages the model was unsure about (confidence below the
tenant's threshold). Confirming or correcting one writes a confirmed ``training_samples`` row,
which the next training uses; discarding marks it reviewed without teaching anything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from chasqui.db import platform_settings
from chasqui.db.models import BotSettings, Message, ModelVersion, TrainingSample
from chasqui.nlu.intents import INTENTS
from chasqui.web.admin.common import (
    Access,
    PanelDenied,
    PanelForm,
    admin_access,
    assign,
    audit,
    is_htmx,
    owned,
    page,
    redirect,
)
from chasqui.web.admin.forms import FormReader
from chasqui.web.admin.retrain import RetrainJob
from chasqui.web.layout import render

router = APIRouter(prefix="/admin/ml")

REVIEW_PAGE_SIZE = 50
REVIEW_ACTIONS = ("confirm", "correct", "discard")


def _session(request: Request) -> Any:
    return request.app.state.chasqui.runtime.session()


def retrain_job(request: Request, tenant_id: int | None) -> RetrainJob:
    """The app's retraining job of one scope (a tenant's own model, or None: the platform model),
    created on first use; a job starts only while no other job of the app is running."""
    state = request.app.state
    jobs: dict[int | None, RetrainJob] | None = getattr(state, "retrain_jobs", None)
    if jobs is None:
        jobs = state.retrain_jobs = {}
    job = jobs.get(tenant_id)
    if job is None:
        def others_running() -> bool:
            return any(other.status().running for scope, other in list(jobs.items()) if scope != tenant_id)

        job = jobs[tenant_id] = RetrainJob(state.chasqui.runtime, tenant_id, busy=others_running)
    return job


def _platform_scope(request: Request, access: Access) -> bool:
    """True when a request asks for the platform model (``scope=platform``): the superadmin only."""
    if request.query_params.get("scope") != "platform":
        return False
    if not access.user.is_superadmin:
        raise PanelDenied(403, "Solo el superadministrador reentrena el modelo de la plataforma.")
    return True


def tenant_threshold(session: Session, tenant_id: int) -> Decimal:
    value = session.scalar(select(BotSettings.confidence_threshold).where(BotSettings.tenant_id == tenant_id))
    return Decimal(value) if value is not None else Decimal("0.80")


def _versions(session: Session, tenant_id: int) -> list[ModelVersion]:
    """This tenant's own model versions, then the platform model's (newest first)."""
    versions = []
    for scope in (ModelVersion.tenant_id == tenant_id, ModelVersion.tenant_id.is_(None)):
        query = select(ModelVersion).where(scope).order_by(ModelVersion.version.desc()).limit(50)
        versions.extend(session.scalars(query))
    return versions


def _model_row(row: ModelVersion) -> dict[str, Any]:
    """A model version for the page, whatever shape its metrics have: ``validation`` (a retrain
    judged on the fixed validation set, plus the ``validation_report`` the manual retrain adds),
    or only ``train`` (the seed model: measured on its own training data)."""
    metrics = dict(row.metrics or {})
    report = metrics.get("validation_report") or {}
    validation = metrics.get("validation") or report
    train = metrics.get("train") or {}
    figures = validation or train
    per_intent_source = report.get("per_intent") or {
        name: {"f1": f1} for name, f1 in (metrics.get("validation_per_intent") or {}).items()
    }
    per_intent = sorted(per_intent_source.items(), key=lambda item: item[1].get("f1", 0.0))
    return {
        "id": row.id,
        "version": row.version,
        "scope": "platform" if row.tenant_id is None else "tenant",
        "rejection": metrics.get("rejection") or "",
        "status": row.status,
        "created_at": row.created_at,
        "sample_count": row.sample_count,
        "duration_s": row.duration_s,
        "accuracy": figures.get("accuracy"),
        "macro_f1": figures.get("macro_f1"),
        "measured_on": "validation" if validation else ("train" if train else ""),
        "validation_n": validation.get("n"),
        "active_validation": metrics.get("active_validation") or {},
        "trigger": metrics.get("trigger") or "",
        "samples": metrics.get("samples") or {},
        "train": train,
        "per_intent": per_intent,
        "confusion_pairs": report.get("confusion_pairs") or [],
    }


def _recent_confidence(session: Session, tenant_id: int, threshold: Decimal) -> dict[str, int]:
    since = datetime.now(UTC) - timedelta(days=30)
    base = (
        select(func.count(Message.id))
        .where(Message.tenant_id == tenant_id, Message.direction == "in", Message.created_at >= since)
        .where(Message.confidence.is_not(None))
    )
    total = int(session.scalar(base) or 0)
    low = int(session.scalar(base.where(Message.confidence < float(threshold))) or 0)
    return {"total": total, "low": low}


def _ml_page(
    request: Request, session: Session, access: Access, errors: list[str] | None = None, status: int = 200
) -> Response:
    versions = [_model_row(row) for row in _versions(session, access.tenant_id)]
    active = next((v for v in versions if v["status"] == "active"), None)  # own model first
    threshold = tenant_threshold(session, access.tenant_id)
    context = {
        "active": active,
        "versions": versions,
        "threshold": f"{threshold:.2f}",
        "platform_threshold": platform_settings.get_setting(session, "ml_confidence_threshold") or "0.80",
        "job": retrain_job(request, access.tenant_id).status(),
        "platform_job": retrain_job(request, None).status() if access.user.is_superadmin else None,
        "pending": _review_counts(session, access.tenant_id, threshold),
        "recent": _recent_confidence(session, access.tenant_id, threshold),
        "errors": errors or [],
        "tab": "model",
    }
    return page(request, "admin/ml.html", access, "ml", context, status_code=status)


@router.get("")
def ml_home(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        return _ml_page(request, session, access)


@router.post("/threshold")
def threshold_save(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    value = reader.decimal("threshold", "Umbral de confianza", low=Decimal("0"), high=Decimal("1"))
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        if reader.errors or value is None:
            return _ml_page(request, session, access, reader.errors, 400)
        bot = session.scalar(select(BotSettings).where(BotSettings.tenant_id == access.tenant_id))
        if bot is None:
            bot = BotSettings(tenant_id=access.tenant_id)
            session.add(bot)
        changed = assign(bot, {"confidence_threshold": value})
        if changed:
            audit(session, access, access.tenant_id, "ml.threshold", changes=changed)
    return redirect(request, "/admin/ml", f"Umbral de confianza: {value:.2f}.")


@router.post("/platform-threshold")
def platform_threshold_save(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    value = reader.decimal("threshold", "Umbral por defecto de la plataforma", low=Decimal("0"), high=Decimal("1"))
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        if not access.user.is_superadmin:
            raise PanelDenied(403, "Solo el superadministrador cambia los valores de la plataforma.")
        if reader.errors or value is None:
            return _ml_page(request, session, access, reader.errors, 400)
        before = platform_settings.get_setting(session, "ml_confidence_threshold")
        platform_settings.set_setting(session, "ml_confidence_threshold", f"{value:.2f}")
        audit(session, access, None, "platform.ml_confidence_threshold", before=before, after=f"{value:.2f}")
    return redirect(request, "/admin/ml", f"Umbral por defecto de la plataforma: {value:.2f}.")


# ------------------------------------------------------------------ retraining


@router.post("/retrain")
def retrain_start(request: Request, _form: PanelForm) -> Response:
    """Retrain this tenant's own model, or (``?scope=platform``, superadmin only) the platform model."""
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        platform = _platform_scope(request, access)
    scope = None if platform else access.tenant_id
    started = retrain_job(request, scope).start(access.tenant_id, access.user.id)
    message = "Entrenamiento iniciado." if started else "Ya hay un entrenamiento en curso."
    if is_htmx(request):
        return _status_fragment(request, scope)
    return redirect(request, "/admin/ml", message)


def _status_fragment(request: Request, scope: int | None) -> Response:
    context = {"job": retrain_job(request, scope).status(), "platform": scope is None}
    return render(request, "admin/_retrain_status.html", context)


@router.get("/retrain/status")
def retrain_status(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        platform = _platform_scope(request, access)
    return _status_fragment(request, None if platform else access.tenant_id)


# ------------------------------------------------------------------ review queue


def _sample_filter(tenant_id: int, threshold: Decimal) -> Any:
    return and_(
        TrainingSample.tenant_id == tenant_id,
        TrainingSample.confirmed.is_(False),
        or_(
            TrainingSample.source == "llm",
            and_(TrainingSample.source == "ml", TrainingSample.ml_confidence < float(threshold)),
        ),
    )


def _message_filter(tenant_id: int, threshold: Decimal) -> Any:
    reviewed = exists().where(TrainingSample.message_id == Message.id)
    return and_(
        Message.tenant_id == tenant_id,
        Message.direction == "in",
        Message.sender == "customer",
        Message.text.is_not(None),
        Message.confidence.is_not(None),
        Message.confidence < float(threshold),
        ~reviewed,
    )


def _review_counts(session: Session, tenant_id: int, threshold: Decimal) -> dict[str, int]:
    samples = session.scalar(select(func.count(TrainingSample.id)).where(_sample_filter(tenant_id, threshold)))
    messages = session.scalar(select(func.count(Message.id)).where(_message_filter(tenant_id, threshold)))
    return {"samples": int(samples or 0), "messages": int(messages or 0)}


def review_items(session: Session, tenant_id: int, threshold: Decimal) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    samples = session.scalars(
        select(TrainingSample)
        .where(_sample_filter(tenant_id, threshold))
        .order_by(TrainingSample.id.desc())
        .limit(REVIEW_PAGE_SIZE)
    )
    for sample in samples:
        items.append(
            {
                "kind": "sample",
                "id": sample.id,
                "text": sample.text,
                "suggested": sample.intent,
                "ml_intent": sample.ml_intent,
                "confidence": sample.ml_confidence,
                "origin": "Etiquetado por el LLM" if sample.source == "llm" else "Modelo con baja confianza",
                "at": sample.created_at,
            }
        )
    messages = session.scalars(
        select(Message).where(_message_filter(tenant_id, threshold)).order_by(Message.id.desc()).limit(REVIEW_PAGE_SIZE)
    )
    for message in messages:
        items.append(
            {
                "kind": "message",
                "id": message.id,
                "text": message.text or "",
                "suggested": message.intent,
                "ml_intent": message.intent,
                "confidence": message.confidence,
                "origin": "Mensaje con baja confianza",
                "at": message.created_at,
            }
        )
    return items


@router.get("/review")
def review_page(request: Request) -> Response:
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        threshold = tenant_threshold(session, access.tenant_id)
        context = {
            "items": review_items(session, access.tenant_id, threshold),
            "counts": _review_counts(session, access.tenant_id, threshold),
            "threshold": f"{threshold:.2f}",
            "intents": list(INTENTS),
            "tab": "review",
        }
        return page(request, "admin/ml_review.html", access, "ml", context)


def _read_review(reader: FormReader) -> tuple[str | None, str | None]:
    action = reader.choice("action", "Acción", REVIEW_ACTIONS)
    intent = reader.choice("intent", "Intención", tuple(INTENTS), required=action != "discard")
    return action, intent


def _review_done(request: Request, message: str) -> Response:
    if is_htmx(request):
        return HTMLResponse(f'<div class="review-done" role="status">{_escape(message)}</div>')
    return redirect(request, "/admin/ml/review", message)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


@router.post("/review/samples/{sample_id}")
def review_sample(request: Request, sample_id: int, form: PanelForm) -> Response:
    reader = FormReader(form)
    action, intent = _read_review(reader)
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        sample = owned(session, TrainingSample, sample_id, access)
        if reader.errors:
            return redirect(request, "/admin/ml/review", " ".join(reader.errors))
        before = sample.intent
        if action == "discard":
            sample.source, sample.confirmed = "human", False
            done = "Descartado: no se usará para entrenar."
        else:
            corrected = intent is not None and intent != sample.intent
            sample.intent = intent or sample.intent
            sample.confirmed = True
            if corrected:
                sample.source = "human"
            done = f"Guardado como «{sample.intent}»."
        sample.platform_confirmed = sample.confirmed and access.user.is_superadmin  # staff: platform model too
        audit(
            session,
            access,
            access.tenant_id,
            "ml.review.sample",
            id=sample.id,
            review=action,
            before=before,
            after=sample.intent,
        )
    return _review_done(request, done)


@router.post("/review/messages/{message_id}")
def review_message(request: Request, message_id: int, form: PanelForm) -> Response:
    reader = FormReader(form)
    action, intent = _read_review(reader)
    with _session(request) as session:
        access = admin_access(request, session, "ml")
        message = owned(session, Message, message_id, access)
        if message.direction != "in" or not message.text:
            raise PanelDenied(404, "No encontrado.")
        if reader.errors:
            return redirect(request, "/admin/ml/review", " ".join(reader.errors))
        label = intent or message.intent or "fuera_de_alcance"
        session.add(
            TrainingSample(
                tenant_id=access.tenant_id,
                text=message.text[:2000],
                intent=label,
                source="human",
                confirmed=action != "discard",
                platform_confirmed=action != "discard" and access.user.is_superadmin,
                ml_intent=message.intent,
                ml_confidence=message.confidence,
                message_id=message.id,
                created_at=datetime.now(UTC),
            )
        )
        audit(
            session,
            access,
            access.tenant_id,
            "ml.review.message",
            id=message.id,
            review=action,
            before=message.intent,
            after=label,
        )
    done = "Descartado: no se usará para entrenar." if action == "discard" else f"Guardado como «{label}»."
    return _review_done(request, done)
