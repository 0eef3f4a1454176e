"""Products with variants (talla, color, tamaño, sabor...): what the customer chose, what is in stock.

Pure functions over the tenant snapshot, the turn's words and memory. Every option value comes from
the tenant's variant data: a value is found as a word of the message (case- and accent-insensitive,
with its gender and plural forms: "negra", "negros" for "negro"); a number is a size when the
product has an option with numeric values ("talla 30", "en 30", or a number that is one of the
values), never a quantity. A message may ask for several variants of one product ("2 polos M, uno
negro y uno blanco", "uno talla 32 y otro talla 34"): an option named more than once splits it into
items, each with its own count, the other options shared.

The engine calls these from small hooks: adding a product with variants (``items_for``), the answer
to "¿tienen en 36?" / "y en negro?" (``answer_stock``), "¿cuánto el grande?" (``answer_price``),
"mejor que sea XL" / "otro igual pero en azul" on a cart line (``change_line`` / ``another_like``), and
the short answer to the bot's own "¿qué talla?" (``fill_pending``, see ``questions``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from chasqui.dialogue import choices as offers
from chasqui.dialogue import packs, questions, references, value_words
from chasqui.dialogue.composer import join_es
from chasqui.dialogue.cues import cues, fold, has_cue, has_stem
from chasqui.dialogue.state import Choice
from chasqui.domain import Product, Variant
from chasqui.nlu.normalize import normalize
from chasqui.nlu.numbers import parse_quantities

if TYPE_CHECKING:
    from chasqui.dialogue.engine import Engine, Turn
    from chasqui.domain import TenantSnapshot
    from chasqui.nlu.entities import ProductMention

_TOKEN = re.compile(r"\S+")
_NUMBER = re.compile(r"^\d{1,3}(?:[.,]5)?$")


@dataclass
class Request:
    """One variant the customer asked for: the options named (as the tenant writes them), values that
    no variant has (``unknown``: "36" when sizes go 37 to 40) and the count, when said."""

    product: Product
    options: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    quantity: int | None = None
    pack: bool = False  # its words name a pack ("una caja de pilsen"): no single unit by default

    def label(self) -> str:
        return ", ".join([*self.options.values(), *self.unknown.values()])


# -- reading option values -----------------------------------------------------------------------
def _forms(value: str) -> set[str]:
    """The written forms of an option value: "negro" → negro, negra, negros, negras; "azul" → azules."""
    base = fold(value)
    forms = {base}
    if " " in base or not base.isalpha() or len(base) <= 2:
        return forms
    if base[-1] in "oa":
        stem = base[:-1]
        forms |= {stem + "o", stem + "a", stem + "os", stem + "as"}
    elif base[-1] in "e":
        forms.add(base + "s")
    else:
        forms.add(base + "es")
    return forms


def _numeric_options(product: Product) -> list[str]:
    return [o for o in product.variant_options
            if any(_NUMBER.match(fold(v.options.get(o, ""))) for v in product.variants)]


_SLIPS = (("ll", "y"), ("k", "c"), ("z", "s"), ("v", "b"))
_AMOUNT_UNIT = re.compile(r"^(?:(.*\S)\s+)?(\d+(?:[.,]\d+)?)\s*([a-z]+)$")


def _slip(word: str) -> str:
    """A word as it sounds: letters people swap when writing ("inka"/"inca", "poyo"/"pollo")."""
    for old, new in _SLIPS:
        word = word.replace(old, new)
    return word


def _amount_forms(value: str) -> set[tuple[str, ...]]:
    """An amount with its unit as people say it: "1.5 L" → "litro y medio", "1.5 litros"; "jarra 1 L" also
    "jarra de 1 litro"."""
    match = _AMOUNT_UNIT.match(value.strip().lower())
    if not match:
        return set()
    lead, number, unit = match.groups()
    units = dict(pair.split() for pair in cues().get("unit_spoken", ()))
    name = units.get(unit)
    if name is None:
        return set()
    amount = float(number.replace(",", "."))
    whole, half = int(amount), amount - int(amount) == 0.5
    plural = name + "s"
    said: set[str] = {f"{number} {plural}", f"{number} {name}"}
    if half and whole == 0:
        said |= {f"medio {name}"}
    elif half:
        said |= {f"{whole} {name} y medio", f"{whole} {plural} y medio"}
        if whole == 1:
            said.add(f"{name} y medio")
    elif amount == 1:
        said |= {name, f"un {name}", f"1 {name}"}
    else:
        said |= {f"{whole} {plural}"}
    out = {tuple(t for t in (fold(w) for w in s.split()) if t) for s in said}
    if lead:
        out |= {(*fold(lead).split(), *form) for form in out} | {(*fold(lead).split(), "de", *form) for form in out}
    return out


@lru_cache(maxsize=4096)
def _spoken(value: str) -> frozenset[tuple[str, ...]]:
    """The ways a customer writes an option value: its forms (gender, plural), as the message's words
    come after normalizing ("1/2\"" → "medio", "media"; "Coca-Cola" → "coca cola", "cocacola"), an
    amount with its unit said in words ("1.5 L" → "litro y medio")."""
    out: set[tuple[str, ...]] = set()
    for text in {value, normalize(value)}:
        out |= {tuple(form.split()) for form in _forms(text)}
        tokens = tuple(t for t in (fold(w) for w in text.lower().split()) if t)
        if tokens:
            out.add(tokens)
        glued = fold(text).replace(" ", "")
        if glued.isalpha() and len(fold(text).split()) > 1:
            out.add((glued,))
    out |= _amount_forms(value)
    larger = value_words.scaled(value)  # "500 ml" is also "medio litro"
    if larger:
        out |= _amount_forms(larger)
    return frozenset(out)


def _index(product: Product) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """Word sequences (as they sound) → (option, value) for every value of the product's variants; the
    first word of a value of several words, when no other value of that option starts with it, names
    it ("inka" for "Inca Kola", "coca" for "Coca-Cola", "jarra" for "jarra 1 L")."""
    index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    firsts: dict[tuple[str, str], set[str]] = {}
    for variant in product.variants:
        for option, value in variant.options.items():
            words = fold(value).split()
            if len(words) > 1 and len(words[0]) >= 3 and words[0].isalpha():
                firsts.setdefault((option, _slip(words[0])), set()).add(value)
    for variant in product.variants:
        for option, value in variant.options.items():
            pair = (option, value)
            forms = set(_spoken(value))
            words = fold(value).split()
            if len(words) > 1 and firsts.get((option, _slip(words[0]))) == {value}:
                forms |= {(f,) for f in _forms(words[0])}
            for form in forms:
                found = index.setdefault(tuple(_slip(w) for w in form), [])
                if pair not in found:
                    found.append(pair)
    for form, pair in value_words.number_forms(product).items():  # "de 20" for "cajetilla x20"
        index.setdefault(form, [pair])
    return index


def hits(product: Product, words: Sequence[str]) -> list[tuple[int, int, str, str, bool]]:
    """Option values named in ``words`` (folded): (start, end, option, value, known). A number after
    a size cue ("talla 36", "en 36") that no variant has is an unknown value of the numeric option."""
    if not product.variants:
        return []
    index = _index(product)
    longest = max((len(k) for k in index), default=1)
    numeric = _numeric_options(product)
    size_leads = set(cues().get("size_leads", ()))
    families = _families(product)
    found: list[tuple[int, int, str, str, bool]] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            pairs = index.get(tuple(_slip(w) for w in words[i:i + size]))
            if pairs:
                option, value = pairs[0]
                end = _rest_of_value(words, i + size, value)  # "la caja de 100": all of "caja x 100"
                found.append((i, end, option, value, True))
                i = end
                break
        else:
            word = words[i]
            sized = value_words.size_pick(product, word) or value_words.unit_pick(product, word)
            if numeric and _NUMBER.match(word) and i > 0 and words[i - 1] in size_leads:
                found.append((i, i + 1, numeric[0], word, False))
            elif sized:  # "la chica": the smallest amount; "sueltos": the single unit
                found.append((i, i + 1, sized[0], sized[1], True))
            elif word in families:
                found.append((i, i + 1, families[word], word, False))
            i += 1
    return found


_VALUE_JOINS = frozenset({"de", "x", "por", "del"})


def _rest_of_value(words: Sequence[str], j: int, value: str) -> int:
    """Where a value named by its first words ends: the rest of its words said after them, joined by
    "de"/"x" ("caja de 100" for "caja x 100"), so that its number is never read as a count."""
    rest = set(fold(value).split()) | set(value_words.pieces(value))
    while j < len(words):
        if words[j] in rest:
            j += 1
        elif words[j] in _VALUE_JOINS and j + 1 < len(words) and words[j + 1] in rest:
            j += 2
        else:
            break
    return j


def _families(product: Product) -> dict[str, str]:
    """Words of a value family (colours, letter sizes) the product's option uses but no variant has."""
    out: dict[str, str] = {}
    for family in ("colors", "letter_sizes"):
        words = set(cues().get(family, ()))
        for option in product.variant_options:
            values = {f for v in product.variants for f in _forms(v.options.get(option, ""))}
            if values & words:
                out.update({w: option for w in words - values if not (family == "letter_sizes" and len(w) == 1
                                                                          and w not in values and len(values) < 2)})
    return out


