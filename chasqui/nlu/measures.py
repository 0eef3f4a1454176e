"""Measures and money amounts in normalized Spanish text: "medio kilo", "kilo y medio", "1.5 kilos",
"250 gramos", "un cuarto", "tres cuartos", "2 metros y medio", "medio litro", "un kilito", "2 soles",
"s 10" (``S/ 10``), "una luca".

Language only: the unit, fraction and money words live in ``data/measures.es.yaml``; number words
("doscientos cincuenta", "veinticinco") are read by text2num. Which product a measure belongs to,
and what it means for that product (a weight, a money amount, a mistake), is decided by the caller
(``chasqui.dialogue.quantities``) with ``attached`` and ``in_unit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml
from text_to_num import text2num

from chasqui.nlu.numbers import NUMBER_WORDS

DATA_FILE = Path(__file__).with_name("data") / "measures.es.yaml"
_TOKEN_RE = re.compile(r"\S+")
_DECIMAL = re.compile(r"^\d{1,5}(?:[.,]\d{1,3})?$")
_HUNDREDS = re.compile(r"(?:cientos|cientas|mil)$")
_MAX_NUMBER_WORDS = 4


@dataclass(frozen=True)
class Measure:
    """A measure or a money amount said in the text."""

    value: Decimal  # in ``unit`` (a money amount when ``money``; in the product's own unit when no unit)
    unit: str | None  # canonical unit ("kg", "g", "l", "ml", "m", "cm"); None: no unit word
    money: bool  # "2 soles", "s 10"
    start: int  # character span in the normalized text
    end: int
    fraction: bool = False  # a fraction word said ("medio", "un cuarto")


_MAX_AFTER_GAP = 3  # words between a product and the measure said after it


@dataclass(frozen=True)
class _Lexicon:
    units: dict[str, str]  # word -> canonical unit
    dimension: dict[str, tuple[str, Decimal]]  # canonical unit -> (dimension, factor)
    fractions: dict[tuple[str, ...], Decimal]
    money_words: frozenset[str]
    money_prefixes: frozenset[str]
    gap_words: frozenset[str]
    after_gap_words: frozenset[str] = frozenset()


@lru_cache(maxsize=1)
def lexicon() -> _Lexicon:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    units: dict[str, str] = {}
    dimension: dict[str, tuple[str, Decimal]] = {}
    for canonical, (dim, factor, words) in data["units"].items():
        dimension[canonical] = (dim, Decimal(str(factor)))
        units.update({str(w): canonical for w in words})
    fractions = {tuple(str(k).split()): Decimal(str(v)) for k, v in data["fractions"].items()}
    return _Lexicon(units, dimension, fractions, frozenset(data["money_words"]),
                    frozenset(data["money_prefixes"]), frozenset(data["gap_words"]),
                    frozenset(str(w) for w in data.get("after_gap_words", ())))


def unit_of(text: str) -> str | None:
    """The canonical unit a product's unit text names ("kg", "Kilo", "litro" -> "kg", "kg", "l")."""
    words = (text or "").lower().replace(".", " ").split()
    return lexicon().units.get(words[0]) if words else None


def in_unit(measure: Measure, unit: str | None) -> Decimal | None:
    """The measure in ``unit`` (a product's canonical unit): "250 gramos" in kg is 0.25; a measure with
    no unit word is already in it. None: another dimension ("2 metros" of something sold by kg)."""
    if measure.unit is None or measure.unit == unit:
        return measure.value
    dims = lexicon().dimension
    said, wanted = dims.get(measure.unit), dims.get(unit or "")
    if said is None or wanted is None or said[0] != wanted[0]:
        return None
    return (measure.value * said[1] / wanted[1]).normalize()


def find_measures(normalized: str) -> list[Measure]:
    """Every measure and money amount in the text, in order, not overlapping."""
    matches = list(_TOKEN_RE.finditer(normalized))
    tokens = [m.group() for m in matches]
    found: list[Measure] = []
    i = 0
    while i < len(tokens):
        parsed = _parse_at(tokens, i)
        if parsed is None:
            i += 1
            continue
        value, unit, money, fraction, end = parsed
        found.append(Measure(value, unit, money, matches[i].start(), matches[end - 1].end(), fraction))
        i = end
    return found


