"""Catalog-driven entity extraction: products, quantities, payment methods, zones, categories.

Everything business-specific is read from the tenant's rows handed to ``CatalogMatcher``; the
module itself only knows ordinary Spanish (``lexicon``) and number words (``numbers``).

Matching works on normalized tokens folded by ``lexicon.stem`` (singular/plural, diminutives):
- a product *form* is the content words of its name or of one alias ("torta de chocolate" ->
  ``("torta", "chocolate")``);
- a text span matches a form exactly (same words, any order) or partially (an in-order part of
  it that carries its head word: "la tres leches", "el pie", or a modifier after "de": "la de
  chocolate");
- typos are read with rapidfuzz, never for short or ordinary words ("que", "hay", "para");
- the longest, then exact, then best-scoring span wins; a head word shared by several products
  ("empanadas") yields all of them as candidates;
- a span that is just a category name ("tortas") is a category, not a product;
- zones compete with products for the same words, so a zone is never read as a product (nor
  the other way round); words of zones and payment methods are never fuzzily read as products.
- a mention that names only the head of products ("pie", "martillo", "empanada", or the category
  word "torta") followed by "de <words>" that no product with that head has ("pie de manzana",
  "martillo de bola", "clavos de 3 pulgadas") is an unknown variant: its ``qualifier`` holds those
  words and its candidates are the products sharing the head ("no tenemos pie de manzana").
Quantities ("2", "0", "dos", "una docena", "media docena", "un par", "x3") attach to the product
right after them, across articles, "de", unit words ("3 cajas de alfajores") and size words.
Catalog words are compared with "ñ" read as "n" ("martillo de una" finds "Martillo de uña"), but
a written "uña" is never the article "una".
Payment methods are the tenant's codes, found by code, name words and well-known Peruvian
families ("te yapeé" -> yape, "transferí" -> the tenant's transfer method); a family the tenant
does not offer comes back under the family's name, so the dialogue can say it is not accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from chasqui.domain import DeliveryZone, PaymentMethod, Product, TenantSnapshot
from chasqui.nlu.lexicon import (
    ARTICLES,
    COMMON_WORDS,
    CONNECTORS,
    FUNCTION_WORDS,
    GEO_GENERIC,
    NOT_A_VARIANT,
    SIZE_WORDS,
    UNIT_WORDS,
    ZONE_ABBREVIATIONS,
    stem,
)
from chasqui.nlu.normalize import PRODUCT_TOKEN, fold_enye, normalize
from chasqui.nlu.numbers import NUMBER_WORDS, Quantity, parse_quantities

_TOKEN_RE = re.compile(r"\S+")
_CACHE_LIMIT = 50_000
_MAX_GAP = 4  # words allowed between a quantity and its product ("3 cajas grandes de alfajores")
_AFTER_QUANTITY_END = frozenset({"y", "e", "qmark", "exclam", "por", "mas", "nomas", "no", "porfa"})
_MODIFIER_LEADS = frozenset({"de", "del"})
_MAX_QUALIFIER_WORDS = 3


@dataclass(frozen=True)
class ProductMention:
    """One product mentioned in the text."""

    sku: str  # best match
    candidates: tuple[str, ...]  # every sku the words could mean, best first ("empanadas": EMP-CAR, EMP-POL)
    quantity: int | None  # written right before ("2 tortas", "media docena de") or after ("x3")
    score: float  # 0..100: 100 = a name or alias exactly (any typo or partial name scores less)
    start: int  # character span of the mention in the normalized text
    end: int
    # Words of an unknown variant ("manzana" in "pie de manzana"): the customer named the head of
    # ``candidates`` ("pie") but asked for a kind none of them is. None for a plain mention.
    qualifier: str | None = None


@dataclass(frozen=True)
class Entities:
    """What a message says about the tenant's catalog, in text order."""

    products: tuple[ProductMention, ...] = ()  # non-overlapping
    quantities: tuple[int, ...] = ()  # every quantity; a bare "un"/"una" only when attached to a product
    payment_methods: tuple[str, ...] = ()  # tenant method codes (or a known family: "yape", "plin", ...)
    zones: tuple[str, ...] = ()  # delivery zone names, as the tenant wrote them
    categories: tuple[str, ...] = ()  # catalog category names, as the tenant wrote them

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(m.sku for m in self.products)


