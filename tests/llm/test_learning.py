"""The learning loop end to end: the model gets messages wrong, the teacher labels them, enough
samples start a background retrain, the candidate is promoted and now gets them right; a poisoned
batch of wrong labels is trained too, and rejected by the promotion check."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes.llm_server import Answer, FakeLLM
from sqlalchemy import select

from chasqui.db.models import ModelVersion, TrainingSample
from chasqui.nlu.training import load_training_data
from chasqui.runtime import Runtime

# Messages the seed model gets wrong, below the demo tenant's 0.80 threshold, with the right label.
WRONG = {
    "taba viendo sus tortas en insta": "consultar_catalogo",
    "vi su publicacion en facebook, que tienen": "consultar_catalogo",
    "me salio su video en tiktok": "consultar_catalogo",
    "encargame la tres leches": "agregar_producto",
    "cuanto me toca pagar": "ver_carrito",
    "ya fue todo, bota eso": "vaciar_carrito",
}
# A broken teacher: whole intents labelled as others.
SWAPS = {"consultar_precio": "consultar_disponibilidad", "consultar_pago": "problema_pago", "saludo": "despedida"}


def _versions(runtime: Runtime, platform: bool = False) -> list[tuple[int, str, dict, int]]:
    """The tenant's own model versions (the teacher's labels train only them), or the platform's."""
    scope = ModelVersion.tenant_id.is_(None) if platform else ModelVersion.tenant_id.is_not(None)
    with runtime.session() as session:
        return [(v.version, v.status, v.metrics, v.sample_count)
                for v in session.scalars(select(ModelVersion).where(scope).order_by(ModelVersion.version))]


def _predict(runtime: Runtime, chat, text: str, phone: str) -> tuple[str, str]:
    outcome = chat(text, phone=phone)
    return outcome.decision.intent, outcome.decision.source


def test_teacher_labels_become_samples_that_retrain_and_promote_a_better_model_and_poison_is_rejected(
    llm: FakeLLM, chat, runtime: Runtime, setting
) -> None:
    setting("ml_retrain_every", str(len(WRONG)))

    def teacher(request: dict) -> Answer:
        text = llm.last_user_text()
        return Answer(intent=WRONG.get(text, "fuera_de_alcance"), reply="¡Te ayudo con eso! 😊")

    llm.responder = teacher
    for n, text in enumerate(WRONG):
        outcome = chat(text, phone=f"519100000{n:02d}")
        assert outcome.decision.source == "llm", text
        assert outcome.decision.intent == WRONG[text]
    with runtime.session() as session:
        samples = session.scalars(select(TrainingSample).where(TrainingSample.source == "llm")).all()
        assert {s.text: s.intent for s in samples} == WRONG
        assert all(s.ml_intent != s.intent and s.confirmed is False for s in samples)  # the model was wrong
    learner = runtime.learner()
    learner.wait(120)

    versions = _versions(runtime)
    assert [status for _, status, _, _ in versions] == ["active"]
    assert [status for _, status, _, _ in _versions(runtime, platform=True)] == ["active"]  # the seed model
    _, _, metrics, sample_count = versions[-1]
    assert metrics["promoted"] is True and metrics["trigger"] == "auto"
    assert metrics["samples"]["llm"] == len(WRONG) and sample_count == len(load_training_data()) + len(WRONG)
    assert metrics["validation"]["macro_f1"] >= metrics["active_validation"]["macro_f1"] - 0.01
    assert metrics["duration_s"] > 0 and metrics["validation"]["n"] > 200
    # the new model is in use: the same messages now get the right intent from the model alone
    requests = len(llm.requests)
    for n, text in enumerate(WRONG):
        intent, source = _predict(runtime, chat, text, phone=f"519200000{n:02d}")
        assert (intent, source) == (WRONG[text], "ml"), text
    assert len(llm.requests) == requests

    # a poisoned batch: a broken teacher relabelled whole intents
    now = datetime.now(UTC)
    with runtime.session() as session:
        tenant_id = session.scalar(select(TrainingSample.tenant_id).where(TrainingSample.source == "llm"))
        session.add_all(
            TrainingSample(tenant_id=tenant_id, text=text, intent=SWAPS[intent], source="llm", confirmed=False,
                           created_at=now)
            for text, intent in load_training_data() if intent in SWAPS
        )
    llm.responder = lambda request: Answer(intent="despedida", reply="¡Chau! 👋")
    outcome = chat("mmm ps no se, tal vez", phone="51930000000")  # one more sample through the teacher
    assert outcome.decision.source == "llm"
    learner.wait(120)

    versions = _versions(runtime)
    assert [status for _, status, _, _ in versions] == ["active", "rejected"]
    _, _, metrics, _ = versions[-1]
    assert metrics["promoted"] is False
    assert metrics["validation"]["macro_f1"] < metrics["active_validation"]["macro_f1"] - 0.01
    # the promoted model stays in use
    intent, source = _predict(runtime, chat, "taba viendo sus tortas en insta", phone="51940000000")
    assert (intent, source) == ("consultar_catalogo", "ml")
