"""Training data, the ``nlu eval`` report and cross-validation."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chasqui.nlu.classifier import IntentModel
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.intents import INTENTS
from chasqui.nlu.training import _report, cross_validate, data_hash, evaluate, load_training_data, read_samples


def test_the_packaged_data_covers_every_intent() -> None:
    samples = load_training_data()
    counts = {intent: 0 for intent in INTENTS}
    for text, intent in samples:
        assert text.strip()
        counts[intent] += 1
    assert min(counts.values()) >= 50, counts


def test_data_hash_is_a_stable_cache_key() -> None:
    assert data_hash() == data_hash()
    assert len(data_hash()) == 32 and int(data_hash(), 16) >= 0


def test_read_samples_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"text": "hola", "intent": "saludo"}\n\n{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"eval.jsonl:3"):
        read_samples(path)
    path.write_text('{"text": "hola", "intent": "comprar_casa"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown intent"):
        read_samples(path)
    assert read_samples(path, known_intents=False) == [("hola", "comprar_casa")]


def test_evaluate_returns_the_contract_object(demo: CatalogMatcher, seed_model: IntentModel) -> None:
    samples = [("hola", "saludo"), ("quiero 2 tortas de chocolate", "agregar_producto"),
               ("cuanto cuesta la chicha?", "consultar_precio"), ("chau", "saludo")]
    report = evaluate(seed_model, samples, demo)
    assert json.loads(json.dumps(report))  # JSON-ready
    assert {"n", "accuracy", "macro_f1", "per_intent", "ms_per_message"} <= set(report)
    assert report["n"] == 4 and report["accuracy"] == 0.75
    assert report["per_intent"]["saludo"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert report["per_intent"]["despedida"]["support"] == 0
    assert report["confusion_pairs"] == [("saludo", "despedida", 1)]
    assert report["ms_per_message"] > 0


def test_cross_validation_reports_mean_and_spread() -> None:
    rng = random.Random(1)
    subset = rng.sample(load_training_data(), 800)
    report = cross_validate(subset, folds=3)
    assert report["folds"] == 3 and report["n"] == 800
    assert 0.5 < report["macro_f1_mean"] <= 1.0 and 0 <= report["macro_f1_std"] < 0.1
    assert 0.5 < report["accuracy_mean"] <= 1.0
    assert 0 <= report["ece_calibrated"] < 0.2 and report["temperature"] > 0


def test_evaluation_scores_equal_scikit_learns() -> None:
    from sklearn.metrics import precision_recall_fscore_support

    rng = random.Random(4)
    labels = ["saludo", "despedida", "agradecimiento", "queja_reclamo"]
    truth = [rng.choice(labels[:3]) for _ in range(300)]
    predicted = [t if rng.random() < 0.6 else rng.choice(labels) for t in truth]
    report = _report(truth, predicted, 0.0)
    names = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=names,
                                                                     zero_division=0)
    for k, name in enumerate(names):
        row = report["per_intent"][name]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == (
            round(float(precision[k]), 4), round(float(recall[k]), 4), round(float(f1[k]), 4), int(support[k]))
    assert report["macro_f1"] == round(float(f1.mean()), 4)
