"""Training data, evaluation (the contract's ``nlu eval`` object) and cross-validation.

Reading data and ``evaluate`` need only numpy; ``cross_validate`` imports the training side
(scikit-learn) when called.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chasqui.nlu import classifier
from chasqui.nlu import normalize as normalize_module
from chasqui.nlu.analyzer import analyze
from chasqui.nlu.classifier import IntentModel, TrainingConfig, expected_calibration_error, prepare_text
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.intents import INTENTS, OUT_OF_SCOPE

DATA_FILE = Path(__file__).resolve().parent / "data" / "train.jsonl"
TRAINING_PIPELINE_FILE = Path(__file__).resolve().parent / "training_pipeline.py"
Sample = tuple[str, str]


def read_samples(path: str | Path, *, known_intents: bool = True) -> list[Sample]:
    """``(text, intent)`` pairs of a JSON-lines file of ``{"text": ..., "intent": ...}`` objects.

    Raises ``ValueError`` naming the line for malformed lines or (with ``known_intents``) an
    intent that is not one of ``INTENTS``.
    """
    samples: list[Sample] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, intent = row["text"], row["intent"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected {{\"text\": ..., \"intent\": ...}}") from exc
            if not isinstance(text, str) or not isinstance(intent, str):
                raise ValueError(f"{path}:{number}: text and intent must be strings")
            if known_intents and intent not in INTENTS:
                raise ValueError(f"{path}:{number}: unknown intent {intent!r}")
            samples.append((text, intent))
    return samples


def load_training_data() -> list[Sample]:
    """The packaged seed training data (``chasqui/nlu/data/train.jsonl``)."""
    return read_samples(DATA_FILE)


def data_hash() -> str:
    """Hash of the seed data and of the code that turns it into a model (a cache key)."""
    digest = hashlib.sha256()
    code = (Path(classifier.__file__), TRAINING_PIPELINE_FILE, Path(normalize_module.__file__))
    for path in (DATA_FILE, *code):
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def evaluate(model: IntentModel, samples: Sequence[Sample], matcher: CatalogMatcher | None = None) -> dict:
    """The ``chasqui nlu eval --json`` object, plus ``confusion_pairs`` [(true, predicted, count)].

    With a ``matcher``, each text goes through ``analyze`` (product mentions abstracted with the
    tenant's catalog), as in production; without, only through ``normalize`` (``<prod>``
    placeholders of the training data stay placeholders).
    """
    truth = [intent for _, intent in samples]
    started = time.perf_counter()
    if matcher is not None:
        predicted = [analyze(text, matcher, model).prediction.intent for text, _ in samples]
    else:
        predicted = [model.predict(text).intent for text, _ in samples]
    elapsed = time.perf_counter() - started
    return _report(truth, predicted, elapsed)


def _report(truth: Sequence[str], predicted: Sequence[str], elapsed_s: float) -> dict:
    n = len(truth)
    labels = sorted(set(truth) | set(predicted))
    per_intent: dict[str, dict] = {}
    macro_f1 = 0.0
    if n:
        f1_scores = []
        scores = _per_label_scores(truth, predicted, labels)
        for label, (precision, recall, f1, support) in zip(labels, scores, strict=True):
            per_intent[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                                 "f1": round(f1, 4), "support": support}
            f1_scores.append(f1)
        macro_f1 = float(np.mean(f1_scores))
    errors = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return {
        "n": n,
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / n, 4) if n else 0.0,
        "macro_f1": round(macro_f1, 4),
        "per_intent": per_intent,
        "ms_per_message": round(1000.0 * elapsed_s / n, 4) if n else 0.0,
        "confusion_pairs": sorted(((t, p, c) for (t, p), c in errors.items()),
                                  key=lambda e: (-e[2], e[0], e[1])),
    }


def _per_label_scores(truth: Sequence[str], predicted: Sequence[str],
                      labels: Sequence[str]) -> list[tuple[float, float, float, int]]:
    """(precision, recall, f1, support) per label; 0.0 where a ratio is undefined (as scikit-learn's
    ``precision_recall_fscore_support(..., zero_division=0)``)."""
    true_pos = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    support = Counter(truth)
    predicted_count = Counter(predicted)
    scores = []
    for label in labels:
        tp, n_true, n_pred = true_pos[label], support[label], predicted_count[label]
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * tp / (n_true + n_pred) if tp else 0.0
        scores.append((precision, recall, f1, n_true))
    return scores


def cross_validate(samples: Sequence[Sample], folds: int = 5, *, seed: int = 0,
                   config: TrainingConfig = TrainingConfig()) -> dict:
    """Stratified k-fold figures of the training recipe: macro-F1 and accuracy (mean/std), the
    recall of ``fuera_de_alcance``, and the calibration error (ECE) of the confidences before and
    after temperature scaling (the temperature fitted on one half of the out-of-fold logits and
    measured on the other half, both ways)."""
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from chasqui.nlu.training_pipeline import out_of_fold_logits

    texts = [prepare_text(text) for text, _ in samples]
    labels = np.array([intent for _, intent in samples])
    fold_config = TrainingConfig(c=config.c, min_df=config.min_df, calibration_folds=folds,
                                 max_iter=config.max_iter)
    with threadpool_limits(1):
        logits, classes = out_of_fold_logits(texts, labels, config=fold_config, seed=seed)
    targets = np.searchsorted(classes, labels)
    predicted = classes[logits.argmax(axis=1)]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_f1, fold_acc = [], []
    for _, test_idx in splitter.split(np.zeros(len(labels)), labels):
        report = _report(labels[test_idx].tolist(), predicted[test_idx].tolist(), 0.0)
        fold_f1.append(report["macro_f1"])
        fold_acc.append(report["accuracy"])
    overall = _report(labels.tolist(), predicted.tolist(), 0.0)
    return {
        "folds": folds,
        "n": len(samples),
        "macro_f1_mean": round(statistics.mean(fold_f1), 4),
        "macro_f1_std": round(statistics.pstdev(fold_f1), 4),
        "accuracy_mean": round(statistics.mean(fold_acc), 4),
        "accuracy_std": round(statistics.pstdev(fold_acc), 4),
        "out_of_scope_recall": overall["per_intent"].get(OUT_OF_SCOPE, {}).get("recall", 0.0),
        **_calibration_figures(logits, targets, seed),
        "per_intent": overall["per_intent"],
        "confusion_pairs": overall["confusion_pairs"],
    }


def _calibration_figures(logits: np.ndarray, targets: np.ndarray, seed: int) -> dict:
    from chasqui.nlu.training_pipeline import temperature_for

    raw = expected_calibration_error(_softmax_rows(logits), targets)
    order = np.random.default_rng(seed).permutation(len(targets))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    calibrated, temperatures = [], []
    for fit_idx, test_idx in (halves, halves[::-1]):
        temperature = temperature_for(logits[fit_idx], targets[fit_idx])
        temperatures.append(temperature)
        probabilities = _softmax_rows(logits[test_idx] / temperature)
        calibrated.append(expected_calibration_error(probabilities, targets[test_idx]))
    return {"ece_uncalibrated": round(raw, 4), "ece_calibrated": round(float(np.mean(calibrated)), 4),
            "temperature": round(float(np.mean(temperatures)), 4)}


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