# Well-known payment families of Peru; a tenant method joins a family when its code or name
# matches the family pattern. Patterns run on single normalized tokens.
_PAYMENT_FAMILIES: dict[str, re.Pattern[str]] = {
    "yape": re.compile(r"^yap(?:e|ea|ee|eo|ie|i|ear|eare|ar)\w*$|^yape$"),
    "plin": re.compile(r"^plin\w*$"),
    "transferencia": re.compile(
        r"^(?:transf\w*|trasf\w*|transfer\w*|deposit\w*|cci|bcp|interbank|bbva|scotiabank|scotia|banco|"
        r"bancaria|bancario)$"
    ),
    "tarjeta": re.compile(r"^(?:tarjet\w*|visa|mastercard|master|debito|credito|pos|amex|diners)$"),
    "efectivo": re.compile(r"^(?:efectiv\w*|cash|contraentrega|sencillo)$"),
}
_PAYMENT_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("contra", "entrega"), "efectivo"),
    (("al", "contado"), "efectivo"),
    (("link", "de", "pago"), "tarjeta"),
)
_PAYMENT_PHRASE_STARTS = frozenset(phrase[0] for phrase, _ in _PAYMENT_PHRASES)
_PAYMENT_GENERIC = frozenset({"contra", "entrega", "pago", "pagos", "link", "cuenta", "corriente"})


@dataclass(frozen=True)
class _Form:
    key: tuple[str, ...]  # stemmed content words, in name order
    owner: int

    @property
    def bag(self) -> tuple[str, ...]:
        return tuple(sorted(self.key))


@dataclass(frozen=True)
class _Span:
    kind: str  # "product" | "zone" | "category"
    i: int  # token range [i, j)
    j: int
    owners: tuple[int, ...]  # best first
    exact: bool
    size: int  # number of content words
    score: float
    content: tuple[str, ...] = ()  # the canonical (folded, stemmed) words matched
    qualifier: tuple[int, int] | None = None  # token range of an unknown variant's words

    def priority(self) -> tuple[int, int, float, int]:
        return (self.size, int(self.exact), self.score, -self.i)


class _FormIndex:
    """Forms of one kind of thing (products, zones, categories) and their vocabulary."""

    def __init__(self, forms: Iterable[_Form], *, fuzzy_min_len: int, blocked: frozenset[str]) -> None:
        self.forms = tuple(dict.fromkeys(f for f in forms if f.key))
        self._bags = tuple(f.bag for f in self.forms)
        self.by_token: dict[str, set[int]] = {}
        for fid, form in enumerate(self.forms):
            for token in form.key:
                self.by_token.setdefault(token, set()).add(fid)
        self.vocab = tuple(sorted(self.by_token))
        self.max_len = max((len(f.key) for f in self.forms), default=0)
        self.fuzzy_min_len = fuzzy_min_len
        self.blocked = blocked
        self._cache: dict[str, tuple[str, float] | None] = {}

    def canon(self, word: str, stemmed: str) -> tuple[str, float] | None:
        """The vocabulary word this text word stands for, with a similarity in 0..1."""
        if stemmed in self.by_token:
            return stemmed, 1.0
        if word in self.by_token:
            return word, 1.0
        if (len(word) < self.fuzzy_min_len or not word.isalpha() or word in COMMON_WORDS
                or stemmed in COMMON_WORDS or word in self.blocked or stemmed in self.blocked
                or word in NUMBER_WORDS):
            return None
        if stemmed in self._cache:
            return self._cache[stemmed]
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        max_edits = 1 if len(stemmed) <= 6 else 2
        found = process.extractOne(stemmed, self.vocab, scorer=OSA.distance, score_cutoff=max_edits)
        result = None
        if found is not None:
            result = (found[0], 1.0 - found[1] / max(len(found[0]), len(stemmed)))
        self._cache[stemmed] = result
        return result

    def match(self, content: Sequence[str]) -> list[tuple[_Form, bool, float]]:
        """Forms that ``content`` equals (exact) or is an in-order part of (partial), with coverage."""
        ids: set[int] | None = None
        for token in content:
            found = self.by_token.get(token, set())
            ids = set(found) if ids is None else ids & found
            if not ids:
                return []
        out = []
        wanted = tuple(sorted(content))
        for fid in sorted(ids or ()):
            form = self.forms[fid]
            if self._bags[fid] == wanted:
                out.append((form, True, 1.0))
            elif len(content) < len(form.key) and _is_subsequence(content, form.key):
                out.append((form, False, len(content) / len(form.key)))
        return out