def named_options(product: Product, words: Sequence[str]) -> list[str]:
    """Options the words name ("¿qué colores tienen?", "y tallas?")."""
    said = set(words)
    return [o for o in product.variant_options if _forms(o) & said or fold(o) + "s" in said]


def requests(product: Product, words: Sequence[str], quantity: int | None = None,
             base: dict[str, str] | None = None) -> list[Request]:
    """What ``words`` ask for of ``product``: one request, or one per repeated option value."""
    found = hits(product, words)
    base = dict(base or {})
    pack = value_words.names_a_pack(words)
    if not found:
        return [Request(product, base, {}, quantity, pack)] if base else []
    per_option: dict[str, list[tuple[int, int, str, bool]]] = {}
    for start, end, option, value, known in found:
        per_option.setdefault(option, []).append((start, end, value, known))
    count = max(len(v) for v in per_option.values())
    value_token = [False] * len(words)
    for start, end, *_ in found:
        for k in range(start, end):
            value_token[k] = True
    counts = [q for q in parse_quantities(list(words), value_token) if not value_token[q.start]]
    another = set(cues().get("another", ()))
    items: list[Request] = []
    previous_end = 0
    for n in range(count):
        request = Request(product, dict(base), {}, None, pack)
        own: list[tuple[int, int]] = []
        for option, values in per_option.items():
            start, end, value, known = values[min(n, len(values) - 1)]
            if known:
                request.options[option] = value
                request.unknown.pop(option, None)
            else:
                request.unknown[option] = value
                request.options.pop(option, None)
            if len(values) == count:
                own.append((start, end))
        first = min(s for s, _e in own)
        said = [(q.start, q.value) for q in counts if previous_end <= q.start < first]
        said += [(k, 1) for k in range(previous_end, first) if words[k] in another]
        if said:
            request.quantity = max(said)[1]  # the count nearest the item's values
        previous_end = max(e for _s, e in own)
        items.append(request)
    if count == 1:
        said = [q.value for q in counts]
        items[0].quantity = said[0] if said else quantity
    elif count > 1 and all(r.quantity is None for r in items) and quantity and quantity % count == 0:
        for r in items:
            r.quantity = quantity // count
    return items


