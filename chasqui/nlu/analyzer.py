"""The one entry point of the intent engine: raw customer text in, entities + intent out."""

from __future__ import annotations

from dataclasses import dataclass

from chasqui.nlu.classifier import IntentModel, Prediction
from chasqui.nlu.entities import CatalogMatcher, Entities
from chasqui.nlu.normalize import normalize


@dataclass(frozen=True)
class Analysis:
    text: str  # as received
    normalized: str  # ``normalize(text)``
    abstracted: str  # ``normalized`` with product mentions (and categories) replaced by placeholder tokens
    entities: Entities
    prediction: Prediction


def analyze(text: str, matcher: CatalogMatcher | None, model: IntentModel) -> Analysis:
    """Normalize, extract the tenant's entities, abstract product and category mentions, classify.

    Total on any ``str`` (empty, emoji only, very long, binary garbage); ``matcher`` may be
    ``None`` for a tenant without a catalog.
    """
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    normalized = normalize(raw)
    if matcher is None:
        entities, abstracted = Entities(), normalized
    else:
        entities = matcher.extract_normalized(normalized)
        abstracted = matcher.abstract(normalized, entities)
    return Analysis(raw, normalized, abstracted, entities, model.predict_normalized(abstracted))