def _is_subsequence(part: Sequence[str], whole: Sequence[str]) -> bool:
    it = iter(whole)
    return all(token in it for token in part)


def _is_slice(part: Sequence[str], whole: Sequence[str]) -> bool:
    k = len(part)
    return any(tuple(whole[s : s + k]) == tuple(part) for s in range(len(whole) - k + 1))


def name_key(name: str) -> tuple[str, ...]:
    """Stemmed content words of a catalog name or alias ("ñ" read as "n")."""
    return tuple(stem(w) for w in fold_enye(normalize(name)).split() if w not in CONNECTORS)


_UNIT_STEMS = frozenset(stem(w) for w in UNIT_WORDS)
_SIZE_STEMS = frozenset(stem(w) for w in SIZE_WORDS)


class CatalogMatcher:
    """Entity extractor for one tenant, built from its rows (cheap to build, immutable after)."""

    def __init__(
        self,
        products: Sequence[Product],
        payment_methods: Sequence[PaymentMethod] = (),
        zones: Sequence[DeliveryZone] = (),
        categories: Sequence[str] | None = None,
    ) -> None:
        self.products = tuple(products)
        self.payment_methods = tuple(payment_methods)
        self.zones = tuple(zones)
        names = categories if categories is not None else [p.category for p in self.products if p.category]
        self.categories = tuple(dict.fromkeys(c for c in names if c and c.strip()))

        self._category_keys = frozenset(tuple(sorted(name_key(c))) for c in self.categories)
        zone_forms = list(self._zone_forms())
        zone_words = frozenset(t for f in zone_forms for t in f.key)
        self._payment_keys, self._family_code = _payment_index(self.payment_methods)
        payment_words = frozenset(self._payment_keys)
        product_forms = [
            _Form(name_key(text), idx)
            for idx, product in enumerate(self.products)
            for text in (product.name, *product.aliases)
        ]
        product_words = frozenset(t for f in product_forms for t in f.key)
        self._product_forms = tuple(dict.fromkeys(f for f in product_forms if f.key))
        self._name_keys = tuple(name_key(product.name) for product in self.products)
        self._words_of: tuple[frozenset[str], ...] = tuple(
            frozenset(t for f in self._product_forms if f.owner == idx for t in f.key)
            for idx in range(len(self.products))
        )
        self._product_index = _FormIndex(product_forms, fuzzy_min_len=4, blocked=zone_words | payment_words)
        self._zone_index = _FormIndex(zone_forms, fuzzy_min_len=5, blocked=product_words | payment_words)
        self._category_index = _FormIndex(
            (_Form(name_key(c), idx) for idx, c in enumerate(self.categories)),
            fuzzy_min_len=6, blocked=zone_words | payment_words,
        )
        unit_words = {words[0] for words in (fold_enye(normalize(p.unit)).split() for p in self.products)
                      if words}
        self._unit_stems = _UNIT_STEMS | frozenset(stem(w) for w in unit_words if w.isalpha())
        self._category_words = frozenset(t for key in self._category_keys for t in key)

    @classmethod
    def from_snapshot(cls, snapshot: TenantSnapshot) -> CatalogMatcher:
        return cls(snapshot.products, snapshot.payment_methods, snapshot.delivery_zones)

    # -- public API ---------------------------------------------------------------------------

    def extract(self, text: str) -> Entities:
        """Entities in a raw customer text (normalized inside)."""
        return self.extract_normalized(normalize(text))

    def extract_normalized(self, normalized: str) -> Entities:
        """Entities in a text that already went through ``normalize``."""
        matches = list(_TOKEN_RE.finditer(normalized))
        if not matches:
            return Entities()
        words = [m.group() for m in matches]  # as written ("uña"): for ordinary-word checks
        folded = [fold_enye(w) for w in words]  # ("una"): for catalog look-ups
        stems = [stem(w) for w in folded]
        spans = self._select(
            self._spans("zone", self._zone_index, words, folded, stems)
            + self._spans("product", self._product_index, words, folded, stems)
        )
        spans = self._mark_unknown_variants(spans, words, folded, stems)
        taken = [False] * len(words)
        for span in spans:
            for k in range(span.i, span.j):
                taken[k] = True
        product_spans = [s for s in spans if s.kind == "product"]
        quantities = parse_quantities(words, taken)
        attached = self._attach_quantities(product_spans, quantities, words, taken)
        mentions = tuple(
            ProductMention(
                sku=self.products[s.owners[0]].sku,
                candidates=tuple(self.products[o].sku for o in s.owners),
                quantity=attached.get(idx).value if idx in attached else None,
                score=round(s.score, 2),
                start=matches[s.i].start(),
                end=matches[s.j - 1].end(),
                qualifier=" ".join(words[s.qualifier[0] : s.qualifier[1]]) if s.qualifier else None,
            )
            for idx, s in enumerate(product_spans)
        )
        used = {id(q) for q in attached.values()}
        return Entities(
            products=mentions,
            quantities=tuple(q.value for q in quantities
                             if not q.article or id(q) in used or self._counts_units(q, folded)),
            payment_methods=self._payments(folded),
            zones=tuple(dict.fromkeys(self.zones[s.owners[0]].name for s in spans if s.kind == "zone")),
            categories=self._categories(words, folded, stems),
        )

    def abstract(self, normalized_text: str, entities: Entities) -> str:
        """``normalized_text`` with every product mention replaced by the training placeholder token."""
        text = normalized_text
        for mention in sorted(entities.products, key=lambda m: m.start, reverse=True):
            if 0 <= mention.start < mention.end <= len(text):
                text = text[: mention.start] + PRODUCT_TOKEN + text[mention.end :]
        return text

    # -- forms ----------------------------------------------------------------------------------

    def _zone_forms(self) -> Iterable[_Form]:
        for idx, zone in enumerate(self.zones):
            key = name_key(zone.name)
            yield _Form(key, idx)
            words = [w for w in fold_enye(normalize(zone.name)).split() if w not in {"de", "del"}]
            if len(words) >= 3:  # "san juan de lurigancho" -> "sjl"
                yield _Form(("".join(w[0] for w in words),), idx)

    # -- spans ----------------------------------------------------------------------------------

    def _spans(self, kind: str, index: _FormIndex, words: list[str], folded: list[str],
               stems: list[str]) -> list[_Span]:
        if not index.forms:
            return []
        canon = [
            index.canon(ZONE_ABBREVIATIONS.get(w, w) if kind == "zone" else w, s)
            for w, s in zip(folded, stems, strict=True)
        ]
        spans: list[_Span] = []
        n = len(words)
        limit = index.max_len * 2 + 1
        for i in range(n):
            if canon[i] is None or words[i] in CONNECTORS or words[i].isdigit():
                continue
            content: list[str] = []
            sims: list[float] = []
            for j in range(i, min(n, i + limit)):
                if canon[j] is None:
                    if words[j] in CONNECTORS:
                        continue
                    break
                content.append(canon[j][0])
                sims.append(canon[j][1])
                span = self._evaluate(kind, index, words, i, j + 1, content, sims)
                if span is not None:
                    spans.append(span)
        return spans

    def _evaluate(self, kind: str, index: _FormIndex, words: list[str], i: int, j: int,
                  content: list[str], sims: list[float]) -> _Span | None:
        starts_with_number = words[i] in NUMBER_WORDS
        previous = words[i - 1] if i > 0 else ""
        sim = sum(sims) / len(sims)
        best: dict[int, tuple[bool, float]] = {}
        for form, exact, coverage in index.match(content):
            if not exact:
                if kind == "product" and not self._valid_product_part(content, words[i:j], form, previous):
                    continue
                if kind != "product" and not _has_distinctive(words[i:j], GEO_GENERIC):
                    continue
                if starts_with_number and not _is_slice(content, form.key):
                    continue
            elif len(content) == 1 and (starts_with_number or words[i] in FUNCTION_WORDS):
                continue  # "tres" alone is a number; a product called "Té" is not every "te"
            score = 100.0 * sim if exact else 100.0 * sim * (0.6 + 0.3 * coverage)
            previous_best = best.get(form.owner)
            if previous_best is None or (exact, score) > previous_best:
                best[form.owner] = (exact, score)
        if not best:
            return None
        owners = sorted(best, key=lambda o: (not best[o][0], -best[o][1], o))
        top_exact, top_score = best[owners[0]]
        return _Span(kind, i, j, tuple(owners), top_exact, len(content), top_score, tuple(content))

    def _valid_product_part(self, content: list[str], span_words: list[str], form: _Form,
                            previous: str) -> bool:
        if tuple(sorted(content)) in self._category_keys:
            return False  # "tortas" is the category, not one product
        if not any(_distinctive_product_word(w, c, self._unit_stems)
                   for w, c in zip([w for w in span_words if w not in CONNECTORS], content, strict=True)):
            return False
        if content[0] == form.key[0]:
            return True
        if len(content) >= 2 and _is_slice(content, form.key):
            return True
        return previous in _MODIFIER_LEADS

    @staticmethod
    def _select(spans: list[_Span]) -> list[_Span]:
        chosen: list[_Span] = []
        used: set[int] = set()
        for span in sorted(spans, key=lambda s: (s.priority(), s.kind == "zone"), reverse=True):
            if any(k in used for k in range(span.i, span.j)):
                continue
            chosen.append(span)
            used.update(range(span.i, span.j))
        return sorted(chosen, key=lambda s: s.i)

    # -- unknown variants ("pie de manzana") ----------------------------------------------------

    def _mark_unknown_variants(self, spans: list[_Span], words: list[str], folded: list[str],
                               stems: list[str]) -> list[_Span]:
        """Turn a head-only mention followed by "de <words>" that no product with that head has into
        an unknown-variant mention (qualifier set, candidates = the products sharing the head).

        A head is a product mention that names no product completely ("pie", "empanada", "llave de
        paso") or a bare category word that heads product names ("torta"). The qualifier's words
        absorb a weaker product mention they overlap ("martillo de bola": "bola" is no typo of "cola").
        """
        owner: dict[int, _Span] = {k: span for span in spans for k in range(span.i, span.j)}
        out: list[_Span] = []
        absorbed: set[int] = set()
        k = 0
        while k < len(words):
            span = owner.get(k)
            if span is not None and span.i != k:
                k += 1
                continue
            head = span if span is not None and span.kind == "product" else None
            if span is None:
                head = self._bare_head(k, words, folded, stems)
            marked = self._with_qualifier(head, owner, words, folded) if head is not None else None
            if marked is not None:
                out.append(marked)
                absorbed.update(id(owner[t]) for t in range(marked.i, marked.j) if t in owner)
                k = marked.j
                continue
            if span is not None:
                if id(span) not in absorbed:
                    out.append(span)
                k = span.j
            else:
                k += 1
        return out

    def _bare_head(self, k: int, words: list[str], folded: list[str], stems: list[str]) -> _Span | None:
        """A category word that heads product names and was not read as a product ("torta")."""
        if words[k] in FUNCTION_WORDS or folded[k] in NUMBER_WORDS:
            return None
        found = self._product_index.canon(folded[k], stems[k])
        if found is None or found[1] < 1.0 or (found[0],) not in self._category_keys:
            return None
        content = (found[0],)
        owners = self._head_owners(content)
        if not owners or not _distinctive_product_word(words[k], found[0], self._unit_stems):
            return None
        coverage = max(len(content) / len(f.key) for f in self._product_forms if f.owner in owners
                       and f.key[: len(content)] == content)
        return _Span("product", k, k + 1, owners, False, 1, 100.0 * (0.6 + 0.3 * coverage), content)

    def _head_owners(self, content: tuple[str, ...]) -> tuple[int, ...]:
        """Products with a name or alias that starts with ``content`` and goes on."""
        size = len(content)
        return tuple(dict.fromkeys(
            f.owner for f in self._product_forms if len(f.key) > size and f.key[:size] == content
        ))

    def _with_qualifier(self, head: _Span, owner: dict[int, _Span], words: list[str],
                        folded: list[str]) -> _Span | None:
        content = head.content
        if not content or any(self._name_keys[o] == content for o in head.owners):
            return None  # a product's whole name ("Pie" when the catalog sells one called so)
        sharing = self._head_owners(content)
        if not sharing:
            return None
        qualifier = self._qualifier_range(head, owner, words, folded)
        if qualifier is None:
            return None
        start, end = qualifier
        if not all(self._contradicts(o, words[start:end], folded[start:end]) for o in sharing):
            return None
        candidates = tuple(dict.fromkeys([*(o for o in head.owners if o in sharing), *sharing]))
        return _Span("product", head.i, end, candidates, False, head.size, head.score, content, qualifier)

    def _qualifier_range(self, head: _Span, owner: dict[int, _Span], words: list[str],
                         folded: list[str]) -> tuple[int, int] | None:
        """Token range of the "de <words>" right after ``head`` ("de manzana", "de 3 pulgadas").

        "del"/"de la ..." point at a thing, not a kind ("la torta de la vitrina"): never a variant.
        """
        n = len(words)
        k = head.j
        if k >= n or words[k] != "de":
            return None
        k += 1
        start = k
        while k < n and k - start < _MAX_QUALIFIER_WORDS:
            other = owner.get(k)
            if other is not None and (other.kind != "product" or other.exact):
                break  # a zone or another product named in full
            word = words[k]
            if word.isdigit():  # a number only before its measure ("de 3 pulgadas")
                if k + 1 >= n or not _qualifier_word(words[k + 1]):
                    break
            elif not _qualifier_word(word) or stem(folded[k]) in self._unit_stems \
                    or (len(word) < 3 and not words[k - 1].isdigit()):  # "w" only in "12 w"
                break
            k += 1
        return (start, k) if k > start else None

    def _contradicts(self, owner: int, words: list[str], folded: list[str]) -> bool:
        """True when ``words`` name a kind that product ``owner`` is not (by its name and aliases)."""
        known = self._words_of[owner]
        matched = [_names_word(stem(f), known) for f in folded]
        numbers = [w.isdigit() for w in words]
        if any(not m and not num for m, num in zip(matched, numbers, strict=True)):
            return True
        # "de 3 pulgadas" for "Clavos de 2 pulgadas": same measure, another number
        return any(not m and num for m, num in zip(matched, numbers, strict=True)) and \
            any(m and not num for m, num in zip(matched, numbers, strict=True))

    # -- quantities -----------------------------------------------------------------------------

    def _attach_quantities(self, spans: list[_Span], quantities: list[Quantity], words: list[str],
                           taken: list[bool]) -> dict[int, Quantity]:
        by_end = {q.end: q for q in quantities}
        by_start = {q.start: q for q in quantities}
        attached: dict[int, Quantity] = {}
        used: set[int] = set()
        for idx, span in enumerate(spans):
            position, gap = span.i, 0
            while True:
                quantity = by_end.get(position)
                if quantity is not None and id(quantity) not in used:
                    attached[idx] = quantity
                    used.add(id(quantity))
                    break
                if position == 0 or gap >= _MAX_GAP or taken[position - 1] \
                        or not self._is_gap_word(words[position - 1]):
                    break
                position, gap = position - 1, gap + 1
        for idx, span in enumerate(spans):
            quantity = by_start.get(span.j)
            if idx in attached or quantity is None or quantity.article or id(quantity) in used:
                continue
            after = words[quantity.end] if quantity.end < len(words) else ""
            if words[span.j] == "x" or not after or after in _AFTER_QUANTITY_END \
                    or stem(fold_enye(after)) in self._unit_stems:
                attached[idx] = quantity
                used.add(id(quantity))
        return attached

    def _counts_units(self, quantity: Quantity, folded: list[str]) -> bool:
        """A bare "un"/"una" right before a unit word counts ("ponle una caja más")."""
        return quantity.end < len(folded) and stem(folded[quantity.end]) in self._unit_stems

    def _is_gap_word(self, word: str) -> bool:
        stemmed = stem(fold_enye(word))
        return (word in ARTICLES or word in {"de", "del"} or stemmed in self._unit_stems
                or stemmed in _SIZE_STEMS or stemmed in self._category_words)

    # -- payment methods, categories ------------------------------------------------------------

    def _payments(self, words: list[str]) -> tuple[str, ...]:
        found: list[str] = []
        for k, word in enumerate(words):
            if word in _PAYMENT_PHRASE_STARTS:
                for phrase, family in _PAYMENT_PHRASES:
                    if tuple(words[k : k + len(phrase)]) == phrase:
                        found.append(self._family_code.get(family, family))
            code = self._payment_keys.get(word)
            if code is None:
                family = _family_of(word)
                if family is not None:
                    code = self._family_code.get(family, family)
            if code is None and len(word) >= 6 and word.isalpha() and word not in COMMON_WORDS \
                    and self._payment_keys:
                hit = process.extractOne(word, tuple(self._payment_keys), scorer=fuzz.ratio, score_cutoff=85)
                if hit is not None:
                    code = self._payment_keys[hit[0]]
            if code is not None:
                found.append(code)
        return tuple(dict.fromkeys(found))

    def _categories(self, words: list[str], folded: list[str], stems: list[str]) -> tuple[str, ...]:
        spans = self._select(self._spans("category", self._category_index, words, folded, stems))
        return tuple(dict.fromkeys(self.categories[s.owners[0]] for s in spans))