# -- the catalog side ------------------------------------------------------------------------------
def matching(product: Product, options: dict[str, str]) -> list[Variant]:
    return [v for v in product.variants if v.active and all(v.options.get(o) == val for o, val in options.items())]


def in_stock(variants: Sequence[Variant]) -> list[Variant]:
    return [v for v in variants if v.stock > 0]


def values_of(product: Product, option: str, variants: Sequence[Variant]) -> list[str]:
    """The values of ``option`` among ``variants``: sizes in numeric order, others in the catalog's order."""
    values = list(dict.fromkeys(v.options[option] for v in variants if option in v.options))
    if values and all(_NUMBER.match(v) for v in values):
        values.sort(key=lambda v: float(v.replace(",", ".")))
    return values


def missing_options(product: Product, variants: Sequence[Variant]) -> list[str]:
    """Options still open: those with more than one value among ``variants``."""
    return [o for o in product.variant_options if len(values_of(product, o, variants)) > 1]


def options_text(product: Product, variants: Sequence[Variant]) -> str:
    """ "talla 37, 39 y 40; color negro y blanco": the open options of ``variants``, with their values."""
    parts = [f"{o} {join_es(values_of(product, o, variants))}" for o in missing_options(product, variants)]
    return "; ".join(parts)


def sellable_name(product: Product, variant: Variant) -> str:
    return f"{product.name} ({variant.label})"


@dataclass
class Outcome:
    """What one request comes to: the variant to add, or a reply already made (a question, sold out)."""

    sku: str | None = None
    quantity: int = 1


def _closest_in_stock(product: Product, request: Request) -> tuple[str, list[str]]:
    """For a request that has no variant in stock: the option to change and its values in stock with
    the other options kept (else every in-stock value of it)."""
    named = [*request.unknown, *request.options]
    for option in reversed(named):
        kept = {o: v for o, v in request.options.items() if o != option}
        values = values_of(product, option, in_stock(matching(product, kept)))
        if values:
            return option, values
    option = named[-1] if named else (product.variant_options[0] if product.variant_options else "")
    return option, values_of(product, option, in_stock(matching(product, {})))


