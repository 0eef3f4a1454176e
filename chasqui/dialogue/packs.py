"""Counts and presentations: which variant a count of items means.

A product sold in presentations ("unidad" / "media docena", "unidad" / "paquete x5") names them with
its own option values. A value that is only a count of items ("media docena", "docena", "12
unidades") is that many items; a value that is one item on its own ("unidad", "suelto", the words in
``cues.es.yaml`` ``single_item``) is one. So, with the presentation not said:

- "6 wantanes" of a product with a "media docena" value is 1 half-dozen ("12 wantanes": 2);
- "5 cuadernos" of a product with "unidad" and "paquete x5" is 5 units: a container ("paquete",
  "caja", "six pack") is chosen only when the customer names it (``variants.hits``);
- "media docena de wantanes" names the presentation: its words are never also a count of 6 of it;
- "un marlboro de 20" names the pack that holds 20 ("cajetilla x20"): a pack's size said after
  "de"/"x"/"por" picks it when one value of the option has that size.

Pure functions over the product's variant data; nothing here knows a catalog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from chasqui.dialogue.cues import cues, fold
from chasqui.domain import Product
from chasqui.nlu.measures import lexicon, unit_of
from chasqui.nlu.normalize import normalize
from chasqui.nlu.numbers import parse_quantities

__all__ = ["count_in_value", "pack_size", "said_size", "settle", "value_count"]

_SIZE_AFTER = re.compile(r"^[a-z]+(?: [a-z]+)?\s*(?:x|de|por)\s*(\d{1,4})$")  # "cajetilla x20", "caja de 12"
_SIZE_FIRST = re.compile(r"^(\d{1,4}) ([a-z]+)$")  # "12 colores"
_SIZE_LEADS = frozenset({"de", "x", "por"})


@lru_cache(maxsize=4096)
def value_count(value: str) -> int | None:
    """Items a variant value stands for when it is only a count: "media docena" 6, "docena" 12, "12
    unidades" 12, "unidad" 1. None for a container, a measure or anything else ("paquete x5", "six
    pack", "500 ml", a bare "36", which may be a size)."""
    words = fold(normalize(value)).split()
    single = {fold(w) for w in cues().get("single_item", ())}
    if not words:
        return None
    if " ".join(words) in single or all(w in single for w in words):
        return 1
    counted = words[:-1] if words[-1] in single else words
    if not counted or (counted is words and all(w.isdigit() for w in counted)):
        return None
    found = parse_quantities(counted)
    if len(found) != 1 or found[0].start != 0 or found[0].end != len(counted) or found[0].article:
        return None
    return found[0].value if found[0].value > 0 else None


def settle(product: Product, options: dict[str, str], quantity: int | None,
           open_values: dict[str, list[str]]) -> tuple[dict[str, str], int | None]:
    """The options and count that a count of items means, for the options not said (``open_values``:
    each open option with its values still possible). A count that is a whole number of a count
    value's items takes that value (the largest that fits); else a single-item value takes the count."""
    if quantity is None or quantity <= 0:
        return options, quantity
    settled = dict(options)
    for option, values in open_values.items():
        if option in settled:
            continue
        counts = {v: value_count(v) for v in values}
        packs = sorted(((c, v) for v, c in counts.items() if c and c > 1), reverse=True)
        chosen = next(((v, quantity // c) for c, v in packs if quantity % c == 0), None)
        if chosen is None:
            single = next((v for v, c in counts.items() if c == 1), None)
            chosen = (single, quantity) if single is not None else None
        if chosen is not None:
            settled[option], quantity = chosen
    return settled, quantity


def count_in_value(value_spans: Sequence[tuple[int, int]], words: Sequence[str], quantity: int) -> bool:
    """Whether the count ``quantity`` was read from the words of a named value ("media docena de
    wantanes": the presentation, not 6 of it)."""
    return any(q.value == quantity and any(s <= q.start < e for s, e in value_spans)
               for q in parse_quantities(list(words)))


@lru_cache(maxsize=4096)
def pack_size(value: str) -> int | None:
    """Items a pack value holds: a count value's ("media docena" 6), or the number of a container
    ("cajetilla x20" 20, "caja de 12" 12, "12 colores" 12); None for a measure ("500 ml", "1.5 L")."""
    counted = value_count(value)
    if counted:
        return counted
    folded = fold(value)
    match = _SIZE_AFTER.match(folded)
    if match:
        return int(match.group(1))
    match = _SIZE_FIRST.match(folded)
    if match and unit_of(match.group(2)) is None:
        return int(match.group(1))
    return None


def said_size(words: Sequence[str], values: Sequence[str]) -> str | None:
    """The value whose pack size the words say after "de"/"x"/"por" ("un marlboro de 20": the value
    "cajetilla x20"), when exactly one of ``values`` holds that many."""
    sizes: dict[int, list[str]] = {}
    for value in values:
        size = pack_size(value)
        if size and size > 1:
            sizes.setdefault(size, []).append(value)
    for k, word in enumerate(words):
        said = None
        if word in _SIZE_LEADS and k + 1 < len(words) and words[k + 1].isdigit():
            after = words[k + 2] if k + 2 < len(words) else ""
            if unit_of(after) is not None or after in lexicon().money_words:
                continue  # "de 20 kg", "de 20 soles": a measure, money
            said = int(words[k + 1])
        elif re.fullmatch(r"x\d{1,4}", word):
            said = int(word[1:])
        if said is not None and len(sizes.get(said, ())) == 1:
            return sizes[said][0]
    return None
