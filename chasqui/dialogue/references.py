"""References to what the bot offered or talked about: "ese", "el rojo", "la más barata", "el segundo".

One memory of the conversation says what is in view: the products (or variants) the bot just
offered or listed, in order (``offered_skus``, ``last_skus``), the promotions it listed
(``offered_promos``), the cart lines and the product in focus (``focus_sku``). A clause that names
no product is resolved against it in the order of evidence:

1. a description: "el más barato", an ordinal ("el segundo", "el último"), or words of one option's
   name or aliases ("el rojo", "el familiar", "el de cuero"), against the options in view, then the
   cart lines;
2. "el otro": the option offered besides the one in focus;
3. "ese", "dame 2", "ya": the product in focus when it is one of the options, the only option, else
   every option (ambiguous: the caller asks which, never guesses into the cart).

Pure: no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chasqui.dialogue import cheapest
from chasqui.dialogue.cues import cues, fold, has_cue
from chasqui.domain import Product, Promotion

if TYPE_CHECKING:  # pragma: no cover
    from chasqui.dialogue.engine import Engine, Turn

MAX_VIEW = 8
_ORDINALS = {"primero": 0, "primera": 0, "primer": 0, "segundo": 1, "segunda": 1, "tercero": 2, "tercera": 2,
             "tercer": 2, "cuarto": 3, "cuarta": 3}
_LAST = ("ultimo", "ultima")


def in_view(turn: Turn) -> list[str]:
    """The options just offered or listed, in the order the bot said them."""
    memory = turn.memory
    skus = list(memory.get("offered_skus") or []) + list(memory.get("last_skus") or [])
    return list(dict.fromkeys(skus))[:MAX_VIEW]


def _stem(word: str) -> str:
    """ "rojo"/"roja"/"rojos" → "roj": a word without its gender and number endings."""
    word = word[:-1] if word.endswith("s") and len(word) > 4 else word
    return word[:-1] if len(word) > 3 and word[-1] in "aeo" else word


def _skipped() -> set[str]:
    """Words that never describe an option: fillers, articles and the cue words of the clause."""
    out: set[str] = set()
    for name in ("reference_fillers", "yes", "accept", "add_verbs", "take_it", "this_one", "other_one", "cheapest",
                 "another", "question", "price_question", "bundle"):
        for phrase in cues().get(name, ()):
            out.update(fold(phrase).split())
    return out


def described_words(folded: str) -> list[str]:
    skipped = _skipped()
    return [w for w in folded.split() if len(w) > 2 and not w.isdigit() and w not in skipped]


def _words_of(product: Product) -> set[str]:
    text = " ".join([product.name, *product.aliases])
    return {_stem(w) for w in fold(text).split() if len(w) > 2}


def _ordinal(folded: str) -> int | None:
    words = folded.split()
    for word in words:
        if word in _ORDINALS:
            return _ORDINALS[word]
        if word in _LAST:
            return -1
    return None


def by_description(engine: Engine, folded: str, skus: list[str]) -> list[str] | None:
    """The options of ``skus`` a description in ``folded`` picks (None: it describes none)."""
    products = [(s, p) for s in skus if (p := engine.tenant.product_of(s)) is not None]
    if len(products) < 2:
        return None
    if has_cue(folded, "cheapest"):
        best = cheapest.cheapest(list(dict.fromkeys(p for _s, p in products)))
        picked = [s for s, p in products if any(b.product is p and b.sku in (s, p.sku) for b in best)]
        return picked or [b.sku for b in best]
    index = _ordinal(folded)
    if index is not None and (index == -1 or index < len(products)):
        return [products[index][0]]
    chosen = products
    for word in described_words(folded):
        stem = _stem(word)
        fitting = [(s, p) for s, p in chosen if stem in _words_of(p)]
        if fitting and len(fitting) < len(chosen):
            chosen = fitting
    return [s for s, _p in chosen] if len(chosen) < len(products) else None


def resolve(engine: Engine, turn: Turn, folded: str | None = None) -> list[str]:
    """The products (or variants) a clause that names none refers to: one, several when it is
    ambiguous, none when nothing is in view."""
    memory = turn.memory
    folded = turn.folded if folded is None else folded
    view = in_view(turn)
    for pool in (view, list(turn.cart)):
        picked = by_description(engine, folded, pool)
        if picked:
            return picked[:1] if len(picked) == 1 else picked
    focus = memory.get("focus_sku")
    if has_cue(folded, "other_one"):
        others = [s for s in (memory.get("offered_skus") or []) if s != focus and not _same(engine, s, focus)]
        if others:
            return others[:1]
    last = list(memory.get("last_skus") or [])
    if len(last) > 1:
        in_focus = [s for s in last if s == focus] or [s for s in last if _same(engine, s, focus)]
        return in_focus[:1] or last
    return last or ([focus] if focus else [])


def _same(engine: Engine, sku: str | None, other: str | None) -> bool:
    if not sku or not other:
        return False
    a, b = engine.tenant.product_of(sku), engine.tenant.product_of(other)
    return a is not None and a is b


def refers(folded: str) -> bool:
    """The words point at something said before ("ese", "el otro", "el más barato", "el segundo")."""
    return (has_cue(folded, "this_one") or has_cue(folded, "other_one") or has_cue(folded, "cheapest")
            or _ordinal(folded) is not None)


def offered_bundle(engine: Engine, turn: Turn, bundles: list[Promotion]) -> Promotion | None:
    """ "esa promo", "ya quiero la promo" right after the bot listed its promotions: the one bundle listed."""
    listed = set(turn.memory.get("offered_promos") or ())
    named = [p for p in bundles if p.code in listed]
    if len(named) == 1 and has_cue(turn.folded, "bundle") and (
            has_cue(turn.folded, "this_one") or len(listed) == 1):
        return named[0]
    return None


def takes(engine: Engine, turn: Turn, intent: str, confident: bool) -> bool:
    """ "ya el rojo entonces", "dame la más barata", "ya quiero esa promo": the clause takes something
    the bot offered (the intent model may not see it: it names no product)."""
    e, folded = turn.entities, turn.folded
    if e.products or e.payment_methods or e.zones or (confident and intent not in _WEAK_INTENTS):
        return False
    if "?" in turn.analysis.text or has_cue(folded, "question") or has_cue(folded, "no") or len(folded.split()) > 8:
        return False
    if not (has_cue(folded, "yes") or has_cue(folded, "add_verbs") or has_cue(folded, "take_it")
            or has_cue(folded, "then_take")):
        return False
    from chasqui.dialogue.pricing import active_promotions

    bundles = [p for p in active_promotions(engine.tenant, turn.now.date()) if p.rule.get("type") == "bundle"]
    if offered_bundle(engine, turn, bundles) is not None:
        return True
    view = in_view(turn)
    if by_description(engine, folded, view):
        return True
    return refers(folded) and bool(view or turn.memory.get("focus_sku"))


_WEAK_INTENTS = frozenset({"fuera_de_alcance"})


def bare_pieces(turn: Turn) -> list[str]:
    """The pieces of a clause that name no product but point at one offered ("ya dame ese y 2 cocas",
    "dame la más barata y un enrollado"): their folded words."""
    from chasqui.dialogue.commands import pieces
    from chasqui.nlu.normalize import PRODUCT_TOKEN

    out = []
    for piece in pieces(turn.analysis.abstracted):
        folded = fold(piece)
        if PRODUCT_TOKEN in piece or len(folded.split()) > 5 or not refers(folded):
            continue
        out.append(folded)
    return out


def note_focus(engine: Engine, turn: Turn) -> None:
    """After a clause: the one product it named is the product in focus (unless the handler set
    another), and it is the latest thing talked about; the bot's offer of some other product, asked
    in an earlier turn, is no longer open ("¿te separo los Faber?" ... "y los Artesco?" ... "ya, ese")."""
    memory, before = turn.memory, turn.state.memory
    named = {p.sku for m in turn.entities.products if m.sku and (p := engine.tenant.product_of(m.sku))}
    if len(named) == 1 and len(turn.entities.products) == 1 and memory.get("focus_sku") == before.get("focus_sku"):
        memory["focus_sku"] = next(iter(named))
    focus = memory.get("focus_sku")
    if not focus or focus == before.get("focus_sku"):
        return
    if memory.get("last_skus") == before.get("last_skus") and not any(
            _same(engine, s, focus) for s in memory.get("last_skus") or ()):
        memory["last_skus"] = [focus]
    asked = memory.get("asked")
    if (isinstance(asked, dict) and asked.get("kind") == "offer" and int(asked.get("turn", 0)) < int(memory["turn"])
            and not _same(engine, asked.get("sku"), focus)):
        memory.pop("asked", None)


def carried_options(turn: Turn, product: Product) -> dict[str, str]:
    """ "ya, de inca kola entonces" right after "Coca-Cola en 1.5 L se nos agotó": the values asked
    for and sold out carry over to the product taken instead, when it has them in stock."""
    from chasqui.dialogue import questions

    asked = questions.pending(turn.memory, "variant")
    wanted = (asked or {}).get("wanted") or {}
    if not wanted or asked.get("product") == product.sku:  # type: ignore[union-attr]
        return {}
    carried: dict[str, str] = {}
    for option, value in wanted.items():
        same = next(((o, v.options[o]) for v in product.variants if v.active and v.stock > 0
                     for o in v.options if fold(o) == fold(option) and fold(v.options[o]) == fold(value)), None)
        if same is None:
            return {}
        carried[same[0]] = same[1]
    return carried