def resolve(engine: Engine, turn: Turn, request: Request, *, adding: bool) -> Outcome:
    """Pick the variant of a request, or say why not (sold out, not made, an option still open: asked,
    with the values in stock as choices, and remembered for the short answer)."""
    product = request.product
    quantity = request.quantity or 1
    options = matching(product, request.options) if not request.unknown else []
    available = in_stock(options)
    if len(options) == 1 and available:
        return Outcome(available[0].sku, quantity)
    if not available:
        option, values = _closest_in_stock(product, request)
        asked = request.label() or product.name
        if values:
            turn.reply("variante_agotada", product=product.name, asked=asked, option=option, values=join_es(values))
            kept = {o: v for o, v in request.options.items() if o != option}
            _ask(turn, product, kept, request.quantity, option, values, wanted=request.options)
        else:
            turn.reply("agotado", product=product.name)
        return Outcome()
    if adding and not request.pack:
        available = _single_units(product, request, available)
    open_options = missing_options(product, available)
    if not open_options:  # every in-stock variant alike (one left)
        return Outcome(available[0].sku, quantity)
    option = open_options[0]
    values = values_of(product, option, available)
    key = "variante_elegir" if adding else "variante_hay"
    price = engine_price_text(turn, available)
    turn.reply(key, product=product.name, asked=request.label(), option=option, values=join_es(values),
               options=options_text(product, available), price=price)
    _ask(turn, product, request.options, request.quantity, option, values)
    return Outcome()


def _single_units(product: Product, request: Request, available: list[Variant]) -> list[Variant]:
    """Of the variants in stock, those of the single unit for each option the request leaves open
    ("2 pilsen": unidad, not caja x12)."""
    for option in missing_options(product, available):
        if option in request.options:
            continue
        unit = value_words.unit_value(product, option, available)
        if unit is not None:
            available = [v for v in available if v.options.get(option) == unit]
    return available


def engine_price_text(turn: Turn, variants: Sequence[Variant]) -> str:
    prices = sorted({turn.tenant.sellable(v.sku).price for v in variants})  # type: ignore[union-attr]
    if not prices:
        return ""
    low = turn.money(prices[0])
    return low if len(prices) == 1 else turn.say.say("desde_precio", price=low) or low


def _ask(turn: Turn, product: Product, options: dict[str, str], quantity: int | None, option: str,
         values: list[str], wanted: dict[str, str] | None = None) -> None:
    """``wanted``: the values asked for that are sold out ("ya, de inca kola entonces" carries them)."""
    questions.ask(turn.memory, "variant", product=product.sku, options=dict(options), quantity=quantity,
                  option=option, wanted=dict(wanted or {}))
    turn.memory["focus_sku"] = product.sku
    choice = offers.values(turn.say.say, [Choice(f"option:{v}", v) for v in values])
    turn.offer(choice)


# -- reading the turn ------------------------------------------------------------------------------
def _tokens(turn: Turn) -> tuple[list[str], list[tuple[int, int]]]:
    matches = list(_TOKEN.finditer(turn.analysis.normalized))
    return [fold(m.group()) or m.group() for m in matches], [(m.start(), m.end()) for m in matches]


def mention_requests(turn: Turn, mention: ProductMention, product: Product) -> list[Request]:
    """The requests of one product mention: the option values from the mention to the next one (for
    the first mention, also the words before it)."""
    segment, elided = _segment_and_elided(turn, mention)
    quantity = mention.quantity
    found = hits(product, segment)
    if quantity is not None and (
            any(str(quantity) in (h[3], value_words.value_number(h[3])) for h in found)
            or packs.count_in_value([(h[0], h[1]) for h in found], segment, quantity)):
        quantity = None  # "zapatilla 38": the size; "colores de 24": 24 colores; "media docena de": the pack
    asked = requests(product, segment, quantity)
    if not asked:
        bare = Request(product, {}, {}, quantity)
        _said_pack(bare, segment, elided)
        return [bare] if bare.options else []
    for request in asked:
        _said_pack(request, segment, elided)
    return asked


def _segment(turn: Turn, mention: ProductMention) -> list[str]:
    """The words of a mention's clause: from it (or its count) to the next mention's clause."""
    return _segment_and_elided(turn, mention)[0]


def _segment_and_elided(turn: Turn, mention: ProductMention) -> tuple[list[str], list[str]]:
    """The clause's words, and the words before it when the clause leaves out its container ("y 1 de
    ibuprofeno" after "2 blister de paracetamol")."""
    words, spans = _tokens(turn)
    mentions = sorted(turn.entities.products, key=lambda m: m.start)
    position = next((k for k, m in enumerate(mentions) if m.start == mention.start), 0)
    starts = _clause_starts(words, spans, mentions)
    start = starts[position]
    end = starts[position + 1] if position + 1 < len(mentions) else len(words)
    shared = _shared_tail(words, spans, mentions)
    segment = words[start:end] + (words[shared:] if shared is not None and end <= shared else [])
    elided = words[:start] if _elides_container(words, spans, start, mention) else []
    return segment, elided


def _shared_tail(words: list[str], spans: list[tuple[int, int]], mentions: Sequence[ProductMention]) -> int | None:
    """Where a closing "los dos recarga" / "ambos heladas" starts: values said once for every product
    named before it."""
    last_end = max(m.end for m in mentions)
    for k in range(len(words)):
        if spans[k][0] < last_end:
            continue
        for cue in cues().get("both", ()):
            said = cue.split()
            if words[k:k + len(said)] == said:
                return k
    return None