def attached(normalized: str, measures: list[Measure], start: int, end: int) -> Measure | None:
    """The measure said for the mention at characters [start, end): right before it, across "de", "la"
    ("medio kilo de la pechuga"), or right after it with a unit or a fraction ("pechuga medio kilo",
    "la manguera nomas, metro y medio")."""
    gaps = lexicon().gap_words
    for measure in reversed(measures):
        if measure.end <= start and all(w in gaps for w in normalized[measure.end:start].split()):
            return measure
    after_gaps = lexicon().after_gap_words
    for measure in measures:
        between = normalized[end:measure.start].split()
        if measure.start >= end and len(between) <= _MAX_AFTER_GAP and all(w in after_gaps for w in between) \
                and (measure.unit or measure.fraction or measure.money):
            return measure
    return None


def _parse_at(tokens: list[str], i: int) -> tuple[Decimal, str | None, bool, bool, int] | None:
    lex = lexicon()
    token = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if token in lex.money_prefixes and _DECIMAL.match(nxt):  # "s 10" (S/ 10)
        return _decimal(nxt), None, True, False, i + 2
    fraction = _fraction_at(tokens, i)
    if fraction is not None:  # "medio kilo", "un cuarto de kilo", "tres cuartos"
        value, k = fraction
        if k < len(tokens) and tokens[k] in ("docena", "docenas"):
            return None
        if k + 1 < len(tokens) and tokens[k] == "de" and _unit_word(tokens[k + 1], after_number=True):
            k += 1  # "un cuarto de kilo"
        unit = _unit_word(tokens[k], after_number=True) if k < len(tokens) else None
        return value, unit, False, True, k + (1 if unit else 0)
    number = _number_at(tokens, i)
    if number is None:  # "kilo y medio", "kilo de azucar": one unit
        unit = _unit_word(token, after_number=False)
        if unit is None:
            return None
        value, k, half = _and_fraction(tokens, i + 1, Decimal(1))
        return value, unit, False, half, k
    value, k = number
    after = tokens[k] if k < len(tokens) else ""
    if after in lex.money_words:  # "dos soles", "una luca"
        money, k2, _ = _and_fraction(tokens, k + 1, value)
        return money, None, True, False, k2
    unit = _unit_word(after, after_number=True) if after else None
    if unit is not None:  # "2 kilos", "250 gramos", "2 metros y medio"
        total, k2, half = _and_fraction(tokens, k + 1, value)
        return total, unit, False, half, k2
    total, k2, half = _and_fraction(tokens, k, value)  # "2 y medio", or a bare number
    return total, None, False, half, k2


def _and_fraction(tokens: list[str], k: int, value: Decimal) -> tuple[Decimal, int, bool]:
    """ "... y medio", "... y cuarto" after a number or a unit."""
    if k + 1 < len(tokens) and tokens[k] == "y":
        extra = lexicon().fractions.get((tokens[k + 1],))
        if extra is not None:
            return value + extra, k + 2, True
    return value, k, False


def _fraction_at(tokens: list[str], i: int) -> tuple[Decimal, int] | None:
    fractions = lexicon().fractions
    for size in (2, 1):
        words = tuple(tokens[i : i + size])
        if len(words) == size and words in fractions:
            return fractions[words], i + size
    return None


def _unit_word(word: str, *, after_number: bool) -> str | None:
    """A unit word; a one- or two-letter abbreviation ("k", "g", "m") only right after a number."""
    unit = lexicon().units.get(word)
    if unit is None or (not after_number and len(word) <= 2):
        return None
    return unit


def _number_at(tokens: list[str], i: int) -> tuple[Decimal, int] | None:
    token = tokens[i]
    if _DECIMAL.match(token):
        return _decimal(token), i + 1
    if not (token in NUMBER_WORDS or _HUNDREDS.search(token)) or token in ("docena", "docenas", "par", "media"):
        return None
    for size in range(min(_MAX_NUMBER_WORDS, len(tokens) - i), 0, -1):
        words = tokens[i : i + size]
        if not all(w.isalpha() for w in words) or words[-1] == "y":
            continue
        try:
            return Decimal(text2num(" ".join(words), "es")), i + size
        except ValueError:
            continue
    return None


def _decimal(token: str) -> Decimal:
    try:
        return Decimal(token.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return Decimal(0)
