"""Issue 18, finding 1: samples confirmed by one tenant must never change another tenant's model.

The attack: tenant A's owner confirms 90 messages like "quiero poner una queja" as
``agradecimiento`` in the panel's review queue and presses "Reentrenar". Tenant B's bot must
still read "quiero poner una queja formal" as a complaint and escalate it; A's poisoned candidate
is rejected by the per-intent recall guard (and, if A forced it through, it would only ever be A's).
Only platform staff retrain the platform model; A's legitimate samples improve A's own model.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from fakes.admin_panel import Panel, login_as
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Escalation, ModelVersion, Tenant
from chasqui.nlu import learning
from chasqui.nlu.analyzer import analyze

A, B = "dulce-lima", "ferreteria-el-tornillo"
COMPLAINT = "quiero poner una queja formal"
_OPENINGS = ("quiero poner una queja", "quiero hacer una queja", "voy a poner una queja",
             "quisiera poner una queja", "necesito poner una queja")
_ENDINGS = ("", "por favor", "ahora", "ya", "hoy", "de mi pedido", "del servicio", "urgente", "aqui",
            "ahorita", "porfa", "al toque", "de nuevo", "otra vez", "en serio", "ya mismo", "señorita",
            "joven")
POISON = [f"{opening} {ending}".strip() for ending in _ENDINGS for opening in _OPENINGS][:90]
# Messages the seed (platform) model gets wrong, with the label A's owner teaches its own model.
LEGIT = {
    "taba viendo sus tortas en insta": "consultar_catalogo",
    "vi su publicacion en facebook, que tienen": "consultar_catalogo",
    "me salio su video en tiktok": "consultar_catalogo",
    "encargame la tres leches": "agregar_producto",
    "cuanto me toca pagar": "ver_carrito",
    "ya fue todo, bota eso": "vaciar_carrito",
}


def _low_confidence_message(client: TestClient, slug: str, text: str, phone: str) -> int:
    """A customer message the model was unsure about: it shows in the tenant's review queue."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        message = runtime.service(session, slug).record_customer_message(session, phone, text, datetime.now(UTC))
        message.processed, message.confidence, message.intent, message.source = True, 0.3, "fuera_de_alcance", "ml"
        return message.id


def _teach(client: TestClient, panel: Panel, slug: str, labelled: list[tuple[str, str]]) -> None:
    """Confirm each message in the panel's review queue with the given label."""
    for n, (text, intent) in enumerate(labelled):
        message_id = _low_confidence_message(client, slug, text, phone=f"5198{n:07d}")
        answer = panel.post(f"/admin/ml/review/messages/{message_id}", {"action": "correct", "intent": intent})
        assert answer.status_code == 303, answer.text[:300]


def _retrain(panel: Panel, query: str = "") -> str:
    """Press "Reentrenar" and wait for the job to finish; the final status fragment."""
    started = panel.post(f"/admin/ml/retrain{query}", headers={"HX-Request": "true"})
    assert started.status_code == 200, started.text[:300]
    deadline = time.monotonic() + 240
    status = panel.get(f"/admin/ml/retrain/status{query}").text
    while 'data-state="running"' in status:
        assert time.monotonic() < deadline, "the retraining did not finish"
        time.sleep(0.5)
        status = panel.get(f"/admin/ml/retrain/status{query}").text
    assert 'data-state="done"' in status, status
    return status


