"""IntentModel: what the seed model answers, lean path == scikit-learn path, safe serialization."""

from __future__ import annotations

import hashlib
import io
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chasqui.nlu.analyzer import analyze
from chasqui.nlu.classifier import FORMAT_MAGIC, IntentModel, TrainingConfig, prepare_text, train_model
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.intents import INTENTS
from chasqui.nlu.training import load_training_data


@pytest.fixture(scope="module")
def small_model() -> IntentModel:
    """A quickly trained model that still carries its scikit-learn pipeline."""
    samples = load_training_data()
    rng = random.Random(5)
    subset = rng.sample(samples, 900)
    return train_model(subset, config=TrainingConfig(calibration_folds=3))


def test_the_briefs_order_example(demo: CatalogMatcher, seed_model: IntentModel) -> None:
    result = analyze("kiero 2 tortas d chocolate porfa", demo, seed_model)
    assert result.prediction.intent == "agregar_producto"
    (mention,) = result.entities.products
    assert (mention.sku, mention.quantity) == ("TOR-CHOC", 2)


# The intents the shared conversation scenarios expect (spec examples, not the held-out test set).
@pytest.mark.parametrize(("text", "intent"), [
    ("hola, que promociones hay?", "consultar_promociones"),
    ("buenas tardes", "saludo"),
    ("quiero 2 tortas de chocolate", "agregar_producto"),
    ("cuánto va mi pedido?", "ver_carrito"),
    ("como puedo pagar?", "consultar_pago"),
    ("no tengo yape", "problema_pago"),
    ("puedo hablar con una persona por favor?", "solicitar_humano"),
    ("mejor que sean 2 nomas", "modificar_cantidad"),
    ("sabes qué, borra todo", "vaciar_carrito"),
    ("perdón, cancela mi pedido", "cancelar_pedido"),
    ("hacen delivery a surco?", "consultar_delivery"),
    ("cuanto cuesta el pie de limon?", "consultar_precio"),
    ("tienen empanadas?", "consultar_disponibilidad"),
    ("holaaa buenas 😊", "saludo"),
    ("muchas gracias!!", "agradecimiento"),
    ("chau, hasta luego", "despedida"),
    ("qué venden?", "consultar_catalogo"),
    ("listo, ya te yapeé", "confirmar_pago"),
    ("confirmo, pago en efectivo y recojo en tienda", "confirmar_pedido"),
    ("esto es pésimo!!! ya les escribí 3 veces por mi pedido y nadie me responde, qué falta de respeto",
     "queja_reclamo"),
])
def test_scenario_messages(demo: CatalogMatcher, seed_model: IntentModel, text: str, intent: str) -> None:
    assert analyze(text, demo, seed_model).prediction.intent == intent


@pytest.mark.parametrize("text", [
    "quién ganó el partido de ayer?",
    "va a llover mañana en lima?",
    "cuéntame un chiste",
    "me ayudas con mi tarea de matemáticas?",
])
def test_unrelated_messages_are_out_of_scope(demo: CatalogMatcher, seed_model: IntentModel,
                                             text: str) -> None:
    assert analyze(text, demo, seed_model).prediction.intent == "fuera_de_alcance"


def test_predictions_are_well_formed(seed_model: IntentModel) -> None:
    assert set(seed_model.classes) == set(INTENTS)
    prediction = seed_model.predict("cuánto cuesta la <prod>?")
    assert prediction.intent == "consultar_precio"
    assert len(prediction.top) == 3 and prediction.top[0] == (prediction.intent, prediction.confidence)
    assert [p for _, p in prediction.top] == sorted((p for _, p in prediction.top), reverse=True)
    probabilities = seed_model.predict_proba_one("cuánto cuesta la <prod>?")
    assert probabilities.sum() == pytest.approx(1.0)
    assert seed_model.predict_many(["hola", "chau"])[1].intent == "despedida"


def test_lean_path_equals_the_sklearn_pipeline(small_model: IntentModel) -> None:
    texts = [text for text, _ in load_training_data()[::7]]
    texts += ["", "😊", "a" * 10_000, "\x00\ud800 basura \uffff", "zprod zprod", "jajaja xd"]
    reference = small_model.sklearn_predict_proba(texts)
    np.testing.assert_allclose(small_model.predict_proba(texts), reference, rtol=0, atol=1e-12)
    one_by_one = np.array([small_model.predict_proba_one(text) for text in texts])
    np.testing.assert_allclose(one_by_one, reference, rtol=0, atol=1e-12)
    features = small_model.sklearn_pipeline.named_steps["features"]
    reference_features = features.transform([prepare_text(text) for text in texts])
    assert abs(small_model.transform(texts) - reference_features).max() < 1e-12


