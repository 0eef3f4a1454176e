"""Changes to lines already in the cart: swaps, a count for one variant line, notes said later.

What a customer says about a line they already have never adds a second line:

- **replace** ("cambia el pollo por un kam lu", "cámbialo por el otro", "la gaseosa que sea coca", "una
  inka en vez de la coca", "cambia los 4 cuadriculados por un paquete de 5"): the old line leaves and
  the new product (or the same product's other variant) comes in, with the count said for it, else the
  old line's count; option values the new product shares with the old line are kept ("coca del mismo
  tamaño"). With nothing named before the swap word, the old line is the one in focus.
- **the line a count is about**, named only by its variant values ("los negros que sean 4" with blue,
  black and red pens in the cart): that line alone.
- **notes for lines in the cart** with no product named ("sin cebolla china los dos"): the line in
  focus takes the note; its count stays.
- **one more of the same** ("del mismo agrégame otro"): the cart's line of the product in focus, its
  variant included.

Pure functions over the turn (its words, entities, cart and memory) and the tenant snapshot; the
engine calls them from small hooks. Language cues live in ``cues.es.yaml``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from chasqui.dialogue import variants
from chasqui.dialogue.cues import cues, fold, has_cue, has_stem
from chasqui.dialogue.modifiers import LineNote, read_notes
from chasqui.domain import Product
from chasqui.nlu.entities import ProductMention
from chasqui.nlu.numbers import parse_quantities

if TYPE_CHECKING:
    from chasqui.dialogue.engine import Engine, Turn


@dataclasses.dataclass(frozen=True)
class _Cut:
    """Where a swap divides the message: the words about the old line and those about the new one."""

    old: tuple[int, int]  # word range (start, end) that names the old line
    new: tuple[int, int]  # word range that names what comes in
    lead: str  # "swap" (a swap verb), "instead" ("en vez de"), "becomes" ("que sea")


# -- which mention names which line --------------------------------------------------------------
def base_of(turn: Turn, sku: str) -> str:
    product = turn.tenant.product_of(sku)
    return product.sku if product is not None else sku


def mention_of_line(turn: Turn, sku: str) -> ProductMention | None:
    """The product mention that names cart line ``sku`` (its own SKU, or its product's for a variant line)."""
    base = base_of(turn, sku)
    return next((m for m in turn.entities.products if sku in (m.sku, *m.candidates) or base in (m.sku, *m.candidates)),
                None)


def _lines_of_product(turn: Turn, product_sku: str) -> list[str]:
    return [s for s in turn.cart if base_of(turn, s) == product_sku]


def focus_line(turn: Turn) -> str | None:
    """The cart line in focus: the last one touched, else the focus product's line, else a lone line."""
    memory = turn.memory
    last = memory.get("last_cart_sku")
    if last in turn.cart:
        return last
    focus = memory.get("focus_sku")
    lines = _lines_of_product(turn, focus) if focus else []
    if lines:
        return lines[-1]
    return next(iter(turn.cart)) if len(turn.cart) == 1 else None


# -- replace -------------------------------------------------------------------------------------
def _phrase_at(words: Sequence[str], k: int, name: str) -> int:
    """The length of the cue phrase ``name`` that starts at word ``k`` (0: none)."""
    for phrase in sorted((p.split() for p in cues().get(name, ())), key=len, reverse=True):
        if phrase and list(words[k:k + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _cut(words: Sequence[str]) -> _Cut | None:
    """The shape of a swap: "<swap verb> OLD por NEW", "NEW en vez de OLD", "OLD que sea NEW"."""
    n = len(words)
    swap_at = next((k for k, w in enumerate(words) if has_stem(w, "swap_stems")), None)
    if swap_at is not None:
        link = next((k for k in range(swap_at + 1, n) if words[k] in cues().get("swap_links", ())
                     and words[k + 1:k + 2] != ["favor"]), None)  # "por favor" links nothing
        if link is not None:
            return _Cut((0, link), (link + 1, n), "swap")
    for k in range(n):
        size = _phrase_at(words, k, "swap_instead")
        if size:
            return _Cut((k + size, n), (0, k), "instead")
    for k in range(1, n):
        size = _phrase_at(words, k, "swap_becomes")
        if size:
            return _Cut((0, k), (k + size, n), "becomes")
    return None


def _in_range(turn: Turn, spans: Sequence[tuple[int, int]], span: tuple[int, int]) -> list[ProductMention]:
    start, end = span
    if start >= end:
        return []
    low, high = spans[start][0], spans[end - 1][1]
    return [m for m in sorted(turn.entities.products, key=lambda m: m.start) if low <= m.start and m.end <= high]


def _narrowed(turn: Turn, lines: list[str], words: Sequence[str]) -> list[str]:
    """The lines whose variant values agree with every value ``words`` say of their product."""
    kept = []
    for sku in lines:
        sellable = turn.tenant.sellable(sku)
        if sellable is None or sellable.variant is None:
            kept.append(sku)
            continue
        said = [(h[2], h[3]) for h in variants.hits(sellable.product, list(words)) if h[4]]
        if all(sellable.variant.options.get(o) == v for o, v in said):
            kept.append(sku)
    return kept


def _old_line(turn: Turn, cut: _Cut, words: list[str], spans: list[tuple[int, int]]) -> str | None:
    said = words[cut.old[0]:cut.old[1]]
    named = _in_range(turn, spans, cut.old)
    lines: list[str] = []
    for mention in named:
        lines += [s for s in turn.cart if s == mention.sku or base_of(turn, s) in (mention.sku, *mention.candidates)]
    if named and not lines:
        return None  # the product named is not in the cart: nothing to replace
    if not lines:  # "los cuadriculados": the values of a line in the cart
        lines = [s for s in turn.cart if (p := turn.tenant.product_of(s)) is not None and p.variants
                 and any(h[4] for h in variants.hits(p, said))]
    if lines:
        lines = _narrowed(turn, list(dict.fromkeys(lines)), said)
        last = turn.memory.get("last_cart_sku")
        return last if last in lines else (lines[0] if lines else None)
    return None


def _unnamed_old_line(turn: Turn, new: Product) -> str | None:
    """ "cámbialo por el limagas": the line of the same kind as the new product (its category), else the
    line in focus."""
    focus = focus_line(turn)
    alike = [s for s in turn.cart if (p := turn.tenant.product_of(s)) is not None and p.sku != new.sku
             and fold(p.category) == fold(new.category)]
    if len(alike) == 1 or focus in alike:
        return alike[0] if len(alike) == 1 else focus
    return focus


def _closest(options: list[Product], old: Product) -> Product | None:
    """Of the products the new words may mean, the one most like the old line's ("el limagas" for a
    45 kg Solgas: the 45 kg Limagas): the most words of its name shared."""
    options = [p for p in options if p.sku != old.sku] or options
    if not options:
        return None
    old_words = set(fold(old.name).split())
    return max(options, key=lambda p: (len(old_words & set(fold(p.name).split())), -options.index(p)))


def _count_said(words: Sequence[str], product: Product | None) -> int | None:
    """The count written among ``words`` (never an option value's number: "paquete de 5")."""
    skip = [False] * len(words)
    if product is not None:
        for start, end, *_rest in variants.hits(product, list(words)):
            for k in range(start, end):
                skip[k] = True
    found = [q for q in parse_quantities(list(words), skip) if not skip[q.start]]
    return int(found[0].value) if found and float(found[0].value).is_integer() else None


def _carried(old: Product, old_sku: str, new: Product) -> dict[str, str]:
    """The old line's option values the new product also sells ("coca del mismo tamaño")."""
    variant = old.variant(old_sku)
    if variant is None or not new.variants:
        return {}
    return {o: v for o, v in variant.options.items() if o in new.variant_options and variants.matching(new, {o: v})}


def replace(engine: Engine, turn: Turn) -> bool:
    """Replace a cart line with another product or variant; True when the message was a swap (done, or
    a question asked about the new product's variant)."""
    if not turn.cart or has_stem(turn.folded, "remove_stems"):
        return False
    words, spans = variants._tokens(turn)
    cut = _cut(words)
    if cut is None:
        return False
    new_words = words[cut.new[0]:cut.new[1]]
    new_mentions = _in_range(turn, spans, cut.new)
    options = engine.products_of(new_mentions[0], turn) if new_mentions else []
    old_sku = _old_line(turn, cut, words, spans)
    if old_sku is None and options and cut.lead != "becomes" and not _in_range(turn, spans, cut.old):
        old_sku = _unnamed_old_line(turn, options[0])  # "cámbialo por el limagas"
    old_sellable = turn.tenant.sellable(old_sku) if old_sku else None
    if old_sku is None or old_sellable is None:
        return False
    old_product = old_sellable.product
    new_product = _closest(options, old_product) if options else None
    own_values = any(h[4] for h in variants.hits(old_product, new_words))
    if new_product is None or new_product.sku == old_product.sku or (cut.lead == "becomes" and own_values):
        if not own_values:
            return False
        new_product = old_product  # "los cuadriculados por un paquete de 5": another variant of the line
    elif cut.lead == "becomes" and (new_product.sku in {base_of(turn, s) for s in turn.cart}
                                    or fold(new_product.category) != fold(old_product.category)):
        return False  # "que sea" of a product already there, or of another kind of thing: not a swap
    current = turn.cart[old_sku]
    old_count = _count_said(words[cut.old[0]:cut.old[1]], old_product)
    keep = current - old_count if old_count and old_count < current else 0  # "cambia 2 de las 6 cristal por..."
    quantity = _count_said(new_words, new_product) or current - keep
    sku = _new_sku(engine, turn, old_product, old_sku, new_product, new_words, quantity)
    if sku is None:
        return True  # a question about the new product's variant was asked; the old line stays
    if sku == old_sku and (keep or quantity == current):
        return False
    _swap_line(engine, turn, (old_sku, keep), sku, quantity)
    return True


def swapped(turn: Turn) -> bool:
    """The turn replaced a line (a swap's "cambia" is no question about the shop's exchange policy)."""
    return turn.cart != turn.state.cart and _cut(variants.words_of(turn)) is not None


def _new_sku(engine: Engine, turn: Turn, old: Product, old_sku: str, new: Product, words: Sequence[str],
             quantity: int) -> str | None:
    if not new.variants:
        return new.sku
    base = _carried(old, old_sku, new)
    found = variants.requests(new, list(words), quantity, base) or [variants.Request(new, base, {}, quantity)]
    request = found[0]
    request.quantity = quantity
    return variants.resolve(engine, turn, request, adding=True).sku


def _swap_line(engine: Engine, turn: Turn, old: tuple[str, int], new_sku: str, quantity: int) -> None:
    """``old``: the line and how many of it stay (0: all of it goes)."""
    old_sku, keep = old
    old_name = turn.tenant.sellable(old_sku).name  # type: ignore[union-attr]
    if keep:
        old_name = f"{turn.cart[old_sku] - keep} × {old_name}"
    new = turn.tenant.sellable(new_sku)
    if new is None:
        return
    have = turn.cart.get(new_sku, 0) if new_sku != old_sku else 0
    take = min(quantity, max(new.stock - have, 0))
    if take <= 0:
        turn.reply("agotado", product=new.name)
        return
    if take < quantity:
        turn.reply("stock_parcial", product=new.name, stock=new.stock)
    if keep:
        turn.cart[old_sku] = keep
        turn.cart[new_sku] = have + take
    else:
        in_place = {(new_sku if sku == old_sku else sku): qty for sku, qty in turn.cart.items() if sku != new_sku}
        in_place[new_sku] = have + take  # the new line where the old one was
        turn.cart.clear()
        turn.cart.update(in_place)
    turn.memory["last_cart_sku"] = new_sku
    turn.memory["focus_sku"] = new.product.sku
    turn.memory["last_skus"] = [new.product.sku]
    turn.reply("variante_cambiada", old=old_name, new=f"{take} × {new.name}" if take > 1 else new.name)
    engine._append_total(turn)


# -- the line a count or a note is about ------------------------------------------------------------
def line_by_values(engine: Engine, turn: Turn) -> str | None:
    """ "los negros que sean 4": the one cart line of the product talked about whose variant values the
    message says, when it also says a count."""
    if not turn.entities.quantities:
        return None
    words = variants.words_of(turn)
    products = [p for m in turn.entities.products if (p := turn.tenant.product(m.sku)) and p.variants]
    products = products or [p for p in [variants.focus_product(engine, turn)] if p]
    for product in products:
        said = [h for h in variants.hits(product, words) if h[4]]
        lines = _lines_of_product(turn, product.sku)
        if not said or len(lines) < 2:
            continue
        matched = _narrowed(turn, lines, words)
        if len(matched) == 1:
            return matched[0]
    return None


def note_on_lines(engine: Engine, turn: Turn) -> bool:
    """A note or modifier with no product named ("sin cebolla china los dos"): the line in focus takes
    it, count unchanged. False when the message says anything else (a count of its own, a product)."""
    folded = turn.folded
    if not turn.cart or turn.entities.products or has_cue(folded, "another") or has_stem(folded, "add_stems"):
        return False  # "ponme otro sin cebolla": one more, with its note
    line = focus_line(turn)
    if line is None:
        return False
    product_sku = base_of(turn, line)
    probe = f"x {turn.analysis.normalized}"  # the note read as if said right after the product
    mention = ProductMention(sku=product_sku, candidates=(product_sku,), quantity=None, score=100.0, start=0, end=1)
    found = read_notes(probe, [mention], turn.tenant.product_of).lines.get(0, ())
    if len(found) != 1 or not (found[0].modifiers or found[0].notes):
        return False
    counts = [int(q) for q in turn.entities.quantities if float(q).is_integer()]
    if any(c != turn.cart[line] for c in counts) and not has_cue(turn.folded, "all_of_them"):
        return False  # "2 sin cebolla" of 3: a split, not a note for the whole line
    note = LineNote(None, found[0].modifiers, found[0].notes)
    for sku in _lines_of_product(turn, product_sku) if has_cue(turn.folded, "all_of_them") else [line]:
        engine._annotate_line(turn, sku, note)
    return True


def same_line(turn: Turn, skus: list[str]) -> list[str]:
    """ "del mismo agrégame otro": a product referred to, when it has a line in the cart, is that line
    (its variant included), so one more of it is never a question about its options."""
    if not has_cue(turn.folded, "same_again"):
        return skus
    out = []
    for sku in skus:
        product = turn.tenant.product_of(sku)
        lines = _lines_of_product(turn, product.sku) if product is not None and product.variants else []
        last = turn.memory.get("last_cart_sku")
        out.append(last if last in lines else (lines[-1] if lines else sku))
    return out


def same_as_cart(turn: Turn) -> None:
    """ "del mismo agua ponme otro pero recarga": a loose mention (no exact name) said with "del mismo"
    is the cart's product of that kind (its category), not another brand the words half match."""
    if not has_cue(turn.folded, "same_again") or not turn.cart:
        return
    mentions = list(turn.entities.products)
    changed = False
    for k, mention in enumerate(mentions):
        product = turn.tenant.product(mention.sku)
        if product is None or mention.score >= 100 or mention.sku in {base_of(turn, s) for s in turn.cart}:
            continue
        alike = list(dict.fromkeys(base_of(turn, s) for s in turn.cart
                                   if (p := turn.tenant.product_of(s)) and fold(p.category) == fold(product.category)))
        if len(alike) == 1:
            mentions[k] = dataclasses.replace(mention, sku=alike[0], candidates=(alike[0],))
            changed = True
    if changed:
        entities = dataclasses.replace(turn.entities, products=tuple(mentions))
        turn.analysis = dataclasses.replace(turn.analysis, entities=entities)
        turn.entities = entities
