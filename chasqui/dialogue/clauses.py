"""Clauses of one message: which words belong to which product.

A message may name several things ("12 alitas bbq, 12 acevichadas y 2 coca de litro y medio"). The
catalog matcher finds the product mentions; this module fixes what belongs together before the
engine acts on them, so that a clause's quantity and variant values go to the product of that clause:

- a mention whose words are an option value of the product named right after it, joined only by
  "de"/"del"/"en" ("coca de litro y medio": the Coca-Cola flavour of the 1.5 L bottle, not a second
  drink), is part of that product's mention, its count included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from chasqui.dialogue.cues import fold
from chasqui.dialogue.variants import hits
from chasqui.domain import Product
from chasqui.nlu.analyzer import Analysis

_VALUE_LINKS = frozenset({"de", "del", "en", "la", "el"})


def join_value_mentions(analysis: Analysis, product_of: Callable[[str], Product | None]) -> Analysis:
    """The analysis with a mention that is only a variant value of the next product merged into it."""
    mentions = list(analysis.entities.products)
    if len(mentions) < 2:
        return analysis
    text = analysis.normalized
    kept = []
    k = 0
    changed = False
    while k < len(mentions):
        first = mentions[k]
        after = mentions[k + 1] if k + 1 < len(mentions) else None
        if after is not None and first.end <= after.start and first.sku != after.sku:
            between = fold(text[first.end:after.start]).split()
            product = product_of(after.sku)
            own = fold(text[first.start:first.end]).split()
            if (product is not None and product.variants and len(between) <= 2
                    and all(w in _VALUE_LINKS for w in between) and own
                    and any(h[0] == 0 and h[1] == len(own) for h in hits(product, own))):
                quantity = first.quantity if first.quantity is not None else after.quantity
                kept.append(dataclasses.replace(after, start=first.start, quantity=quantity))
                k += 2
                changed = True
                continue
        kept.append(first)
        k += 1
    if not changed:
        return analysis
    entities = dataclasses.replace(analysis.entities, products=tuple(kept))
    return dataclasses.replace(analysis, entities=entities)
