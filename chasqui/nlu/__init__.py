"""Intent engine: normalization, catalog entities, intent classifier, training and evaluation."""
