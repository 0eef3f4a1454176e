"""Intent classifier: TF-IDF (word 1-2 + char_wb 2-5 n-grams) + logistic regression, calibrated.

Training (``chasqui.nlu.training_pipeline``) uses a plain scikit-learn ``Pipeline``. Calibration
is temperature scaling of the multinomial logits, with the temperature fitted on out-of-fold
logits (cross-validation), so a confidence of 0.9 means about nine in ten such predictions are
right.

Inference does not go through scikit-learn, and this module does not import it (nor
``scipy.optimize`` or threadpoolctl): after fitting, the vocabularies, idf weights, the linear
weights and the temperature are exported into plain dicts and numpy arrays, and one message is
featurized in Python (the same analyzers scikit-learn uses), scored with one gather + dot product
and a softmax. That is about 20x cheaper than ``pipeline.predict_proba`` on one string, and a
fresh process that only loads a model skips the second or so that scikit-learn takes to import.
The exported arrays are also the serialization format (``to_bytes``): an ``.npz`` without pickle,
behind a magic header and a sha256 checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chasqui.nlu.normalize import fold_enye, normalize

if TYPE_CHECKING:  # training-side types only; never imported at run time here
    from scipy import sparse
    from sklearn.pipeline import Pipeline

FORMAT_MAGIC = b"CHASQUI-INTENT-MODEL/1\n"
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"
DEFAULT_C = 30.0
DEFAULT_MIN_DF = 2
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
CALIBRATION_FOLDS = 3
TOP_K = 3

_WORD_RE = re.compile(WORD_TOKEN_PATTERN)
_WHITE_SPACES_RE = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    top: tuple[tuple[str, float], ...]  # best first, at most TOP_K


@dataclass(frozen=True)
class TrainingConfig:
    c: float = DEFAULT_C
    min_df: int = DEFAULT_MIN_DF
    calibration_folds: int = CALIBRATION_FOLDS
    max_iter: int = 3000


def prepare_text(text: str) -> str:
    """Training/inference text -> classifier input (``<prod>`` becomes the product token).

    The classifier reads "ñ" as "n" (``fold_enye``): customers write "manana" as often as
    "mañana". ``normalize`` is idempotent, so already normalized (and abstracted) text passes
    unchanged.
    """
    return fold_enye(normalize(text))


class IntentModel:
    """A trained intent model; ``predict`` takes the normalized, abstracted text of one message."""

    def __init__(
        self,
        classes: Sequence[str],
        word_vocab: dict[str, int],
        word_idf: np.ndarray,
        char_vocab: dict[str, int],
        char_idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float = 1.0,
        metadata: dict | None = None,
    ) -> None:
        self.classes = tuple(classes)
        self._word_vocab = word_vocab
        self._char_vocab = char_vocab
        self._word_idf = np.asarray(word_idf, dtype=np.float64)
        self._char_idf = np.asarray(char_idf, dtype=np.float64)
        self._word_idf_list = self._word_idf.tolist()
        self._char_idf_list = self._char_idf.tolist()
        self._n_word = len(word_vocab)
        coef = np.asarray(coef, dtype=np.float64)
        self._coef_t = np.ascontiguousarray(coef.T)  # features x classes: one row gather per feature
        self._intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self.metadata: dict = dict(metadata or {})
        self.sklearn_pipeline: Pipeline | None = None  # set by train_model; never serialized
        self._validate()

    # -- inference ------------------------------------------------------------------------------

    def predict(self, abstracted_text: str) -> Prediction:
        """Intent of one message (the text is normalized again, which is a no-op on normalized text)."""
        return self.predict_normalized(prepare_text(abstracted_text))

    def predict_normalized(self, normalized_text: str) -> Prediction:
        """Like ``predict`` for text that already went through ``normalize`` (skips that step)."""
        return self._prediction(self._proba_normalized(normalized_text))

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        return [self._prediction(row) for row in self.predict_proba(texts)]

    def predict_proba_one(self, text: str) -> np.ndarray:
        return self._proba_normalized(prepare_text(text))

    def _proba_normalized(self, text: str) -> np.ndarray:
        indices, values = self._features(fold_enye(text))
        logits = self._intercept.copy()
        if indices:
            logits += np.asarray(values) @ self._coef_t[indices]
        return _softmax(logits / self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (rows in ``texts`` order, columns in ``classes`` order)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes)))
        matrix = self.transform(texts)
        logits = np.asarray(matrix @ self._coef_t) + self._intercept
        return _softmax_rows(logits / self.temperature)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF features of many texts (same values as the scikit-learn ``FeatureUnion``)."""
        from scipy import sparse  # batch path only: one message never needs a sparse matrix

        prepared = [prepare_text(text) for text in texts]
        word = _tfidf_matrix([_word_ngrams(t) for t in prepared], self._word_vocab, self._word_idf)
        char = _tfidf_matrix([_char_wb_ngrams(t) for t in prepared], self._char_vocab, self._char_idf)
        return sparse.hstack([word, char], format="csr")

    def sklearn_predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The same probabilities through the fitted scikit-learn pipeline (reference path)."""
        if self.sklearn_pipeline is None:
            raise RuntimeError("this model was not trained in this process; no scikit-learn pipeline")
        logits = self.sklearn_pipeline.decision_function([prepare_text(t) for t in texts])
        return _softmax_rows(np.atleast_2d(logits) / self.temperature)

    def _prediction(self, probabilities: np.ndarray) -> Prediction:
        order = np.argsort(-probabilities, kind="stable")[:TOP_K]
        top = tuple((self.classes[i], float(probabilities[i])) for i in order)
        return Prediction(intent=top[0][0], confidence=top[0][1], top=top)

    def _features(self, text: str) -> tuple[list[int], list[float]]:
        word_idx, word_val = _block(_word_ngrams(text), self._word_vocab, self._word_idf_list, 0)
        char_grams = _char_wb_ngrams(text)
        char_idx, char_val = _block(char_grams, self._char_vocab, self._char_idf_list, self._n_word)
        return word_idx + char_idx, word_val + char_val

    # -- serialization --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Checksummed ``.npz`` (no pickle) of everything inference needs."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            classes=np.array(self.classes, dtype=np.str_),
            word_terms=_terms(self._word_vocab),
            word_idf=self._word_idf,
            char_terms=_terms(self._char_vocab),
            char_idf=self._char_idf,
            coef=np.ascontiguousarray(self._coef_t.T),
            intercept=self._intercept,
            temperature=np.array([self.temperature]),
            metadata=np.array([json.dumps(self.metadata, sort_keys=True)], dtype=np.str_),
        )
        payload = buffer.getvalue()
        digest = hashlib.sha256(payload).hexdigest().encode("ascii")
        return FORMAT_MAGIC + digest + b"\n" + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> IntentModel:
        """Load ``to_bytes`` output; ``ValueError`` on a wrong format, checksum or content."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError("intent model: expected bytes")
        data = bytes(data)
        header = len(FORMAT_MAGIC) + 65
        if len(data) <= header or not data.startswith(FORMAT_MAGIC) or data[header - 1 : header] != b"\n":
            raise ValueError("intent model: unknown format")
        digest, payload = data[len(FORMAT_MAGIC) : header - 1], data[header:]
        if hashlib.sha256(payload).hexdigest().encode("ascii") != digest:
            raise ValueError("intent model: checksum mismatch (corrupted or tampered artifact)")
        try:
            with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
                parts = {name: arrays[name] for name in arrays.files}
            return cls(
                classes=[str(c) for c in parts["classes"]],
                word_vocab={str(t): i for i, t in enumerate(parts["word_terms"])},
                word_idf=parts["word_idf"],
                char_vocab={str(t): i for i, t in enumerate(parts["char_terms"])},
                char_idf=parts["char_idf"],
                coef=parts["coef"],
                intercept=parts["intercept"],
                temperature=float(parts["temperature"][0]),
                metadata=json.loads(str(parts["metadata"][0])),
            )
        except (KeyError, IndexError, TypeError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(f"intent model: invalid content ({exc})") from exc

    def _validate(self) -> None:
        n_features = self._n_word + len(self._char_vocab)
        n_classes = len(self.classes)
        if n_classes < 2 or len(set(self.classes)) != n_classes:
            raise ValueError("intent model: need at least two distinct classes")
        if self._coef_t.shape != (n_features, n_classes) or self._intercept.shape != (n_classes,):
            raise ValueError("intent model: weight shapes do not match the vocabulary")
        if self._word_idf.shape != (self._n_word,) or self._char_idf.shape != (len(self._char_vocab),):
            raise ValueError("intent model: idf shapes do not match the vocabulary")
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError("intent model: temperature must be positive")
        for array in (self._coef_t, self._intercept, self._word_idf, self._char_idf):
            if not np.all(np.isfinite(array)):
                raise ValueError("intent model: non-finite weights")


# -- training (scikit-learn, imported only here) --------------------------------------------------


def train_model(samples: Sequence[tuple[str, str]], *, seed: int = 0,
                config: TrainingConfig = TrainingConfig()) -> IntentModel:
    """Fit, calibrate and export a model (see ``chasqui.nlu.training_pipeline.train_model``).

    scikit-learn is imported on this first call, never by loading or running a model.
    """
    from chasqui.nlu.training_pipeline import train_model as train

    return train(samples, seed=seed, config=config)


def expected_calibration_error(probabilities: np.ndarray, targets: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-1 confidence (equal-width bins)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        mask = (confidence > low) & (confidence <= high)
        if mask.any():
            error += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(error)


# -- lean featurization (mirrors scikit-learn's analyzers) -----------------------------------------


def _word_ngrams(text: str) -> list[str]:
    tokens = _WORD_RE.findall(text)
    grams = list(tokens)
    grams.extend(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return grams


def _char_wb_ngrams(text: str) -> list[str]:
    text = _WHITE_SPACES_RE.sub(" ", text)
    min_n, max_n = CHAR_NGRAMS
    grams: list[str] = []
    append = grams.append
    for word in text.split():
        w = f" {word} "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(w[offset : offset + n])
            while offset + n < w_len:
                offset += 1
                append(w[offset : offset + n])
            if offset == 0:
                break
    return grams


def _block(grams: list[str], vocab: dict[str, int], idf: list[float],
           offset: int) -> tuple[list[int], list[float]]:
    """One l2-normalized sublinear TF-IDF block of one text, as (indices, values)."""
    get = vocab.get
    found = sorted((i, c) for g, c in Counter(grams).items() if (i := get(g)) is not None)
    if not found:
        return [], []
    values = [idf[i] if c == 1 else (1.0 + math.log(c)) * idf[i] for i, c in found]
    norm = math.sqrt(math.fsum(v * v for v in values))
    return [i + offset for i, _ in found], [v / norm for v in values]


def _tfidf_matrix(docs: list[list[str]], vocab: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF-IDF rows, l2-normalized per row, for many texts at once."""
    from scipy import sparse

    indptr, indices, counts = [0], [], []
    get = vocab.get
    for grams in docs:
        for gram, count in Counter(grams).items():
            index = get(gram)
            if index is not None:
                indices.append(index)
                counts.append(count)
        indptr.append(len(indices))
    index_array = np.asarray(indices, dtype=np.int64)
    data = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * idf[index_array]
    matrix = sparse.csr_matrix((data, index_array, np.asarray(indptr, dtype=np.int64)),
                               shape=(len(docs), len(vocab)))
    matrix.sort_indices()
    rows = np.repeat(np.arange(len(docs)), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=matrix.data * matrix.data, minlength=len(docs)))
    norms[norms == 0.0] = 1.0
    matrix.data /= norms[rows]
    return matrix


def _terms(vocab: dict[str, int]) -> np.ndarray:
    terms = [""] * len(vocab)
    for term, index in vocab.items():
        terms[index] = term
    return np.array(terms, dtype=np.str_)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
