"""ML control: model page, threshold, review queue (confirm / correct / discard), retraining."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fakes.admin_panel import audit_count
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import BotSettings, ModelVersion, Tenant, TrainingSample
from chasqui.nlu import learning


def _tenant_id(client, slug: str = "dulce-lima") -> int:
    with runtime_of(client).session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.slug == slug))


def _customer_message(client, text: str, phone: str, confidence: float, intent: str) -> int:
    """A processed customer message with the given model confidence (as the worker leaves it)."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        message = runtime.service(session, "dulce-lima").record_customer_message(
            session, phone, text, datetime.now(UTC)
        )
        message.processed, message.confidence, message.intent, message.source = True, confidence, intent, "fallback"
        return message.id


def test_the_ml_page_shows_the_active_model_and_history(client, login_as) -> None:
    owner = login_as("owner")
    page = owner.get("/admin/ml")
    assert page.status_code == 200
    assert "Modelo activo" in page.text and "v1" in page.text and "Historial de entrenamientos" in page.text
    assert "Reentrenar ahora" in page.text


def test_the_threshold_is_validated_and_used_by_the_bot(client, login_as) -> None:
    owner = login_as("owner")
    bad = owner.post("/admin/ml/threshold", {"threshold": "1.5"})
    assert bad.status_code == 400 and "Umbral de confianza: debe estar entre 0 y 1" in bad.text
    assert owner.post("/admin/ml/threshold", {"threshold": "0.55"}).status_code == 303
    runtime = runtime_of(client)
    with runtime.session() as session:
        assert runtime.snapshot(session, "dulce-lima").bot.confidence_threshold == Decimal("0.55")
    assert audit_count(client, "ml.threshold") == 1
    # only the superadmin sets the platform default
    assert owner.post("/admin/ml/platform-threshold", {"threshold": "0.6"}).status_code == 403


def test_review_queue_confirm_correct_and_discard(client, login_as) -> None:
    owner = login_as("owner")
    tid = _tenant_id(client)
    low = _customer_message(client, "oe causa tienen algo pa la resaca", "51987600001", 0.31, "consultar_catalogo")
    other = _customer_message(client, "asdfgh", "51987600002", 0.12, "fuera_de_alcance")
    confident = _customer_message(client, "hola", "51987600003", 0.97, "saludo")
    with runtime_of(client).session() as session:
        sample = TrainingSample(
            tenant_id=tid,
            text="me yapeas el vuelto?",
            intent="consultar_pago",
            source="llm",
            confirmed=False,
            ml_intent="confirmar_pago",
            ml_confidence=0.4,
        )
        session.add(sample)
        session.flush()
        sample_id = sample.id

    page = owner.get("/admin/ml/review").text
    assert "oe causa tienen algo pa la resaca" in page and "me yapeas el vuelto?" in page and "asdfgh" in page
    assert f"review-message-{confident}" not in page  # confident messages need no review

    assert (
        owner.post(
            f"/admin/ml/review/samples/{sample_id}", {"action": "confirm", "intent": "consultar_pago"}
        ).status_code
        == 303
    )
    corrected = owner.post(
        f"/admin/ml/review/messages/{low}",
        {"action": "correct", "intent": "consultar_disponibilidad"},
        headers={"HX-Request": "true"},
    )
    assert corrected.status_code == 200 and "consultar_disponibilidad" in corrected.text  # the HTMX fragment
    assert owner.post(f"/admin/ml/review/messages/{other}", {"action": "discard"}).status_code == 303
    bad = owner.post(f"/admin/ml/review/messages/{confident}", {"action": "confirm", "intent": "no_existe"})
    assert bad.status_code == 303  # back to the queue with the message, nothing written

    with runtime_of(client).session() as session:
        assert session.get(TrainingSample, sample_id).confirmed is True
        by_message = {
            s.message_id: s
            for s in session.scalars(select(TrainingSample).where(TrainingSample.message_id.is_not(None)))
        }
    assert (by_message[low].intent, by_message[low].source, by_message[low].confirmed) == (
        "consultar_disponibilidad",
        "human",
        True,
    )
    assert by_message[other].confirmed is False  # discarded: reviewed, never trained on
    assert confident not in by_message
    page = owner.get("/admin/ml/review").text
    assert "resaca" not in page and "asdfgh" not in page and "vuelto" not in page
    assert audit_count(client, "ml.review.message") == 2


