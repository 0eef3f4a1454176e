"""Catalog-driven entity extraction: products, quantities, payment methods, zones, categories.

Everything business-specific is read from the tenant's rows handed to ``CatalogMatcher``; the
module itself only knows ordinary Spanish (``lexicon``) and number words (``numbers``).

Matching works on normalized tokens folded by ``lexicon.stem`` (singular/plural, diminutives):
- a product *form* is the content words of its name or of one alias ("torta de chocolate" ->
  ``("torta", "chocolate")``, "soporte para carro" -> ``("soporte", "carro")``), also with a model
  number written the other way ("Redmi Note 12" / "note12", "Samsung A54" / "a 54");
- a text span matches a form exactly (same words, any order) or partially (an in-order part of
  it that carries its head word: "la tres leches", "el pie", or a modifier after "de": "la de
  chocolate"); connectors ("de", "para", "pal") and a possessive after them ("case para mi a54")
  sit inside a span without counting;
- typos are read with rapidfuzz, never for short or ordinary words ("que", "hay", "para"), and in
  words of up to five letters only as a plausible slip (``typos``: "torat", not "paga" for "papa");
  "ll" and "y" sound alike ("poyo", "rodiyo"); category names are read only through slips at any
  length ("sabado" is not "Salados");
- the longest, then exact, then best-scoring span wins; a head word shared by several products
  ("empanadas") yields all of them as candidates;
- a span that is just a category name ("tortas", "power banks" as the category writes it) is a
  category, not a product;
- a type word (a mention of several products, "funda", or a bare category word, "micas") followed
  by model words ("para mi a54", "pal 14") is one mention of the products that are both;
- a number right after a word the catalog numbers ("iphone 15", "note 12") names a model, never a
  quantity; "<dish> con <side>" is one mention when the dish's unit or description says the side
  comes with it ("medio pollo con papas y ensalada");
- zones compete with products for the same words, so a zone is never read as a product (nor
  the other way round); words of zones and payment methods are never fuzzily read as products.
- a mention that names only the head of products ("pie", "martillo", "empanada", or the category
  word "torta") followed by "de <words>" that no product with that head has ("pie de manzana",
  "martillo de bola", "clavos de 3 pulgadas") is an unknown variant: its ``qualifier`` holds those
  words and its candidates are the products sharing the head ("no tenemos pie de manzana"); so is
  "para <words>" where the catalog tells its products apart by "para" ("cargador para motorola"),
  a model number no product has ("case para iphone 12": qualifier "iphone 12") and one unknown
  word at the end of a clause after a product head ("¿tienen pollo broaster?").
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
    POSSESSIVES,
    SIZE_WORDS,
    UNIT_WORDS,
    ZONE_ABBREVIATIONS,
    stem,
)
from chasqui.nlu.normalize import CATEGORY_TOKEN, PRODUCT_TOKEN, fold_enye, normalize
from chasqui.nlu.numbers import NUMBER_WORDS, Quantity, parse_quantities
from chasqui.nlu.typos import plausible_typo

_TOKEN_RE = re.compile(r"\S+")
_CACHE_LIMIT = 50_000
_MAX_GAP = 4  # words allowed between a quantity and its product ("3 cajas grandes de alfajores")
_AFTER_QUANTITY_END = frozenset({"y", "e", "qmark", "exclam", "por", "mas", "nomas", "no", "porfa"})
_MODIFIER_LEADS = frozenset({"de", "del"})
# An unknown word right after a dish is a kind of it ("pollo broaster") only at the end of the
# message or of a clause ("¿tienen pollo broaster?", "pollo broaster tienen?"), not when it is a verb
# with a pronoun ("el pie, quitalo") or follows "¿qué <dish>...?" ("¿qué pollo recomiendas?").
_INTERROGATIVES = frozenset({"que", "cual", "cuales", "cuanto", "cuanta", "cuantos", "cuantas"})
_CLITIC_ENDINGS = ("alo", "ala", "alos", "alas", "ale", "ales", "amelo", "amela")
_CLAUSE_END = frozenset({"", "qmark", "exclam", "y", "o", "u", "tienen", "tienes", "hay", "venden", "vendes",
                         "tambien", "por", "porfa", "nomas", "no", "pues", "emo", "emo_pos", "emo_neg"})
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
    counted: bool = False  # starts with a number word ("un cuarto", "1 pollo")

    def priority(self) -> tuple[int, int, float, int, int]:
        # on a tie, a span that does not start with a number word: "un cuarto de pollo" is one
        # "cuarto de pollo", not "un cuarto" and "pollo"
        return (self.size, int(self.exact), self.score, int(not self.counted), -self.i)


class _FormIndex:
    """Forms of one kind of thing (products, zones, categories) and their vocabulary."""

    def __init__(self, forms: Iterable[_Form], *, fuzzy_min_len: int, blocked: frozenset[str],
                 strict_typos: bool = False) -> None:
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
        self.strict_typos = strict_typos  # every fuzzy match must look like a slip, whatever its length
        self._cache: dict[str, tuple[str, float] | None] = {}
        by_sound: dict[str, set[str]] = {}
        for token in self.vocab:
            if "ll" in token or "y" in token:
                by_sound.setdefault(_yeismo(token), set()).add(token)
        self._by_yeismo = {key: next(iter(found)) for key, found in by_sound.items() if len(found) == 1}

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
        max_edits = 1 if len(stemmed) <= 6 or self.strict_typos else 2
        found = process.extract(stemmed, self.vocab, scorer=OSA.distance, score_cutoff=max_edits, limit=8)
        result = None
        for candidate, distance, _index in sorted(found, key=lambda item: item[1]):
            if plausible_typo(stemmed, candidate, any_length=self.strict_typos):  # "paga" is not "papa"
                result = (candidate, 1.0 - distance / max(len(candidate), len(stemmed)))
                break
        if result is None and ("y" in stemmed or "ll" in stemmed):  # "rodiyo", "poyo": ll and y sound alike
            candidate = self._by_yeismo.get(_yeismo(stemmed))
            if candidate is not None and candidate != stemmed:
                result = (candidate, 1.0 - 1.0 / max(len(candidate), len(stemmed)))
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


def _surface(text: str) -> tuple[str, ...]:
    """The words of a name as written (normalized, without connectors): "Power banks" -> ("power", "banks")."""
    words = fold_enye(normalize(text)).split()
    return tuple(w for k, w in enumerate(words) if k == 0 or not _is_filler(words, k))


_PART_LEADS = frozenset({"a", "al"})


def _led_pairs(text: str) -> set[tuple[str, str]]:
    """(lead, word) for each word a name writes right after "a"/"al" ("impresión a color": ("a", "color"))."""
    words = fold_enye(normalize(text)).split()
    return {(words[k], words[k + 1]) for k in range(1, len(words) - 1)
            if words[k] in _PART_LEADS and words[k + 1].isalpha() and len(words[k + 1]) >= 3
            and words[k + 1] not in CONNECTORS}


def _yeismo(word: str) -> str:
    return word.replace("ll", "y")


def _is_subsequence(part: Sequence[str], whole: Sequence[str]) -> bool:
    it = iter(whole)
    return all(token in it for token in part)


def _is_slice(part: Sequence[str], whole: Sequence[str]) -> bool:
    k = len(part)
    return any(tuple(whole[s : s + k]) == tuple(part) for s in range(len(whole) - k + 1))


def name_key(name: str) -> tuple[str, ...]:
    """Stemmed content words of a catalog name or alias ("ñ" read as "n")."""
    return tuple(stem(w) for w in fold_enye(normalize(name)).split() if w not in CONNECTORS)


_GLUED_RE = re.compile(r"^([^\W\d_]+)(\d+)$")


def form_keys(name: str) -> tuple[tuple[str, ...], ...]:
    """``name_key`` of a name or alias, plus the same words with a model number written the other
    way: "Redmi Note 12" also as "redmi note12", "Samsung A54" also as "samsung a 54" (customers
    write both, and a number split off a model must not read as a quantity)."""
    key = name_key(name)
    keys = [key]
    words = [w for w in fold_enye(normalize(name)).split() if w not in CONNECTORS]
    for k, word in enumerate(words):
        glued = _GLUED_RE.match(word)
        if glued is not None:  # "a54" -> "a 54" (a connector letter is not written as a word)
            letters = () if glued.group(1) in CONNECTORS else (stem(glued.group(1)),)
            keys.append(key[:k] + letters + (glued.group(2),) + key[k + 1 :])
        elif word.isdigit() and k > 0 and words[k - 1].isalpha():  # "note 12" -> "note12"
            keys.append(key[: k - 1] + (words[k - 1] + word,) + key[k + 1 :])
    return tuple(dict.fromkeys(k for k in keys if k))


_UNIT_STEMS = frozenset(stem(w) for w in UNIT_WORDS)
_MODEL_WORD = re.compile(r"^[a-z]+\d+[a-z]*$")  # a54, s23, note12 (not 20w, 500ml: digits first)
_COUNT_LEADS = frozenset({"x", "de", "por", "pack", "caja", "set", "kit", "con", "n", "nro", "numero", "talla"})


def is_measure(word: str, unit_stems: frozenset[str] = _UNIT_STEMS) -> bool:
    """A unit after a number in a name ("500 ml", "1 m", "20 w", "10000 mah", "1 gal")."""
    return word.isalpha() and (len(word) <= 3 or stem(word) in unit_stems)


def model_tokens(name: str) -> set[str]:
    """Model designations in a product name: "a54", "note12", or a number after a word that is no
    measure ("iPhone 14", "13/14"); never sizes such as "500 ml", "1.5 L", "20W" or "N° 8"."""
    words = normalize(name).split()
    found: set[str] = set()
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if _MODEL_WORD.match(word):
            found.add(word)
        elif word.isdigit() and i > 0 and not is_measure(after) and not (after.isdigit() and len(after) == 1):
            before = words[i - 1]
            if (before.isalpha() and before not in _COUNT_LEADS) or before in found:
                found.add(word)
    return found
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
        self._category_surfaces = frozenset(_surface(c) for c in self.categories)
        zone_forms = list(self._zone_forms())
        zone_words = frozenset(t for f in zone_forms for t in f.key)
        self._payment_keys, self._family_code = _payment_index(self.payment_methods)
        payment_words = frozenset(self._payment_keys)
        product_forms = [
            _Form(key, idx)
            for idx, product in enumerate(self.products)
            for text in (product.name, *product.aliases)
            for key in form_keys(text)
        ]
        product_words = frozenset(t for f in product_forms for t in f.key)
        self._form_surfaces = frozenset(_surface(text) for p in self.products for text in (p.name, *p.aliases))
        # "a color" as a name or alias writes it ("impresión a color"): "10 a color" is a part of it
        self._led_parts = frozenset(
            (idx, *pair) for idx, p in enumerate(self.products) for text in (p.name, *p.aliases)
            for pair in _led_pairs(text))
        # What a product's unit and description say comes with it ("medio pollo con papas y ensalada")
        self._comes_with = tuple(
            frozenset(stem(w) for w in fold_enye(normalize(f"{p.unit} {p.description}")).split())
            for p in self.products
        )
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
            fuzzy_min_len=6, blocked=zone_words | payment_words, strict_typos=True,
        )
        # The first word of a unit ("rollo 10 m", "caja x 6") is a measure, unless the catalog names
        # products with it ("pollo entero con papas" is how a pollería describes its "1 Pollo").
        unit_words = {words[0] for words in (fold_enye(normalize(p.unit)).split() for p in self.products)
                      if words}
        # ... and so is the unit a name ends with in brackets ("Cartulina (pliego)": "10 pliegos de cartulina")
        name_units = {stem(w) for w in (_name_unit(p.name) for p in self.products) if w}
        self._unit_stems = _UNIT_STEMS | name_units | frozenset(
            stem(w) for w in unit_words if w.isalpha() and stem(w) not in product_words
        )
        self._category_words = frozenset(t for key in self._category_keys for t in key)
        # Head words the catalog tells apart by "para ..." ("Cargador para auto", "soporte para moto").
        self._para_heads = frozenset(
            stem(words[0]) for words in (fold_enye(normalize(text)).split()
                                         for product in self.products for text in (product.name, *product.aliases))
            if len(words) > 2 and words[1] == "para"
        )
        self._category_members = tuple(
            tuple(idx for idx, p in enumerate(self.products) if fold_enye(normalize(p.category)) == key)
            for key in (fold_enye(normalize(c)) for c in self.categories)
        )
        # Words the catalog follows with a model number ("iphone" 13, "note" 12, "band" 8), not with
        # a measure ("cola" 500 ml): a number after them names a model, never a quantity.
        self._model_words = frozenset(
            f.key[k] for f in self._product_forms for k in range(1, len(f.key) - 1)
            if f.key[k + 1].isdigit() and f.key[k] != "x" and f.key[k].isalpha()
            and not (k + 2 < len(f.key) and self._is_measure(f.key[k + 2]))
        )

    def _is_measure(self, word: str) -> bool:
        return is_measure(word, self._unit_stems)

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
        category_spans = self._select(self._spans("category", self._category_index, words, folded, stems))
        spans = [span for span in spans if not any(  # "power banks": the category, not a part of "power bank 20000"
            c.i <= span.i and span.j <= c.j and c.size > span.size and not span.exact for c in category_spans)]
        spans = self._narrow_by_type(spans, category_spans, words, folded, stems)
        spans = self._mark_unknown_variants(spans, words, folded, stems)
        spans = self._absorb_what_comes_with(spans, words)
        taken = [False] * len(words)
        for span in spans:
            for k in range(span.i, span.j):
                taken[k] = True
            if span.kind == "product" and span.j < len(words) and words[span.j].isdigit() \
                    and span.content and span.content[-1] in self._model_words:
                taken[span.j] = True  # "funda para iphone 15": a model the catalog lacks, not 15 fundas
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
            categories=tuple(dict.fromkeys(self.categories[s.owners[0]] for s in category_spans)),
        )

    def abstract(self, normalized_text: str, entities: Entities) -> str:
        """``normalized_text`` with every product mention replaced by the training placeholder token,
        and every category named outside them ("¿qué audífonos tienen?") by the category token: the
        classifier reads what is asked, not a business's own words it never saw in training."""
        places = [(m.start, m.end, PRODUCT_TOKEN) for m in entities.products
                  if 0 <= m.start < m.end <= len(normalized_text)]
        if entities.categories:
            places += [(start, end, CATEGORY_TOKEN) for start, end in self._category_places(normalized_text)
                       if not any(s < end and start < e for s, e, _ in places)]
        text = normalized_text
        for start, end, token in sorted(places, reverse=True):
            text = text[:start] + token + text[end:]
        return text

    def _category_places(self, normalized: str) -> list[tuple[int, int]]:
        matches = list(_TOKEN_RE.finditer(normalized))
        words = [m.group() for m in matches]
        folded = [fold_enye(w) for w in words]
        stems = [stem(w) for w in folded]
        spans = self._select(self._spans("category", self._category_index, words, folded, stems))
        return [(matches[s.i].start(), matches[s.j - 1].end()) for s in spans]

    # -- forms ----------------------------------------------------------------------------------

    def _zone_forms(self) -> Iterable[_Form]:
        for idx, zone in enumerate(self.zones):
            key = name_key(zone.name)
            yield _Form(key, idx)
            for alias in zone.aliases:  # "SMP", "san martin": the tenant's other names of the zone
                if name_key(alias):
                    yield _Form(name_key(alias), idx)
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
                if j > i and _is_filler(words, j):
                    continue
                if canon[j] is None:
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
        span_words = [words[k] for k in range(i, j) if k == i or not _is_filler(words, k)]
        span_surface = tuple(fold_enye(w) for w in span_words)
        sim = sum(sims) / len(sims)
        best: dict[int, tuple[bool, float]] = {}
        for form, exact, coverage in index.match(content):
            if kind == "product" and self._counts_after(form, content, words, j):
                continue  # "hielo 3 bolsas": 3 bags of "Bolsa de hielo 3 kg", not its "3"
            if not exact:
                if kind == "product" and not self._valid_product_part(content, span_words, form, previous):
                    continue
                if kind != "product" and not _has_distinctive(span_words, GEO_GENERIC):
                    continue
                if starts_with_number and not _is_slice(content, form.key):
                    continue
            elif len(content) == 1 and (starts_with_number or words[i] in FUNCTION_WORDS):
                continue  # "tres" alone is a number; a product called "Té" is not every "te"
            elif kind == "product" and span_surface in self._category_surfaces \
                    and span_surface not in self._form_surfaces:
                continue  # "power banks" as the category writes it, not the alias "power bank"
            score = 100.0 * sim if exact else 100.0 * sim * (0.6 + 0.3 * coverage)
            previous_best = best.get(form.owner)
            if previous_best is None or (exact, score) > previous_best:
                best[form.owner] = (exact, score)
        if not best:
            return None
        owners = sorted(best, key=lambda o: (not best[o][0], -best[o][1], o))
        top_exact, top_score = best[owners[0]]
        return _Span(kind, i, j, tuple(owners), top_exact, len(content), top_score, tuple(content),
                     counted=starts_with_number or words[i].isdigit())

    def _valid_product_part(self, content: list[str], span_words: list[str], form: _Form,
                            previous: str) -> bool:
        if tuple(sorted(content)) in self._category_keys:
            return False  # "tortas" is the category, not one product
        if (form.owner, previous, fold_enye(span_words[0])) in self._led_parts:
            return True  # "a color" as the name writes it ("impresión a color"), even with an ordinary word
        if not any(_distinctive_product_word(w, c, self._unit_stems)
                   for w, c in zip(span_words, content, strict=True)):
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

    # -- a type word narrowed by the words after it ("case para mi a54") -------------------------

    def _narrow_by_type(self, spans: list[_Span], category_spans: list[_Span], words: list[str],
                        folded: list[str], stems: list[str]) -> list[_Span]:
        """Join a type word and the model words right after it into one mention of the products that
        are both ("funda para a54": the A54's case, not every case nor every A54 product).

        The type word is a mention that names several products ("funda") or a bare category word
        ("micas"); the model words follow it across connectors ("para", "de", "pal", "para mi") and
        are words of those products' names or aliases, even of different ones ("mica pal 14").
        """
        owner = {k: span for span in spans for k in range(span.i, span.j)}
        anchors = [(span.i, span.j, span.owners) for span in spans
                   if span.kind == "product" and len(span.owners) > 1 and span.qualifier is None]
        anchors += [(span.i, span.j, self._category_members[span.owners[0]]) for span in category_spans
                    if not any(k in owner for k in range(span.i, span.j))]
        merged: list[_Span] = []
        for i, j, members in sorted(anchors):
            if merged and i < merged[-1].j:
                continue
            found = self._narrowed(i, j, members, spans, words, folded, stems)
            if found is not None:
                merged.append(found)
        if not merged:
            return spans
        kept = [span for span in spans if not any(m.i <= span.i and span.j <= m.j for m in merged)]
        return sorted(kept + merged, key=lambda span: span.i)

    def _narrowed(self, i: int, j: int, members: Sequence[int], spans: list[_Span], words: list[str],
                  folded: list[str], stems: list[str]) -> _Span | None:
        n = len(words)
        run: list[tuple[int, str]] = []
        k = j
        while k < n and len(run) < _MAX_QUALIFIER_WORDS and k - j <= 2 * _MAX_QUALIFIER_WORDS:
            if _is_filler(words, k):
                k += 1
                continue
            found = self._product_index.canon(folded[k], stems[k])
            if found is None or words[k] in FUNCTION_WORDS or words[k] in NUMBER_WORDS:
                break
            run.append((k, found[0]))
            k += 1
        for size in range(len(run), 0, -1):
            needed = {canonical for _, canonical in run[:size]}
            end = run[size - 1][0] + 1
            owners = tuple(o for o in members if needed <= self._words_of[o])
            if not owners or len(owners) == len(members):
                continue
            if any(span.i < end < span.j or (span.i < i < span.j) or (span.kind != "product" and span.i < end
                                                                       and span.j > i) for span in spans):
                continue  # would cut another mention in two, or swallow a zone
            inside = [span for span in spans if i <= span.i and span.j <= end and span.kind == "product"]
            ranked = [o for span in inside for o in span.owners if o in owners]
            owners = tuple(dict.fromkeys([*ranked, *owners]))
            content = self._content_of(i, j, folded, stems) + tuple(c for _, c in run[:size])
            return _Span("product", i, end, owners, False, len(content), 90.0, content)
        return None

    def _content_of(self, i: int, j: int, folded: list[str], stems: list[str]) -> tuple[str, ...]:
        words = [(folded[k], stems[k]) for k in range(i, j)]
        found = [self._product_index.canon(f, s) or self._category_index.canon(f, s) for f, s in words]
        return tuple(c[0] for c in found if c is not None)

    def _absorb_what_comes_with(self, spans: list[_Span], words: list[str]) -> list[_Span]:
        """"medio pollo con papas" is one dish when the product's unit or description says it comes
        with papas ("medio pollo con papas y ensalada"): the papas are no second item. "con una
        porción de papas" (a quantity) still is."""
        out: list[_Span] = []
        for span in spans:
            previous = out[-1] if out else None
            if previous is not None and previous.kind == "product" and span.kind == "product" \
                    and previous.qualifier is None and span.qualifier is None \
                    and words[previous.j : span.i] in (["con"], ["con", "el"], ["con", "la"], ["con", "los"],
                                                       ["con", "las"]) \
                    and all(set(span.content) <= self._comes_with[o] for o in previous.owners):
                out[-1] = _Span("product", previous.i, span.j, previous.owners, previous.exact, previous.size,
                                previous.score, previous.content)
                continue
            out.append(span)
        return out

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
            marked = self._with_qualifier(head, owner, words, folded, bare=span is None) \
                if head is not None else None
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
                        folded: list[str], *, bare: bool = False) -> _Span | None:
        content = head.content
        if not content or any(self._name_keys[o] == content for o in head.owners):
            return None  # a product's whole name ("Pie" when the catalog sells one called so)
        sharing = self._head_owners(content)
        if not sharing:
            return None
        qualifier = self._qualifier_range(head, owner, words, folded, bare=bare)
        if qualifier is None:
            return None
        start, end = qualifier
        if not all(self._contradicts(o, words[start:end], folded[start:end]) for o in sharing):
            return None
        candidates = tuple(dict.fromkeys([*(o for o in head.owners if o in sharing), *sharing]))
        return _Span("product", head.i, end, candidates, False, head.size, head.score, content, qualifier)

    def _qualifier_range(self, head: _Span, owner: dict[int, _Span], words: list[str],
                         folded: list[str], *, bare: bool = False) -> tuple[int, int] | None:
        """Token range of the words that qualify ``head``: "de <words>" ("de manzana", "de 3
        pulgadas"); "para <words>" where the catalog itself tells these products apart so ("cargador
        para motorola" next to "Cargador para auto"); a model number after a word the catalog numbers
        ("case pa iphone 12": the range is "iphone 12"); or one unknown word right after a product
        head that names no product in full ("pollo broaster"; not after a bare category word: "hacen
        tortas personalizadas?" asks about a service).

        "del"/"de la ..." point at a thing, not a kind ("la torta de la vitrina"): never a variant.
        """
        n = len(words)
        k = head.j
        if k >= n:
            return None
        if words[k].isdigit() and head.content and head.content[-1] in self._model_words:
            return (head.j - 1, k + 1) if owner.get(k) is None else None
        if words[k] == "para" and head.content and head.content[0] in self._para_heads:
            k += 1
            while k < n and k - head.j <= 2 and (words[k] in ARTICLES or words[k] in POSSESSIVES):
                k += 1  # "para el", "para mi"
        elif words[k] != "de":
            return None if bare else self._adjective_range(head, owner, words, folded)
        else:
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

    def _adjective_range(self, head: _Span, owner: dict[int, _Span], words: list[str],
                         folded: list[str]) -> tuple[int, int] | None:
        """One unknown word right after a head that names no product in full ("pollo broaster",
        "torta helada"), at the end of the clause. A word after a product named in full only
        describes it ("una inka helada")."""
        k = head.j
        if head.exact or owner.get(k) is not None or not _qualifier_word(words[k]) or len(words[k]) < 4 \
                or words[k].endswith(_CLITIC_ENDINGS):  # "ya no quiero el pie, quitalo"
            return None
        before = [w for w in words[max(0, head.i - 2) : head.i] if w not in ARTICLES]
        if before and before[-1] in _INTERROGATIVES:  # "¿qué pollo recomiendas?": a verb follows
            return None
        if stem(folded[k]) in self._unit_stems or self._product_index.canon(folded[k], stem(folded[k])):
            return None
        after = words[k + 1] if k + 1 < len(words) else ""
        return (k, k + 1) if after in _CLAUSE_END else None

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
            if self._led(span, words):
                position, gap = position - 1, 1  # "10 a color": the count before the name's own "a"
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

    def _counts_after(self, form: _Form, content: list[str], words: list[str], j: int) -> bool:
        """Whether a span ending on a number of the name is followed by a unit word the name does not
        write after that number: the number counts those units ("hielo 3 bolsas"), it is no part of
        the name ("hielo 3 kg" still is)."""
        if not content or not content[-1].isdigit() or j >= len(words) or content[-1] not in form.key:
            return False
        following = stem(fold_enye(words[j]))
        if following not in self._unit_stems:
            return False
        k = form.key.index(content[-1])
        return k + 1 >= len(form.key) or form.key[k + 1] != following

    def _led(self, span: _Span, words: list[str]) -> bool:
        """Whether a product span starts with a word its name writes after "a" and the text says that "a"
        right before it ("10 a color" for "Impresión a color")."""
        return span.i > 0 and any((owner, words[span.i - 1], fold_enye(words[span.i])) in self._led_parts
                                  for owner in span.owners)

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


_NAME_UNIT = re.compile(r"\((?:por\s+)?([^\W\d_]+)\)\s*$")


def _name_unit(name: str) -> str | None:
    """The unit a product's name ends with in brackets, one word alone or after "por": "Cartulina
    (pliego)" → "pliego", "Fotocopia (por página)" → "pagina"; none for "(medio pato)", "(4 unidades)"."""
    match = _NAME_UNIT.search(name.lower())
    return fold_enye(normalize(match.group(1))) if match else None


def _is_filler(words: Sequence[str], k: int) -> bool:
    """A word inside a mention that is not part of the name: a connector ("de", "para"), or a
    possessive after one ("case para mi a54")."""
    return words[k] in CONNECTORS or (words[k] in POSSESSIVES and k > 0 and words[k - 1] in CONNECTORS)


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
