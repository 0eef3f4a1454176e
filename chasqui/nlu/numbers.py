"""Quantity expressions in normalized Spanish text: "2", "dos", "veintidos", "treinta y dos",
"una docena", "media docena", "dos docenas", "un par", "x3"; "0" is a quantity (zero items).

Works on the token list of a normalized text and returns token spans, so the entity extractor can
attach a quantity to the product mention it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_QUANTITY = 999

_UNITS = {
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}
_WORDS = {
    **_UNITS,
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
    "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "cien": 100,
}
_TENS = {"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
         "noventa": 90}
_ARTICLE_ONE = frozenset({"un", "una"})
_DOZEN = frozenset({"docena", "docenas"})
# A number followed by one of these is money, time or a measure, not a count of items.
_NOT_A_COUNT_AFTER = frozenset({"sol", "soles", "luca", "lucas", "pm", "am", "hr", "hrs", "hora", "horas",
                                "min", "minuto", "minutos", "dolares", "dolar", "porciento"})
_NOT_A_COUNT_BEFORE = frozenset({"s", "sl", "numero", "celular", "nro"})
_TIME_ARTICLES = frozenset({"la", "las"})
_TIME_PREPOSITIONS = frozenset({"a", "desde", "hasta", "entre", "de"})

NUMBER_WORDS = frozenset(_WORDS) | frozenset(_TENS) | _ARTICLE_ONE | _DOZEN | {"media", "par", "ciento"}


@dataclass(frozen=True)
class Quantity:
    value: int
    start: int  # first token index
    end: int  # one past the last token index
    article: bool = False  # a bare "un"/"una": 1 only when it is attached to a product


def parse_quantities(tokens: Sequence[str], skip: Sequence[bool] | None = None) -> list[Quantity]:
    """Every quantity expression in ``tokens`` (tokens flagged in ``skip`` are never read)."""
    found: list[Quantity] = []
    i, n = 0, len(tokens)
    while i < n:
        if skip is not None and skip[i]:
            i += 1
            continue
        quantity = _parse_at(tokens, i, skip)
        if quantity is None:
            i += 1
            continue
        found.append(quantity)
        i = quantity.end
    return found


def _free(tokens: Sequence[str], i: int, skip: Sequence[bool] | None) -> str | None:
    if i >= len(tokens) or (skip is not None and skip[i]):
        return None
    return tokens[i]


def _parse_at(tokens: Sequence[str], i: int, skip: Sequence[bool] | None) -> Quantity | None:
    token = tokens[i]
    nxt = _free(tokens, i + 1, skip)
    if token == "media" and nxt in _DOZEN:
        return Quantity(6, i, i + 2)
    if token in _DOZEN:
        return Quantity(12, i, i + 1)
    if token == "par" or (token in _ARTICLE_ONE and nxt == "par"):
        return Quantity(2, i, i + (1 if token == "par" else 2))
    if token in _ARTICLE_ONE:
        if nxt in _DOZEN:
            return Quantity(12, i, i + 2)
        return Quantity(1, i, i + 1, article=True)
    if token == "x" and nxt is not None and nxt.isdigit():
        value = _count(tokens, i + 1)
        return Quantity(value, i, i + 2) if value is not None else None
    value, end = _number(tokens, i, skip)
    if value is None:
        return None
    if not _is_count_context(tokens, i, end):
        return None
    if _free(tokens, end, skip) in _DOZEN:
        value, end = value * 12, end + 1
    if not 0 <= value <= MAX_QUANTITY:  # 0 is a count too: "quiero 0 alfajores" (none of them)
        return None
    return Quantity(value, i, end)


def _number(tokens: Sequence[str], i: int, skip: Sequence[bool] | None) -> tuple[int | None, int]:
    token = tokens[i]
    if token.isdigit():
        return (int(token) if len(token) <= 4 else None), i + 1
    if token in _WORDS:
        return _WORDS[token], i + 1
    if token in _TENS:
        if _free(tokens, i + 1, skip) == "y" and _free(tokens, i + 2, skip) in _UNITS:
            return _TENS[token] + _UNITS[tokens[i + 2]], i + 3
        return _TENS[token], i + 1
    return None, i + 1


def _count(tokens: Sequence[str], i: int) -> int | None:
    if len(tokens[i]) > 4:
        return None
    value = int(tokens[i])
    return value if 0 <= value <= MAX_QUANTITY else None


def _is_count_context(tokens: Sequence[str], start: int, end: int) -> bool:
    before = tokens[start - 1] if start > 0 else ""
    after = tokens[end] if end < len(tokens) else ""
    if before in _NOT_A_COUNT_BEFORE or after in _NOT_A_COUNT_AFTER:
        return False
    # "a las 5", "desde las 9": a time of day
    return not (before in _TIME_ARTICLES and start > 1 and tokens[start - 2] in _TIME_PREPOSITIONS)