def _elides_container(words: list[str], spans: list[tuple[int, int]], start: int, mention: ProductMention) -> bool:
    """The clause is "<count> de <product>" ("y 1 de ibuprofeno"): a container word left out."""
    first = next((k for k, s in enumerate(spans) if s[0] >= mention.start), len(words))
    return mention.quantity is not None and first - start == 2 and words[start + 1] in ("de", "del")


def _said_pack(request: Request, words: Sequence[str], before: Sequence[str] = ()) -> None:
    """"un marlboro de 20": the open option's value that holds 20 (``packs.said_size``); "2 blister de
    paracetamol y 1 de ibuprofeno": the container said before for the clause that leaves it out."""
    chosen = matching(request.product, request.options)
    for option in request.product.variant_options:
        if option in request.options or option in request.unknown:
            continue
        values = values_of(request.product, option, chosen)
        value = packs.said_size(words, values)
        named = [v for v in values if packs.value_count(v) is None and fold(v).split()
                 and _forms(fold(v).split()[0]) & set(before)]
        if value is None and len(named) == 1:
            value = named[0]
        if value is not None:
            request.options[option] = value
            return


def _clause_starts(words: list[str], spans: list[tuple[int, int]], mentions: Sequence[ProductMention]) -> list[int]:
    """The first word of each mention's clause: its count when one is written right before it ("12
    acevichadas", "pa una reunión: 2 salchipapas"), else the mention itself (the first mention: the
    message's start). A clause's values never go to the neighbour's product."""
    counted = {q.start for q in parse_quantities(list(words), [False] * len(words))}
    starts: list[int] = []
    previous_end = 0
    for n, mention in enumerate(mentions):
        first = next((k for k, s in enumerate(spans) if s[0] >= mention.start), len(words))
        count = max((k for k in counted if previous_end <= k < first), default=None)
        starts.append(count if mention.quantity is not None and count is not None else (0 if n == 0 else first))
        previous_end = next((k for k, s in enumerate(spans) if s[0] >= mention.end), len(words))
    return starts


def focus_product(engine: Engine, turn: Turn) -> Product | None:
    """The product with variants talked about: the bot's open question's, the focus, the last cart line's."""
    return focus_of(turn.tenant, turn.memory)


def focus_of(tenant: TenantSnapshot, memory: dict) -> Product | None:
    """``focus_product`` from the dialogue memory alone."""
    asked = questions.pending(memory, "variant")
    for sku in (asked or {}).get("product"), memory.get("focus_sku"), memory.get("last_cart_sku"):
        product = tenant.product_of(sku) if sku else None
        if product is not None and product.variants:
            return product
    return None


def words_of(turn: Turn) -> list[str]:
    return _tokens(turn)[0]


def is_question(turn: Turn) -> bool:
    return "?" in turn.analysis.text or "¿" in turn.analysis.text or has_cue(turn.folded, "question")


def followup_intent(engine: Engine, turn: Turn) -> str | None:
    """The intent of a message that only names option values of the product in focus ("y en negro?",
    "la L", "en 40", "mejor XL", "otro igual pero en azul"), or that names a product with variants to
    change a cart line ("mejor que la casaca sea XL")."""
    e = turn.entities
    if e.payment_methods or e.zones:
        return None
    if e.products:
        for mention in e.products:
            product = turn.tenant.product(mention.sku)
            if product and product.variants and named_options(product, words_of(turn)) and not hits(
                    product, words_of(turn)) and is_question(turn):
                return "consultar_disponibilidad"  # "¿qué colores tienen de polo?"
        if not _change_cue(turn):
            return None
        for mention in e.products:
            product = turn.tenant.product(mention.sku)
            if product and product.variants and _cart_line_of(turn, product) and hits(product, words_of(turn)):
                return "modificar_cantidad"
        return None
    product = focus_product(engine, turn)
    if product is not None and named_options(product, words_of(turn)) and not hits(product, words_of(turn)):
        return "consultar_disponibilidad"  # "y tallas?", "¿qué colores hay?"
    if product is None or not hits(product, words_of(turn)) or has_stem(turn.folded, "remove_stems"):
        return None
    if is_question(turn):
        return "consultar_precio" if has_cue(turn.folded, "price_question") else "consultar_disponibilidad"
    in_cart = _cart_line_of(turn, product)
    if in_cart and has_cue(turn.folded, "another"):
        return "agregar_producto"
    if in_cart and _change_cue(turn) and not questions.pending(turn.memory, "variant"):
        return "modificar_cantidad"
    return "agregar_producto"


def _change_cue(turn: Turn) -> bool:
    return has_cue(turn.folded, "variant_change") or bool(re.search(r"\bcambi\w*", turn.folded))