def _payment_index(methods: Sequence[PaymentMethod]) -> tuple[dict[str, str], dict[str, str]]:
    """(word of a method's code/name -> code, payment family -> code of the tenant method in it)."""
    keys: dict[str, str] = {}
    family_code: dict[str, str] = {}
    for method in methods:
        words = fold_enye(normalize(method.code.replace("_", " ")) + " " + normalize(method.name)).split()
        for word in words:
            family = _family_of(word)
            if family is not None:
                family_code.setdefault(family, method.code)
            if len(word) >= 3 and word not in COMMON_WORDS and word not in CONNECTORS \
                    and not word.isdigit() and word not in _PAYMENT_GENERIC:
                keys.setdefault(word, method.code)
    return keys, family_code


@lru_cache(maxsize=4096)
def _family_of(word: str) -> str | None:
    for family, pattern in _PAYMENT_FAMILIES.items():
        if pattern.match(word):
            return family
    return None


def _distinctive_product_word(word: str, canonical: str, unit_stems: frozenset[str]) -> bool:
    return (canonical not in unit_stems and word not in NUMBER_WORDS and not word.isdigit()
            and word not in COMMON_WORDS and len(canonical) >= 3)


def _has_distinctive(span_words: list[str], generic: frozenset[str]) -> bool:
    return any(len(w) >= 4 and w not in generic and w not in COMMON_WORDS and w not in CONNECTORS
               for w in span_words)


