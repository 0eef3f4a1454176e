"""Training side of the intent classifier: the scikit-learn pipeline, its export into the lean
``IntentModel`` and the temperature calibration.

Everything that needs scikit-learn, ``scipy.optimize`` or threadpoolctl lives here, so that
loading a trained model and classifying messages (``chasqui.nlu.classifier``) never imports
them: a fresh process (``chasqui simulate``, a worker) saves the second or so they take to load.
``chasqui.nlu.classifier.train_model`` imports this module on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from chasqui.nlu.classifier import (
    CHAR_NGRAMS,
    WORD_NGRAMS,
    WORD_TOKEN_PATTERN,
    IntentModel,
    TrainingConfig,
    prepare_text,
)


def build_pipeline(config: TrainingConfig = TrainingConfig(), *, seed: int = 0) -> Pipeline:
    """The scikit-learn pipeline the model is trained with (input: ``prepare_text`` output)."""
    common = dict(lowercase=False, sublinear_tf=True, min_df=config.min_df, dtype=np.float64)
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, token_pattern=WORD_TOKEN_PATTERN,
                                 **common)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common)),
    ])
    classifier = LogisticRegression(C=config.c, max_iter=config.max_iter, random_state=seed)
    return Pipeline([("features", features), ("clf", classifier)])


def train_model(samples: Sequence[tuple[str, str]], *, seed: int = 0,
                config: TrainingConfig = TrainingConfig()) -> IntentModel:
    """Fit the pipeline on ``(text, intent)`` samples, calibrate it, export the lean model."""
    texts = [prepare_text(text) for text, _ in samples]
    labels = np.array([intent for _, intent in samples])
    if len(set(labels.tolist())) < 2:
        raise ValueError("training needs samples of at least two intents")
    # One BLAS/OpenMP thread: these small problems get several times slower when threads
    # compete with the web server, the worker or other processes for a couple of cores.
    with threadpool_limits(1):
        temperature = fit_temperature(texts, labels, config=config, seed=seed)
        pipeline = build_pipeline(config, seed=seed).fit(texts, labels)
    model = from_pipeline(pipeline, temperature=temperature, metadata={
        "n_samples": len(texts), "c": config.c, "min_df": config.min_df, "seed": seed,
        "calibration": "temperature", "calibration_folds": config.calibration_folds,
    })
    model.sklearn_pipeline = pipeline
    return model


def from_pipeline(pipeline: Pipeline, *, temperature: float = 1.0,
                  metadata: dict | None = None) -> IntentModel:
    """Export a fitted ``build_pipeline`` pipeline into the lean ``IntentModel``."""
    union: FeatureUnion = pipeline.named_steps["features"]
    word: TfidfVectorizer = dict(union.transformer_list)["word"]
    char: TfidfVectorizer = dict(union.transformer_list)["char"]
    clf: LogisticRegression = pipeline.named_steps["clf"]
    coef, intercept = clf.coef_, clf.intercept_
    if coef.shape[0] == 1:  # binary problem: scikit-learn keeps one row; make it a 2-class softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return IntentModel(
        classes=[str(c) for c in clf.classes_],
        word_vocab={str(k): int(v) for k, v in word.vocabulary_.items()},
        word_idf=word.idf_,
        char_vocab={str(k): int(v) for k, v in char.vocabulary_.items()},
        char_idf=char.idf_,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        metadata=metadata,
    )


def out_of_fold_logits(texts: Sequence[str], labels: np.ndarray, *, config: TrainingConfig = TrainingConfig(),
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of every sample from a model that did not see it; returns (logits, class names)."""
    classes = np.unique(labels)
    folds = min(config.calibration_folds, int(np.bincount(np.searchsorted(classes, labels)).min()))
    logits = np.zeros((len(texts), len(classes)))
    if folds < 2:
        return logits, classes
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    text_array = np.array(texts, dtype=object)
    for train_idx, test_idx in splitter.split(text_array, labels):
        pipeline = build_pipeline(config, seed=seed).fit(text_array[train_idx], labels[train_idx])
        fold_classes = pipeline.named_steps["clf"].classes_
        fold_logits = np.atleast_2d(pipeline.decision_function(text_array[test_idx]))
        if fold_logits.shape[0] != len(test_idx):
            fold_logits = fold_logits.T
        columns = np.searchsorted(classes, fold_classes)
        block = np.full((len(test_idx), len(classes)), -1e3)
        block[:, columns] = fold_logits if fold_logits.shape[1] == len(fold_classes) else \
            np.column_stack([-fold_logits[:, 0] / 2, fold_logits[:, 0] / 2])
        logits[test_idx] = block
    return logits, classes


def fit_temperature(texts: Sequence[str], labels: np.ndarray, *, config: TrainingConfig = TrainingConfig(),
                    seed: int = 0) -> float:
    """Temperature that minimizes the log-loss of the out-of-fold logits."""
    logits, classes = out_of_fold_logits(texts, labels, config=config, seed=seed)
    if not np.any(logits):
        return 1.0
    return temperature_for(logits, np.searchsorted(classes, labels))


def temperature_for(logits: np.ndarray, targets: np.ndarray) -> float:
    def nll(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(targets)), targets]))

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(math.exp(result.x))