@pytest.fixture
def fast_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Train (and measure the training fit) on every 20th sample: the same code path, a fraction of the time."""
    real_train, real_evaluate = learning.train_model, learning.evaluate
    monkeypatch.setattr(learning, "train_model", lambda samples, **kw: real_train(list(samples)[::20], **kw))
    monkeypatch.setattr(
        learning,
        "evaluate",
        lambda model, samples, *a: real_evaluate(model, list(samples)[:: 20 if len(samples) > 1000 else 1], *a),
    )


def _retrain(owner, client) -> str:
    started = owner.post("/admin/ml/retrain", headers={"HX-Request": "true"})
    assert started.status_code == 200 and 'id="retrain-status"' in started.text
    deadline = time.monotonic() + 60
    status = owner.get("/admin/ml/retrain/status").text
    while 'data-state="running"' in status:
        assert 'hx-trigger="every 1s"' in status and time.monotonic() < deadline
        time.sleep(0.3)
        status = owner.get("/admin/ml/retrain/status").text
    return status


def _versions(client, tenant_id: int | None) -> dict[int, ModelVersion]:
    scope = ModelVersion.tenant_id.is_(None) if tenant_id is None else ModelVersion.tenant_id == tenant_id
    with runtime_of(client).session() as session:
        return {v.version: v for v in session.scalars(select(ModelVersion).where(scope))}


def _bot_model(client, slug: str = "dulce-lima"):
    runtime = runtime_of(client)
    with runtime.session() as session:
        return runtime.service(session, slug).engine.brain.model


def test_retrain_now_promotes_a_measured_model_or_keeps_the_active_one(
    client, login_as, fast_training, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = login_as("owner")
    tid = _tenant_id(client)
    old_model = _bot_model(client)
    monkeypatch.setattr(learning, "PROMOTION_TOLERANCE", 1.0)  # any candidate is good enough
    monkeypatch.setattr(learning, "RECALL_TOLERANCE", 1.0)
    status = _retrain(owner, client)
    assert "Listo: versión 1 activa" in status and "El bot ya usa el modelo nuevo" in status, status
    versions = _versions(client, tid)  # the owner's retrain: this tenant's own model
    assert versions[1].status == "active" and _versions(client, None)[1].status == "active"
    report = versions[1].metrics["validation_report"]
    assert report["n"] > 0 and "saludo" in report["per_intent"] and 0 < report["macro_f1"] <= 1
    assert versions[1].metrics["trigger"] == "manual" and versions[1].metrics["scope"] == "tenant"
    new_model = _bot_model(client)
    assert new_model is not old_model  # the bot uses the new model right away
    assert _bot_model(client, "ferreteria-el-tornillo") is runtime_of(client).model()  # others: the platform's
    page = owner.get("/admin/ml").text
    assert "F1 por intención" in page and "Confusiones más frecuentes" in page and "manual" in page

    monkeypatch.setattr(learning, "PROMOTION_TOLERANCE", -1.0)  # no candidate can be good enough
    status = _retrain(owner, client)
    assert "Versión 2 rechazada: F1 macro de validación" in status and "El bot ya usa" not in status, status
    versions = _versions(client, tid)
    assert versions[2].status == "rejected" and versions[1].status == "active"
    assert _bot_model(client) is new_model
    assert "rechazado" in owner.get("/admin/ml").text
    assert audit_count(client, "ml.retrain") == 2


def test_only_owners_and_the_superadmin_open_ml(client, login_as) -> None:
    for role in ("admin", "agent"):
        assert login_as(role).get("/admin/ml").status_code == 403
    superadmin = login_as("superadmin")
    assert superadmin.get("/admin/ml").status_code == 200
    assert superadmin.post("/admin/ml/platform-threshold", {"threshold": "0.75"}).status_code == 303
    with runtime_of(client).session() as session:
        assert session.scalar(select(BotSettings.id)) is not None
    assert "0.75" in superadmin.get("/admin/ml").text