def _cart_line_of(turn: Turn, product: Product) -> str | None:
    """The cart's variant line of ``product`` (the last one touched first)."""
    lines = [s for s in turn.cart if s != product.sku and turn.tenant.product_of(s) == product]
    last = turn.memory.get("last_cart_sku")
    return last if last in lines else (lines[-1] if lines else None)


# -- actions -------------------------------------------------------------------------------------
def items_for(engine: Engine, turn: Turn, mention: ProductMention, product: Product) -> list[tuple[str, int]]:
    """The variant SKUs a mention adds (a question or a sold-out reply for those it cannot); values the
    customer said of the product in the question just before count ("¿cuadernos cuadriculados?" → "dame
    20 paquetes": cuadriculado), or of the product just discussed (references.py)."""
    found = mention_requests(turn, mention, product) or [
        Request(product, references.carried_options(turn, product), {}, mention.quantity,
                value_words.names_a_pack(_segment(turn, mention)))]
    _with_values_said_before(turn, product, found)
    return _resolve_all(engine, turn, found)


def _with_values_said_before(turn: Turn, product: Product, found: Sequence[Request]) -> None:
    """Requests of ``product`` completed with the values the customer's question about it named, while
    it is still the product talked about; of another product that has them, when the one asked about
    is sold out in them ("¿six pack de heineken?" — sold out — "dame el de cusqueña": its six pack)."""
    said = turn.memory.get("asked_values") or {}
    focus = turn.tenant.product_of(turn.memory.get("focus_sku") or "")
    if focus is None or said.get("product") != focus.sku:
        return
    if product.sku != focus.sku and not (said.get("sold_out") and matching(product, said.get("options") or {})):
        return  # another product: only in place of the one sold out in those values ("el de cusqueña entonces")
    for request in found:
        for option, value in (said.get("options") or {}).items():
            if option not in request.options and option not in request.unknown:
                request.options[option] = value


def remember_values(turn: Turn, found: Sequence[Request]) -> None:
    """The option values a question named, for the order that follows it."""
    named = [r for r in found if r.options and not r.unknown]
    if len(named) == 1:
        product, options = named[0].product, dict(named[0].options)
        turn.memory["asked_values"] = {"product": product.sku, "options": options,
                                       "sold_out": not in_stock(matching(product, options))}
    else:
        turn.memory.pop("asked_values", None)


_PIECE_LINKS = frozenset({"y", "e", "tambien", "ademas", "mas"})


def focus_items(engine: Engine, turn: Turn) -> list[tuple[str, int]]:
    """ "dame 2 del vino y la cajetilla chica" after talking of cigarettes: a piece of the message that
    names no product but option values of the product with variants in focus is an item of it."""
    mentions = turn.entities.products
    product = focus_product(engine, turn)
    if product is None or not mentions or questions.pending(turn.memory, "variant"):
        return []
    named = [p for m in mentions for s in (m.sku, *m.candidates) if (p := turn.tenant.product_of(s)) is not None]
    if product in named:
        return []
    words, spans = _tokens(turn)
    taken = {k for m in mentions for k, (a, b) in enumerate(spans) if a < m.end and b > m.start}
    found: list[Request] = []
    for piece in _pieces(words):
        said = [words[k] for k in piece]
        if taken.intersection(piece) or any(p.variants and hits(p, said) for p in named):
            continue
        if any(h[4] for h in hits(product, said)):
            found += requests(product, said)
    return _resolve_all(engine, turn, found) if found else []


def _pieces(words: list[str]) -> list[list[int]]:
    """Word positions cut at connectives ("y", "también")."""
    out: list[list[int]] = [[]]
    for k, word in enumerate(words):
        if word in _PIECE_LINKS:
            out.append([])
        else:
            out[-1].append(k)
    return [piece for piece in out if piece]


def _resolve_all(engine: Engine, turn: Turn, found: list[Request]) -> list[tuple[str, int]]:
    items: list[tuple[str, int]] = []
    for request in found:
        outcome = resolve(engine, turn, settled(request), adding=True)
        if outcome.sku:
            items.append((outcome.sku, outcome.quantity))
        else:
            break  # one question at a time
    if items and not questions.pending(turn.memory, "variant") and turn.memory.get("asked", {}).get(
            "turn") != turn.memory.get("turn"):
        questions.forget(turn.memory)
    return items


def settled(request: Request) -> Request:
    """The request with the presentation its count of items means ("6 wantanes": the half-dozen), see
    ``packs``."""
    if request.unknown:
        return request
    product = request.product
    options = dict(request.options)
    chosen = matching(product, options)
    open_values = {o: values_of(product, o, chosen) for o in product.variant_options
                   if o not in options and len(values_of(product, o, chosen)) > 1}
    options, quantity = packs.settle(product, options, request.quantity, open_values)
    return Request(product, options, {}, quantity)


