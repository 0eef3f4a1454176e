"""Modifiers and notes of a line ("el ceviche sin ají", "2 kilos de carne sin hueso, molida") and of
the whole order ("tocar el timbre").

A product's modifiers come from the snapshot (``Product.modifiers``: "sin ají", "extra pescado" at a
price); free notes are read with the language cues of ``cues.es.yaml`` (a lead word and what follows
it: "sin hueso", "bien cocido", "con poca sal"; "en presas", "para parrilla"; "molida"). What a note
says never adds a product nor changes another: a product word inside a note ("hueso" in "sin hueso",
"palta" in "con palta" when the sandwich has that modifier) is no item. "uno sin ají y otro normal"
is two lines of the same product. Pure functions over the normalized text and the snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from chasqui.dialogue.cues import cues
from chasqui.dialogue.order_notes import order_note  # noqa: F401  (its home before order_notes.py)
from chasqui.dialogue.pricing import cart_totals, merge_lines
from chasqui.domain import CartLine, Modifier, Product, Quantity
from chasqui.nlu.entities import ProductMention
from chasqui.nlu.normalize import fold_enye, normalize

_TOKEN_RE = re.compile(r"\S+")
_ARTICLES = frozenset({"el", "la", "los", "las", "un", "una", "de", "del", "mucho", "mucha"})
_MAX_FILLER = 3  # words between a product and its notes ("jugo de papaya grande, que sea sin azúcar")
_COUNT_WORDS = {"uno": 1, "una": 1, "otro": 1, "otra": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}
_CLAUSE_SPLIT = re.compile(r"[,;.\n]+|\by\b")
_HEAD_LINKS = frozenset({"con", "de", "a", "al", "en", "para"})  # "forrado con vinifán", "subida a piso"


@dataclass(frozen=True)
class LineNote:
    """One line a mention asks for: its count (None: the mention's own), modifiers and free notes."""

    count: int | None
    modifiers: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Notes:
    """The notes of a message: per mention index, the lines it asks for (only when it has notes or
    several lines); and the mentions that are words of a note, not items."""

    lines: dict[int, tuple[LineNote, ...]] = field(default_factory=dict)
    inside: frozenset[int] = frozenset()


@lru_cache(maxsize=16)
def _phrases(name: str) -> list[tuple[str, ...]]:
    return sorted((tuple(fold_enye(p).split()) for p in cues().get(name, ())), key=len, reverse=True)


@lru_cache(maxsize=1024)
def _modifier_keys(modifiers: tuple[Modifier, ...]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """A product's modifiers as normalized words, longest first."""
    keys = [(tuple(fold_enye(normalize(m.name)).split()), m.name) for m in modifiers]
    return tuple(sorted(keys, key=lambda pair: -len(pair[0])))


@lru_cache(maxsize=1)
def _cuts() -> frozenset[str]:
    return frozenset(cues().get("line_note_cuts", ()))


def _at(tokens: Sequence[str], k: int, phrases: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    return next((p for p in phrases if tuple(tokens[k : k + len(p)]) == p), None)


def _near(said: str, word: str) -> bool:
    """The same word, or one typo away in a word of 4 letters or more ("estra" for "extra")."""
    if said == word:
        return True
    if min(len(said), len(word)) < 4 or abs(len(said) - len(word)) > 1:
        return False
    if len(said) == len(word):
        return sum(a != b for a, b in zip(said, word, strict=True)) <= 1
    short, long_ = sorted((said, word), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _modifier_at(tokens: Sequence[str], k: int, modifiers: Sequence[tuple[tuple[str, ...], str]]
                 ) -> tuple[tuple[str, ...], str] | None:
    """The product's modifier said at token ``k`` (longest first, a typo tolerated per word)."""
    for key, name in modifiers:
        if key and k + len(key) <= len(tokens) and all(
                _near(tokens[k + n], w) for n, w in enumerate(key)):
            return key, name
    if k < len(tokens):
        for key, name in modifiers:
            if _said_by_head(key, modifiers) and _same_word(tokens[k], key[0]):
                return key[:1], name
    return None


def _said_by_head(key: tuple[str, ...], modifiers: Sequence[tuple[tuple[str, ...], str]]) -> bool:
    """Whether a modifier may be said by its first word alone: "<head> <connector> <complement>"
    ("forrado con vinifán": "forrados"; "subida a piso": "subida"), a head of 5 letters or more that
    is no note lead ("extra", "sin") and that no other modifier of the product starts with."""
    head = key[0] if key else ""
    return (len(key) >= 3 and key[1] in _HEAD_LINKS and head.isalpha() and len(head) >= 5
            and not any(head == lead[0] for lead in _phrases("line_note_leads"))
            and sum(1 for other, _n in modifiers if other and other[0] == head) == 1)


def _same_word(said: str, word: str) -> bool:
    """The same word in another gender or number ("forradas" for "forrado"), or one typo away."""
    return _near(said, word) or (len(word) >= 5 and _base(said) == _base(word))


def _base(word: str) -> str:
    word = word[:-1] if word.endswith("s") else word
    return word[:-1] if word[-1:] in ("o", "a") else word


@lru_cache(maxsize=1024)
def _variant_words(product: Product) -> frozenset[str]:
    """The words of the product's variant values ("doble", "personal"): part of the item, no note."""
    words: set[str] = set()
    for variant in product.variants:
        for value in variant.options.values():
            words.update(fold_enye(normalize(str(value))).split())
    return frozenset(w for w in words if w.isalpha())


def read_notes(normalized: str, mentions: Sequence[ProductMention],
               product_of: Callable[[str], Product | None]) -> Notes:
    """Read the notes after each product mention, up to the next item."""
    matches = list(_TOKEN_RE.finditer(normalized))
    tokens = [fold_enye(m.group()) for m in matches]
    if not mentions or not tokens:
        return Notes()
    starts = {m.start(): k for k, m in enumerate(matches)}
    ends = {m.end(): k + 1 for k, m in enumerate(matches)}
    spans = [(starts.get(m.start), ends.get(m.end)) for m in mentions]
    begins = {a: idx for idx, (a, _b) in enumerate(spans) if a is not None}
    leads, stops, skips = _phrases("line_note_leads"), _phrases("line_note_stops"), _phrases("line_note_skips")
    cuts, words = _cuts(), _phrases("line_note_words")
    inside: set[int] = set()
    lines: dict[int, tuple[LineNote, ...]] = {}
    for idx, (a, b) in enumerate(spans):
        if a is None or b is None or idx in inside:
            continue
        product = product_of(mentions[idx].sku)
        modifiers = _modifier_keys(product.modifiers) if product else ()
        own = _variant_words(product) if product else frozenset()
        segments: list[list] = [[None, [], []]]  # [count, modifiers, notes]
        k, filler, loose = b, 0, b  # loose: the first word not yet part of a note
        while k < len(tokens) and filler <= _MAX_FILLER:
            hit = _modifier_at(tokens, k, modifiers)  # the line's own modifiers first ("papas grandes")
            if hit is not None:
                segments[-1][1].append(hit[1])
                inside.update(_covered(begins, spans, k, k + len(hit[0])))
                k, filler = k + len(hit[0]), 0
                loose = k
                continue
            if k in begins and begins[k] != idx:
                break
            if _at(tokens, k, stops):
                break
            word = tokens[k]
            skip = _at(tokens, k, skips)
            if skip is not None or (word in own and k - b <= filler):  # "porfa", "doble" of "royal doble"
                k += len(skip) if skip else 1
                loose = k
                continue
            if word in _COUNT_WORDS and k != b and _note_follows(tokens, k + 1, modifiers, leads, words):
                if not segments[-1][1] and not segments[-1][2] and segments[-1][0] is None:
                    segments[-1][0] = _COUNT_WORDS[word]  # "2 salchis, una con extra huevo"
                else:
                    segments.append([_COUNT_WORDS[word], [], []])
                k, filler, loose = k + 1, 0, k + 1
                continue
            if word in ("y", "e") or (k == b and word in _COUNT_WORDS):
                j = k + 1 if word in ("y", "e") else k
                if j < len(tokens) and tokens[j] in _COUNT_WORDS and not (j + 1 < len(tokens) and j + 1 in begins):
                    count = _COUNT_WORDS[tokens[j]]
                    if k == b and word in _COUNT_WORDS and not segments[0][1] and not segments[0][2]:
                        segments[0][0] = count  # "2 ceviches, uno sin ají y otro normal"
                    else:
                        segments.append([count, [], []])
                    k, filler = j + 1, 0
                    continue
                if word in ("y", "e") and j < len(tokens) and (
                        _at(tokens, j, leads) or _at(tokens, j, words) or _modifier_at(tokens, j, modifiers)):
                    k = j  # "sin cebolla y bien cocido", "con extra queso y papas grandes"
                    loose = k
                    continue
                break
            if word in ("con", "de", "que", "y") and _modifier_at(tokens, k + 1, modifiers):
                k += 1  # "con extra pescado": the modifier "extra pescado"
                continue
            lead = _at(tokens, k, leads)
            if lead is not None:
                j = k + len(lead)
                while j < len(tokens) and tokens[j] in _ARTICLES:
                    j += 1
                if j < len(tokens) and tokens[j].isalpha() and tokens[j] not in ("y", "e") \
                        and not _at(tokens, j, stops) and not _at(tokens, j, leads):
                    segments[-1][2].append(" ".join(matches[t].group() for t in range(k, j + 1)))
                    inside.update(_covered(begins, spans, k, j + 1))
                    k, filler, loose = j + 1, 0, j + 1
                    continue
            if word in ("en", "para") and k + 1 < len(tokens) and tokens[k + 1] in cuts:
                segments[-1][2].append(f"{matches[k].group()} {matches[k + 1].group()}")
                inside.update(_covered(begins, spans, k, k + 2))
                k, filler, loose = k + 2, 0, k + 2
                continue
            single = _at(tokens, k, words)
            if single is not None:  # "con ají aparte": the whole phrase since the last note
                start = loose if k - loose <= _MAX_FILLER and not any(t in begins for t in range(loose, k)) else k
                segments[-1][2].append(" ".join(matches[t].group() for t in range(start, k + len(single))))
                k, filler, loose = k + len(single), 0, k + len(single)
                continue
            if word.isdigit():
                break
            k, filler = k + 1, filler + 1
        found = tuple(LineNote(count, tuple(dict.fromkeys(mods)), ", ".join(dict.fromkeys(notes)))
                      for count, mods, notes in segments)
        if len(found) > 1 or found[0].modifiers or found[0].notes:
            lines[idx] = found
    return Notes(lines, frozenset(inside))


def _note_follows(tokens: Sequence[str], k: int, modifiers: Sequence[tuple[tuple[str, ...], str]],
                  leads: list[tuple[str, ...]], words: list[tuple[str, ...]]) -> bool:
    """A note or modifier starts at ``k`` (after "con"/"de"/"que"): "una con extra huevo", "uno sin ají"."""
    if k < len(tokens) and tokens[k] in ("con", "de", "que"):
        k += 1
    return bool(_modifier_at(tokens, k, modifiers) or _at(tokens, k, leads) or _at(tokens, k, words))


def _covered(begins: dict[int, int], spans: list[tuple[int | None, int | None]], i: int, j: int) -> set[int]:
    return {idx for idx, (a, b) in enumerate(spans) if a is not None and b is not None and i <= a and b <= j}


def split_counts(lines: Sequence[LineNote], quantity: int) -> list[tuple[int, LineNote]]:
    """How many units each line of a mention gets: "un ceviche sin ají y otro normal" -> 1 and 1;
    "2 ceviches, uno sin ají y otro normal" -> 1 and 1; "3 ceviches sin ají" -> 3."""
    if not lines:
        return []
    if lines[0].count is None:  # the mention's own quantity, then each other line's count
        return [(quantity, lines[0])] + [(line.count or 1, line) for line in lines[1:]]
    counts = [line.count or 1 for line in lines]
    if sum(counts) < quantity:
        counts[-1] += quantity - sum(counts)
    return list(zip(counts, lines, strict=True))


def lines_of(cart: dict[str, Quantity], stored: Sequence[CartLine], additions: Sequence[CartLine]) -> list[CartLine]:
    """The cart's lines: the stored ones (kept as they were) for what was not added with notes this
    turn, then the lines added with notes or modifiers (joined with a line that has the same ones)."""
    annotated = cart_totals(additions)
    plain = {sku: qty - annotated.get(sku, 0) for sku, qty in cart.items()}
    out = merge_lines({sku: qty for sku, qty in plain.items() if Decimal(qty) > 0}, stored)
    left = {sku: qty - max(plain[sku], 0) for sku, qty in cart.items()}
    for add in additions:
        room = left.get(add.sku, 0)
        if Decimal(room) <= 0:
            continue
        quantity = min(add.quantity, room)
        left[add.sku] = room - quantity
        same = next((n for n, line in enumerate(out) if (line.sku, line.notes, line.modifiers)
                     == (add.sku, add.notes, add.modifiers)), None)
        if same is None:
            out.append(CartLine(add.sku, quantity, add.notes, add.modifiers))
        else:
            out[same] = CartLine(add.sku, out[same].quantity + quantity, add.notes, add.modifiers)
    return out


def annotated(lines: Sequence[CartLine], sku: str, note: LineNote) -> list[CartLine]:
    """The cart's lines of ``sku`` with a note said later added to what each already carries ("las
    salchis con cremas aparte" keeps the "extra huevo" of one of them)."""
    out = []
    for line in lines:
        if line.sku != sku:
            continue
        modifiers = tuple(dict.fromkeys((*line.modifiers, *note.modifiers)))
        notes = ", ".join(dict.fromkeys(n for n in (line.notes, note.notes) if n))
        out.append(CartLine(sku, line.quantity, notes, modifiers))
    return out


def cart_modifier(normalized: str, cart: Sequence[str], product_of: Callable[[str], Product | None],
                  last: str | None = None) -> tuple[str, LineNote] | None:
    """A modifier said on its own ("con subida a piso") of a product in the cart: the line it goes on
    (the last line touched first; else the one line whose product has it) and the note."""
    tokens = [fold_enye(t) for t in normalized.split()]
    order = [s for s in (last, *reversed(list(cart))) if s in cart]
    found: dict[str, str] = {}
    for sku in dict.fromkeys(order):
        product = product_of(sku)
        keys = tuple(k for k in _modifier_keys(product.modifiers) if len(k[0]) >= 2) if product else ()
        hit = next((h for k in range(len(tokens)) if (h := _full_modifier_at(tokens, k, keys))), None)
        if hit is not None:
            found[sku] = hit
    if not found:
        return None
    sku = next(iter(found)) if (last in found or len(found) == 1) else None
    return (sku, LineNote(None, (found[sku],))) if sku else None


def _full_modifier_at(tokens: Sequence[str], k: int, modifiers: Sequence[tuple[tuple[str, ...], str]]) -> str | None:
    for key, name in modifiers:
        if k + len(key) <= len(tokens) and all(_near(tokens[k + n], w) for n, w in enumerate(key)):
            return name
    return None
