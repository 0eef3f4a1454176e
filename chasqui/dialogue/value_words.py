"""Option values named by what sets them apart, not by their whole text.

Customers seldom write an option value as the shop does. Three general ways are read here, all from
the tenant's own variant data and the language cues:

- by the number that only one value carries: "el de 20" / "x 20" for "cajetilla x20", "de 24" for
  "24 colores", "de 5" for "paquete x5";
- by a size word, when the values of an option are amounts: "la chica" is the smallest, "el grande"
  the largest ("cajetilla x10" of x10/x20, "500 ml" of 500 ml/1.5 L);
- by default, the single unit: a count of a product sold by the unit and in packs ("2 pilsen") is
  of the unit value ("unidad", "suelto"), unless the message names a pack.

Pure functions over the product and the folded words of the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from chasqui.dialogue.cues import cues, fold
from chasqui.domain import Product, Variant

_PIECE = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def pieces(value: str) -> list[str]:
    """A value's numbers and words, folded: "Cajetilla x20" → cajetilla, x, 20; "1.5 L" → 1.5, l."""
    return [p.replace(",", ".") if p[0].isdigit() else fold(p) for p in _PIECE.findall(value.lower())]


def value_number(value: str) -> str | None:
    """The one number written in a value ("cajetilla x20" → "20", "24 colores" → "24", "500 ml" →
    "500"); None when it has none or several, or is only a number (a size, read elsewhere)."""
    said = pieces(value)
    numbers = [p for p in said if p[0].isdigit()]
    if len(numbers) != 1 or said == numbers:
        return None
    return numbers[0]


def number_forms(product: Product) -> dict[tuple[str, ...], tuple[str, str]]:
    """Word sequences that name a value by its number ("de 20", "x 20", "por 20"), for numbers that
    only one value of the product carries."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for variant in product.variants:
        for option, value in variant.options.items():
            number = value_number(value)
            if number is not None:
                owners.setdefault(number, set()).add((option, value))
    leads = cues().get("value_number_leads", ())
    out: dict[tuple[str, ...], tuple[str, str]] = {}
    for number, pairs in owners.items():
        if len(pairs) == 1:
            pair = next(iter(pairs))
            for lead in leads:
                out[(*lead.split(), fold(number))] = pair  # "1.5" is read as the word "1 5"
    return out


@lru_cache(maxsize=1)
def _scales() -> dict[str, tuple[str, float]]:
    """Unit → (the unit it is measured in, the factor): "ml" → ("l", 0.001)."""
    out: dict[str, tuple[str, float]] = {}
    for entry in cues().get("unit_scale", ()):
        small, large, factor = entry.split()
        out[small] = (large, 1 / float(factor))
    return out


def magnitude(value: str) -> tuple[str, float] | None:
    """The amount a value stands for, in its larger unit: "500 ml" → ("l", 0.5), "1.5 L" → ("l", 1.5),
    "cajetilla x20" → ("", 20)."""
    number = value_number(value)
    if number is None:
        return None
    said = pieces(value)
    at = said.index(number)
    unit = said[at + 1] if at + 1 < len(said) and said[at + 1] in _units() else ""
    amount = float(number)
    if unit in _scales():
        unit, factor = _scales()[unit]
        amount *= factor
    return unit, amount


@lru_cache(maxsize=1)
def _units() -> frozenset[str]:
    return frozenset(pair.split()[0] for pair in cues().get("unit_spoken", ()))


def scaled(value: str) -> str | None:
    """An amount in a smaller unit written in the larger one, when that is how people say it: "500 ml" →
    "0.5 l", "250 ml" → "0.25 l"; None otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z]+)\s*", value)
    if not match or match.group(2).lower() not in _scales():
        return None
    large, factor = _scales()[match.group(2).lower()]
    amount = float(match.group(1).replace(",", ".")) * factor
    return f"{amount:g} {large}" if amount < 1 or amount == int(amount) or amount * 2 == int(amount * 2) else None


def size_pick(product: Product, word: str) -> tuple[str, str] | None:
    """ "chica" / "grande": the smallest / largest value of an option whose values are amounts of one
    unit; None when the word is no size word or no option is such."""
    small, large = set(cues().get("size_small", ())), set(cues().get("size_large", ()))
    if word not in small and word not in large:
        return None
    for option in product.variant_options:
        values = list(dict.fromkeys(v.options[option] for v in product.variants if option in v.options))
        sizes = [(magnitude(v), v) for v in values]
        if len(values) < 2 or any(m is None for m, _v in sizes) or len({m[0] for m, _v in sizes if m}) != 1:
            continue
        ordered = sorted(sizes, key=lambda pair: pair[0][1] if pair[0] else 0.0)
        return option, (ordered[0] if word in small else ordered[-1])[1]
    return None


def unit_value(product: Product, option: str, variants: Sequence[Variant]) -> str | None:
    """The value of ``option`` among ``variants`` that is the single unit ("unidad", "suelto"), when the
    others are packs of it."""
    units = set(cues().get("unit_values", ()))
    values = list(dict.fromkeys(v.options[option] for v in variants if option in v.options))
    found = [v for v in values if fold(v) in units]
    return found[0] if len(found) == 1 and len(values) > 1 else None


def unit_pick(product: Product, word: str) -> tuple[str, str] | None:
    """ "sueltos", "unidades": the single-unit value of the product's option that has one."""
    if word not in set(cues().get("unit_values", ())):
        return None
    for option in product.variant_options:
        unit = unit_value(product, option, product.variants)
        if unit is not None:
            return option, unit
    return None


def names_a_pack(words: Sequence[str]) -> bool:
    """The words name a pack of something ("caja", "six pack", "paquete"): no single unit by default."""
    packs = set(cues().get("pack_words", ()))
    return any(w in packs for w in words)