def fill_pending(engine: Engine, turn: Turn) -> bool:
    """A short answer to the bot's question ("en 40", "la negra", "M", "ya la L"), or option values of
    the product in focus: the variants it completes are added (with the count said before)."""
    if turn.entities.products:
        return False
    if _count_of_open_line(engine, turn):  # "cuadriculado" added one; "3": three of it
        return True
    product = focus_product(engine, turn)
    if product is None:
        return False
    asked = questions.pending(turn.memory, "variant")
    base: dict[str, str] = {}
    quantity = None
    if asked and asked.get("product") == product.sku:
        base, quantity = dict(asked.get("options") or {}), asked.get("quantity")
    elif has_cue(turn.folded, "another") and (line := _cart_line_of(turn, product)):
        variant = product.variant(line)
        base = dict(variant.options) if variant else {}
    count = questions.bare_count(turn.folded) if asked and asked.get("product") == product.sku else None
    if count is not None and not hits(product, words_of(turn)):  # "3" to "¿unidad o paquete?"
        return _count_answer(engine, turn, product, asked or {}, base, count)
    found = requests(product, words_of(turn), None, base)
    if not found or not hits(product, words_of(turn)):
        return False
    for request in found:
        if request.quantity is None:
            request.quantity = quantity
    if not asked:
        _with_values_said_before(turn, product, found)
    if asked:
        questions.forget(turn.memory)
    said_count = any(r.quantity is not None for r in found)
    items = _resolve_all(engine, turn, found)
    if items and not asked and not said_count and not has_cue(turn.folded, "another") and all(
            sku in turn.cart for sku, _q in items):
        # "pierna nomás" about the product in focus, whose line has that value: already there, not one more
        turn.reply("ya_en_pedido", items=join_es([engine.tenant.sellable(sku).name for sku, _q in items]))
        return True
    if items:
        engine._add_items(turn, items)
        if asked and not said_count and len(items) == 1 and items[0][0] in turn.cart:
            turn.memory["count_open"] = {"sku": items[0][0], "turn": turn.memory.get("turn")}
    return True


def _count_of_open_line(engine: Engine, turn: Turn) -> bool:
    """A bare count right after an answer to the bot's question added one item without a count: the
    count of that line."""
    line = turn.memory.pop("count_open", None)
    if not line or int(line.get("turn") or 0) != int(turn.memory.get("turn") or 0) - 1:
        return False
    sku, count = line.get("sku"), questions.bare_count(turn.folded)
    sellable = turn.tenant.sellable(sku or "")
    if sellable is None or count is None or count < 1 or turn.cart.get(sku) != 1 or count > sellable.stock:
        return False
    turn.cart[sku] = count
    turn.reply("cantidad_cambiada", quantity=count, product=sellable.name)
    turn.memory["last_cart_sku"] = sku
    engine._append_total(turn)
    return True


def _count_answer(engine: Engine, turn: Turn, product: Product, asked: dict, base: dict[str, str],
                  count: int) -> bool:
    """A bare count answering "¿qué presentación?": the single-unit value when the open option has one
    ("unidad", "suelto"); else the question again, the count kept for its answer."""
    questions.forget(turn.memory)
    option = str(asked.get("option") or "")
    values = values_of(product, option, in_stock(matching(product, base))) if option else []
    single = [v for v in values if has_cue(fold(v), "single_unit")]
    options = {**base, option: single[0]} if len(single) == 1 else dict(base)
    items = _resolve_all(engine, turn, [Request(product, options, {}, count)])
    if items:
        engine._add_items(turn, items)
    return True


def narrow_lines(turn: Turn, lines: list[str]) -> list[str]:
    """Of the cart lines a message names, the variants whose values it says ("quita el polo blanco")."""
    words = words_of(turn)
    kept = []
    for sku in lines:
        sellable = turn.tenant.sellable(sku)
        if sellable is None or sellable.variant is None:
            kept.append(sku)
            continue
        said = [(h[2], h[3]) for h in hits(sellable.product, words) if h[4]]
        if all(sellable.variant.options.get(o) == v for o, v in said) or not said:
            kept.append(sku)
    return kept or lines