def test_serialization_round_trip(small_model: IntentModel) -> None:
    data = small_model.to_bytes()
    loaded = IntentModel.from_bytes(data)
    texts = ["hola", "quiero 2 <prod>", "no tengo yape", ""]
    np.testing.assert_array_equal(loaded.predict_proba(texts), small_model.predict_proba(texts))
    assert loaded.temperature == small_model.temperature and loaded.classes == small_model.classes
    assert loaded.to_bytes() == data


def test_tampered_or_foreign_bytes_are_rejected(small_model: IntentModel) -> None:
    data = bytearray(small_model.to_bytes())
    flipped = bytearray(data)
    flipped[-100] ^= 0x01
    for bad in (bytes(flipped), bytes(data[:-10]), b"", b"garbage", b"\x80\x04pickle",
                bytes(data).replace(FORMAT_MAGIC, b"CHASQUI-INTENT-MODEL/9\n")):
        with pytest.raises(ValueError):
            IntentModel.from_bytes(bad)


def test_a_valid_checksum_does_not_make_pickled_content_loadable() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, classes=np.array([{"evil": 1}], dtype=object))  # object arrays need pickle
    payload = buffer.getvalue()
    forged = FORMAT_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    with pytest.raises(ValueError):
        IntentModel.from_bytes(forged)


def test_never_raises_on_odd_input(demo: CatalogMatcher, seed_model: IntentModel) -> None:
    rng = random.Random(2)
    inputs = ["", " ", "😊", "👍👍👍", "?", "a" * 10_000, "\x00\x01\ud800",
              "".join(chr(rng.randrange(0x110000)) for _ in range(3_000))]
    for text in inputs:
        result = analyze(text, demo, seed_model)
        assert result.prediction.intent in INTENTS
        assert 0.0 <= result.prediction.confidence <= 1.0
    assert analyze("hola", None, seed_model).prediction.intent == "saludo"


def test_single_message_latency_is_well_under_a_millisecond(seed_model: IntentModel) -> None:
    texts = [text for text, _ in load_training_data()[:300]]
    for text in texts[:20]:
        seed_model.predict(text)
    timings = []
    for text in texts:
        started = time.perf_counter()
        seed_model.predict(text)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.001


def test_customers_spelling_of_enye_does_not_change_the_intent(demo: CatalogMatcher,
                                                              seed_model: IntentModel) -> None:
    for with_enye, without in [("nos vemos mañana", "nos vemos manana"), ("quiero hablar con el dueño",
                                                                           "quiero hablar con el dueno")]:
        np.testing.assert_array_equal(seed_model.predict_proba_one(with_enye),
                                      seed_model.predict_proba_one(without))
        assert analyze(with_enye, demo, seed_model).prediction == analyze(without, demo, seed_model).prediction


_NO_TRAINING_LIBRARIES = """
import sys
from pathlib import Path
from chasqui.nlu.analyzer import analyze
from chasqui.nlu.classifier import IntentModel
from chasqui.nlu.training import evaluate
model = IntentModel.from_bytes(Path(sys.argv[1]).read_bytes())
assert analyze("quiero 2 tortas", None, model).prediction.intent == "agregar_producto"
assert [p.intent for p in model.predict_many(["hola", "chau"])] == ["saludo", "despedida"]
assert evaluate(model, [("hola", "saludo")])["accuracy"] == 1.0
print(sorted(m for m in sys.modules
             if m.split(".")[0] in ("sklearn", "threadpoolctl") or m.startswith("scipy.optimize")))
"""


def test_loading_and_running_a_model_never_imports_the_training_libraries(seed_model: IntentModel,
                                                                          tmp_path: Path) -> None:
    """A fresh process (``chasqui simulate``, a worker) must not pay the second scikit-learn takes to load."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(seed_model.to_bytes())
    result = subprocess.run([sys.executable, "-c", _NO_TRAINING_LIBRARIES, str(artifact)], capture_output=True,
                            text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
