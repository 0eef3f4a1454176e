"""Clauses of one message: which words belong to which product.

A message may name several things ("12 alitas bbq, 12 acevichadas y 2 coca de litro y medio"). The
catalog matcher finds the product mentions; this module fixes what belongs together before the
engine acts on them, so that a clause's quantity and variant values go to the product of that clause:

- a mention whose words are an option value of the product named right after it, joined only by
  "de"/"del"/"en" ("coca de litro y medio": the Coca-Cola flavour of the 1.5 L bottle, not a second
  drink), is part of that product's mention, its count included;
- a product named in two pieces side by side ("balón de 45 kilos solgas": "balón de 45 kilos" could
  be several, "solgas" too; one product is both) is one mention of the product both pieces can mean;
- a mention followed only by option values of its product ("agua sur recarga") keeps them: the value
  is no second product;
- a piece that only loosely matches a product's name but is an option value of the product in focus
  ("uno de recarga" after asking about a gas cylinder) is that value, no other product;
- a closing "los dos recarga" is a value of every product named before it, no product of its own;
- a mention that could mean several products is narrowed by the words of its clause that only one of
  them has in its name ("el de 45 de limagas": the 45 kg one, and 45 is no count; "un paquete de
  aguitas san luis": the pack).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from chasqui.dialogue.cues import cues, fold
from chasqui.dialogue.variants import hits
from chasqui.domain import Product
from chasqui.nlu.analyzer import Analysis
from chasqui.nlu.entities import ProductMention

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
            own = _words(text[first.start:first.end])
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


def _words(text: str) -> list[str]:
    """The words of a piece as the variant reader sees them ("1.5" stays one word)."""
    return [w for w in (fold(piece) for piece in text.split()) if w]


def settle(analysis: Analysis, product_of: Callable[[str], Product | None], focus: Product | None = None) -> Analysis:
    """Every rule of this module, in order."""
    joined = join_parts(join_value_mentions(analysis, product_of), product_of)
    return values_of_focus(shared_values(joined, product_of), focus)


def shared_values(analysis: Analysis, product_of: Callable[[str], Product | None]) -> Analysis:
    """Without a closing mention that is only option values said for every product before it ("un
    limagas y un san luis, los dos recarga": recarga of both, no third product)."""
    mentions = list(analysis.entities.products)
    if len(mentions) < 2:
        return analysis
    last = mentions[-1]
    before = fold(analysis.normalized[mentions[-2].end:last.start])
    if not any(f" {cue} " in f" {before} " for cue in cues().get("both", ())):
        return analysis
    own = _words(analysis.normalized[last.start:last.end])
    products = [p for m in mentions[:-1] if (p := product_of(m.sku)) is not None and p.variants]
    if not products or not own or not all(_all_values(p, own) for p in products):
        return analysis
    quantities = list(analysis.entities.quantities)
    if last.quantity is not None and last.quantity in quantities:
        quantities.remove(last.quantity)  # "los dos": both, no count
    entities = dataclasses.replace(analysis.entities, products=tuple(mentions[:-1]), quantities=tuple(quantities))
    return dataclasses.replace(analysis, entities=entities)


def _all_values(product: Product, words: list[str]) -> bool:
    """Every word is part of an option value of ``product``."""
    found = hits(product, words)
    return all(any(h[0] <= k < h[1] and h[4] for h in found) for k in range(len(words)))


def values_of_focus(analysis: Analysis, focus: Product | None) -> Analysis:
    """Without a mention that is only option values of the product in focus and not a product's own
    name ("ya mándame uno de recarga" after asking about a gas cylinder: not a water refill)."""
    if focus is None or not focus.variants:
        return analysis
    kept = []
    for mention in analysis.entities.products:
        own = _words(analysis.normalized[mention.start:mention.end])
        if mention.score < 100 and focus.sku not in (mention.sku, *mention.candidates) and own and _all_values(
                focus, own):
            continue
        kept.append(mention)
    if len(kept) == len(analysis.entities.products):
        return analysis
    return dataclasses.replace(analysis, entities=dataclasses.replace(analysis.entities, products=tuple(kept)))


def join_parts(analysis: Analysis, product_of: Callable[[str], Product | None]) -> Analysis:
    """The analysis with a product named in pieces made one mention, and each mention narrowed by the
    words of its clause."""
    mentions = list(analysis.entities.products)
    if not mentions:
        return analysis
    text = analysis.normalized
    joined: list[ProductMention] = []
    for mention in mentions:
        previous = joined[-1] if joined else None
        merged = _join_pair(text, previous, mention, product_of) if previous is not None else None
        if merged is not None:
            joined[-1] = merged
        else:
            joined.append(mention)
    quantities = list(analysis.entities.quantities)
    narrowed = []
    for k, mention in enumerate(joined):
        start = joined[k - 1].end if k else 0
        end = joined[k + 1].start if k + 1 < len(joined) else len(text)
        better = _narrow(text, start, end, mention, product_of)
        if better.quantity is None and mention.quantity is not None and mention.quantity in quantities:
            quantities.remove(mention.quantity)  # "el de 45": a number of the name, no count
        narrowed.append(better)
    if narrowed == mentions:
        return analysis
    entities = dataclasses.replace(analysis.entities, products=tuple(narrowed), quantities=tuple(quantities))
    return dataclasses.replace(analysis, entities=entities)


def _join_pair(text: str, first: ProductMention, after: ProductMention,
               product_of: Callable[[str], Product | None]) -> ProductMention | None:
    """One mention for two side by side that are one product, else None."""
    if first.end > after.start:
        return None
    between = fold(text[first.end:after.start]).split()
    if len(between) > 2 or any(w not in _VALUE_LINKS and w not in _units() for w in between):
        return None
    own = _words(text[after.start:after.end])
    product = product_of(first.sku)
    said = [*between, *own]  # "inca kola de 1.5": "de 1.5" names the 1.5 L
    if product is not None and product.variants and own and all(
            any(h[0] <= k < h[1] for h in hits(product, said)) for k in range(len(between), len(said))):
        return dataclasses.replace(first, end=after.end)  # "agua sur recarga": the value of the first
    if after.quantity is not None:
        return None
    shared = [s for s in first.candidates if s in after.candidates]
    if not shared or (len(first.candidates) == 1 and len(after.candidates) == 1 and first.sku != after.sku):
        return None
    return dataclasses.replace(first, sku=shared[0], candidates=tuple(shared), end=after.end,
                               score=max(first.score, after.score))


@lru_cache(maxsize=1)
def _units() -> frozenset[str]:
    """Units as written and said ("kg", "kilo", "kilos"): a piece of a product's name ("de 45 kilos")."""
    out: set[str] = set()
    for pair in cues().get("unit_spoken", ()):
        short, name = pair.split()
        out |= {short, name, name + "s"}
    return frozenset(out)


_WORD = re.compile(r"[a-z]{3,}|\d+")


def _name_words(product: Product) -> set[str]:
    return set(_WORD.findall(fold(product.name)))


def _narrow(text: str, start: int, end: int, mention: ProductMention,
            product_of: Callable[[str], Product | None]) -> ProductMention:
    """The mention narrowed to the one candidate whose name has a word of the clause that no other
    candidate's name has."""
    if len(mention.candidates) < 2:
        return mention
    products = [p for s in mention.candidates if (p := product_of(s)) is not None and p.sku == s]
    if len(products) != len(mention.candidates):
        return mention
    clause = _WORD.findall(fold(text[start:mention.start] + " " + text[mention.end:end]))
    names = {p.sku: _name_words(p) for p in products}
    picked = _only_owner(clause, names)
    if picked is None:
        return mention
    quantity = mention.quantity
    if quantity is not None and str(quantity) in names[picked] and str(quantity) in clause:
        quantity = None
    return dataclasses.replace(mention, sku=picked, candidates=(picked,), quantity=quantity)


def _only_owner(words: Sequence[str], names: dict[str, set[str]]) -> str | None:
    """The one product whose name has some of ``words`` that no other name has."""
    owners = {sku for w in words for sku in names if w in names[sku]
              and sum(w in other for other in names.values()) == 1}
    return next(iter(owners)) if len(owners) == 1 else None