def change_line(engine: Engine, turn: Turn) -> bool:
    """ "mejor que la casaca sea XL", "cámbiala a negro": the cart line's variant changes (same count)."""
    if has_stem(turn.folded, "remove_stems"):
        return False
    products = [turn.tenant.product(m.sku) for m in turn.entities.products]
    products = [p for p in products if p and p.variants] or [p for p in [focus_product(engine, turn)] if p]
    for product in products:
        line = _cart_line_of(turn, product)
        found = hits(product, words_of(turn))
        if not line or not found or has_cue(turn.folded, "another"):
            continue
        old = product.variant(line)
        if old is None:
            continue
        quantity = turn.cart[line]
        request = Request(product, dict(old.options), {}, quantity)
        for _s, _e, option, value, known in found:
            (request.options if known else request.unknown)[option] = value
            if not known:
                request.options.pop(option, None)
        outcome = resolve(engine, turn, request, adding=True)
        if outcome.sku is None or outcome.sku == line:
            return True
        new = product.variant(outcome.sku)
        if new is None:
            return True
        turn.cart.pop(line)
        have = turn.cart.get(new.sku, 0)
        turn.cart[new.sku] = have + min(quantity, max(new.stock - have, 0)) or have
        if not turn.cart[new.sku]:
            turn.cart.pop(new.sku)
        turn.reply("variante_cambiada", old=sellable_name(product, old), new=sellable_name(product, new))
        turn.memory["last_cart_sku"] = new.sku
        engine._append_total(turn)
        return True
    return False


def answer_stock(engine: Engine, turn: Turn) -> bool:
    """ "¿tienen la zapatilla en 36?", "y en negro?", "tienes surtido grande?": per variant; "¿qué
    colores tienen?": the values in stock of that option."""
    found = _asked(engine, turn, bare=True)
    remember_values(turn, found)
    if not found:
        product = focus_product(engine, turn)
        if product is None or turn.entities.products or not named_options(product, words_of(turn)):
            return False
        found = [Request(product)]
    for request in found:
        asked = named_options(request.product, words_of(turn))
        if asked and not request.options and not request.unknown:
            product = request.product
            available = in_stock(matching(product, {}))
            turn.reply("variante_valores", product=product.name, option=asked[0],
                       values=join_es(values_of(product, asked[0], available)) or "-")
            _ask(turn, product, {}, None, asked[0], values_of(product, asked[0], available))
            return True
    for request in found:
        product = request.product
        options = matching(product, request.options) if not request.unknown else []
        available = in_stock(options)
        if len(available) == 1:
            variant = available[0]
            turn.reply("disponible", product=sellable_name(product, variant),
                       price=turn.money(turn.tenant.sellable(variant.sku).price),  # type: ignore[union-attr]
                       stock=variant.stock)
            questions.ask(turn.memory, "offer", sku=variant.sku)
            turn.memory["focus_sku"] = product.sku
        else:
            resolve(engine, turn, request, adding=False)
    return True


def answer_price(engine: Engine, turn: Turn) -> bool:
    """ "¿cuánto el grande?", "¿cuánto el botín talla 42?": the variant's price; a product whose
    variants' prices differ, each price with its values."""
    found = _asked(engine, turn, bare=True)
    remember_values(turn, found)
    if not found:
        return False
    for request in found:
        product = request.product
        named = matching(product, request.options)
        if request.options and named and not in_stock(named):  # "¿y en fuente?" sold out: said so
            resolve(engine, turn, request, adding=False)
            turn.memory["focus_sku"] = product.sku
            continue
        chosen = in_stock(named) or named
        prices: dict = {}
        for variant in chosen:
            prices.setdefault(turn.tenant.sellable(variant.sku).price, []).append(variant)  # type: ignore[union-attr]
        if len(prices) == 1:
            price, variants = next(iter(prices.items()))
            if len(variants) == 1:  # "ya, sepáramelo" takes it
                questions.ask(turn.memory, "offer", sku=variants[0].sku)
            name = sellable_name(product, variants[0]) if len(variants) == 1 else product.name
            if request.options and len(variants) > 1:
                name = f"{product.name} ({request.label()})"
            turn.reply("precio", product=name, price=turn.money(price), unit=product.unit or "unidad")
        elif prices:
            parts = []
            for price, variants in sorted(prices.items()):
                open_options = (missing_options(product, variants) or missing_options(product, chosen)
                                or list(product.variant_options[:1]))
                labels = join_es(values_of(product, open_options[0], variants))
                parts.append(f"{labels}: {turn.money(price)}")
            turn.reply("precio_variantes", product=product.name, list="; ".join(parts))
        else:
            resolve(engine, turn, request, adding=False)
        turn.memory["focus_sku"] = product.sku
    return True


def _asked(engine: Engine, turn: Turn, bare: bool = False) -> list[Request]:
    """The variant requests of a question: products with variants named with option values, or option
    values of the product in focus. ``bare``: a named product with variants counts without values."""
    found: list[Request] = []
    for mention in turn.entities.products:
        product = turn.tenant.product(mention.sku)
        if product is None or not product.variants:
            continue
        asked = mention_requests(turn, mention, product)
        if asked:
            found += asked
        elif bare:
            found.append(Request(product))
    if found or turn.entities.products:
        return found
    product = focus_product(engine, turn)
    if product is not None and hits(product, words_of(turn)):
        return requests(product, words_of(turn))
    return []