def _complaint_outcome(client: TestClient, slug: str, phone: str) -> tuple[str, bool]:
    """(intent, escalated) of the bot's turn on the complaint, as the customer lives it."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, slug).customer_message(session, phone, COMPLAINT, datetime.now(UTC))
        escalated = session.scalar(
            select(Escalation.id).where(Escalation.conversation_id == outcome.conversation_id)
        ) is not None
        return outcome.decision.intent, escalated


def _intent(client: TestClient, slug: str, text: str) -> str:
    runtime = runtime_of(client)
    with runtime.session() as session:
        brain = runtime.service(session, slug).engine.brain
    return analyze(text, brain.matcher, brain.model).prediction.intent


def _platform_versions(client: TestClient) -> list[str]:
    with runtime_of(client).session() as session:
        query = select(ModelVersion).where(ModelVersion.tenant_id.is_(None)).order_by(ModelVersion.version)
        return [row.status for row in session.scalars(query)]


def test_a_tenants_poisoned_retrain_never_reaches_another_tenant_and_is_rejected(client: TestClient) -> None:
    assert _complaint_outcome(client, B, "51911111111") == ("queja_reclamo", True)
    owner_a = login_as(client, "owner", A)
    _teach(client, owner_a, A, [(text, "agradecimiento") for text in POISON])
    status = _retrain(owner_a)

    assert _complaint_outcome(client, B, "51922222222") == ("queja_reclamo", True)  # B still escalates
    assert _platform_versions(client) == ["active"]  # the model every tenant falls back to: untouched
    # the recall guard rejected A's candidate, with the reason on the page; A's bot is unharmed too
    assert "rechazada" in status and "«queja_reclamo»" in status, status
    assert _complaint_outcome(client, A, "51933333333") == ("queja_reclamo", True)


def test_a_poisoned_model_forced_through_stays_in_its_own_tenant(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(learning, "RECALL_TOLERANCE", 1.0, raising=False)  # no guard: isolation alone
    owner_a = login_as(client, "owner", A)
    _teach(client, owner_a, A, [(text, "agradecimiento") for text in POISON])
    assert "activa" in _retrain(owner_a)
    assert _intent(client, A, COMPLAINT) == "agradecimiento"  # A poisoned only itself
    assert _complaint_outcome(client, B, "51944444444") == ("queja_reclamo", True)
    assert _platform_versions(client) == ["active"]


def test_only_platform_staff_retrain_the_platform_model(client: TestClient) -> None:
    owner_a = login_as(client, "owner", A)
    assert owner_a.post("/admin/ml/retrain?scope=platform").status_code == 403
    assert owner_a.get("/admin/ml/retrain/status?scope=platform").status_code == 403
    staff = login_as(client, "superadmin", A)
    _teach(client, staff, A, [("quisiera saber si atienden feriados", "consultar_delivery")])
    status = _retrain(staff, "?scope=platform")
    assert re.search(r"Listo: versión 2 activa", status), status
    assert _platform_versions(client) == ["candidate", "active"]
    with runtime_of(client).session() as session:
        row = session.scalar(select(ModelVersion).where(ModelVersion.tenant_id.is_(None), ModelVersion.version == 2))
        assert row.metrics["scope"] == "platform" and row.metrics["samples"].get("human") == 1
        assert session.scalar(select(ModelVersion.id).where(ModelVersion.tenant_id.is_not(None))) is None
    # every tenant without a model of its own uses the new platform model at once
    runtime = runtime_of(client)
    with runtime.session() as session:
        tenant_b = session.scalar(select(Tenant.id).where(Tenant.slug == B))
        assert runtime.service(session, tenant_b).engine.brain.model is runtime.model()
    assert runtime.model().metadata["n_samples"] == row.sample_count


def test_a_tenants_legitimate_samples_improve_its_own_model_only(client: TestClient) -> None:
    before = {text: _intent(client, A, text) for text in LEGIT}
    assert sum(before[text] != intent for text, intent in LEGIT.items()) >= 4  # the platform model errs
    before_b = {text: _intent(client, B, text) for text in LEGIT}
    owner_a = login_as(client, "owner", A)
    _teach(client, owner_a, A, list(LEGIT.items()))
    status = _retrain(owner_a)
    assert "Listo: versión 1 activa" in status, status
    for text, intent in LEGIT.items():
        assert _intent(client, A, text) == intent, text
    assert {text: _intent(client, B, text) for text in LEGIT} == before_b  # B's bot reads them as before
    assert _platform_versions(client) == ["active"]