def _qualifier_word(word: str) -> bool:
    """A word that may name a kind of product ("manzana", "bola", "pulgadas"), not an ordinary one."""
    return (word.isalpha() and word not in FUNCTION_WORDS and word not in COMMON_WORDS
            and word not in SIZE_WORDS and word not in NUMBER_WORDS and word not in NOT_A_VARIANT)


def _names_word(stemmed: str, known: frozenset[str]) -> bool:
    """``stemmed`` is one of ``known`` or a plausible misspelling of one ("poyo" for "pollo")."""
    if stemmed in known:
        return True
    if len(stemmed) < 4:
        return False
    sound = _sound(stemmed)
    limit = 1 if len(stemmed) <= 6 else 2
    return any(
        _sound(word) == sound or OSA.distance(stemmed, word, score_cutoff=limit) <= limit
        for word in known if len(word) >= 4
    )


_SOUND_RULES = (("ll", "y"), ("v", "b"), ("z", "s"), ("ce", "se"), ("ci", "si"), ("qu", "k"), ("c", "k"),
                ("h", ""))


@lru_cache(maxsize=4096)
def _sound(word: str) -> str:
    """Rough Peruvian-Spanish sound of a word: spellings that sound alike meet ("poyo"/"pollo")."""
    for old, new in _SOUND_RULES:
        word = word.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", word)
