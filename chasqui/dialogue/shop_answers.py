"""What a shop assistant answers from the shop's own data: policies, FAQ, haggling, the minimum
order, products not sold and the total with delivery to a zone.

Pure functions over (tenant snapshot, analysis, memory, cart): ``find`` reads one customer message
and returns the answer (template keys and values) or None; the engine only says it. Nothing here
changes the cart or an order. Business words come from the snapshot; generic Spanish words from
``shop_words.es.yaml``.

Policies and FAQ entries are ranked with a BM25-like score (term weight x inverse document frequency)
over their topic/question (double weight) and text/answer, after folding each word to a light root
and to its synonym group. ``rank_bm25`` does not fit: with the two to five documents a shop has, its
IDF is zero or negative for any word found in half of them, so the one policy about "cambios" of two
would never score. A match needs an *anchor*: a matched word that does not name the catalog (so
"¿tienen jugos?" never answers the FAQ about jugos para eventos).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from chasqui.dialogue.cues import asks_hours, cues, fold, has_cue
from chasqui.domain import DeliveryZone, TenantSnapshot
from chasqui.nlu.lexicon import COMMON_WORDS

WORDS_FILE = Path(__file__).with_name("shop_words.es.yaml")
_SUFFIXES = ("amientos", "amiento", "aciones", "acion", "iendo", "ando", "ados", "adas", "idos", "idas", "aron",
             "ieron", "amos", "emos", "imos", "ado", "ada", "ido", "ida", "an", "en", "as", "es", "os", "a", "e", "o",
             "s")
_QUESTION_STARTS = frozenset({
    "hacen", "dan", "puedo", "pueden", "puede", "se", "aceptan", "tienen", "tiene", "tienes", "hay", "cuanto",
    "como", "cuando", "donde", "que", "cual", "emiten", "venden", "es", "son", "incluye", "incluyen", "trabajan",
    "entregan", "hasta",
})
_TOPIC_WEIGHT = 2.0
_MIN_SCORE = 1.5


@dataclass(frozen=True)
class ShopAnswer:
    """An answer from the shop's data: replies as (template key, values), in order. ``exclusive``: the
    message is only this question (the engine says nothing else)."""

    kind: str  # policy | faq | haggling | no_info | not_sold | min_order | zone_total | change
    replies: tuple[tuple[str, dict], ...]
    exclusive: bool = True
    memory: dict = field(default_factory=dict)  # facts to remember (the zone asked about)


@lru_cache(maxsize=1)
def words() -> dict:
    return yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=1)
def _haggling_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in words().get("haggling", ()))


@lru_cache(maxsize=4096)
def root(word: str) -> str:
    """A light Spanish root: "golpeada"/"golpeado" -> "golpe", "cambian"/"cambios" -> "cambi"."""
    if len(word) < 5 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1)
def _synonyms() -> tuple[dict[str, str], tuple[tuple[tuple[str, ...], str], ...]]:
    """Single words (and their roots) -> group, and phrases -> group."""
    single: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    for group in words().get("synonyms", ()):
        name = "#" + fold(str(group[0]))
        for variant in group:
            folded = fold(str(variant))
            if " " in folded:
                phrases.append((tuple(folded.split()), name))
            else:
                single.setdefault(folded, name)
                single.setdefault(root(folded), name)
    return single, tuple(phrases)


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    return frozenset(fold(str(w)) for w in words().get("stop", ()))


@lru_cache(maxsize=1)
def _term_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Phrasings that mean a synonym group without naming it ("mi hermano de 16" is an age)."""
    return tuple((re.compile(str(pattern)), "#" + fold(str(group)))
                 for pattern, group in words().get("term_patterns", ()))


def terms(text: str) -> list[str]:
    """The content terms of a text: synonym groups ("#cambio") and word roots, stop words and numbers out."""
    single, phrases = _synonyms()
    folded = fold(text)
    tokens = folded.split()
    out: list[str] = [group for pattern, group in _term_patterns() if pattern.search(folded)]
    i = 0
    while i < len(tokens):
        for phrase, name in phrases:
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                out.append(name)
                i += len(phrase)
                break
        else:
            token = tokens[i]
            i += 1
            if token in _stop() or not token.isalpha() or len(token) < 3:
                continue
            out.append(single.get(token) or single.get(root(token)) or root(token))
    return out


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith("#") or b.startswith("#"):
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long_.startswith(short)


@dataclass(frozen=True)
class _Doc:
    kind: str  # policy | faq
    answer: str
    title: str
    weights: dict[str, float]
    topic: frozenset[str] = frozenset()  # the terms of its topic / question


@dataclass(frozen=True)
class _Index:
    docs: tuple[_Doc, ...]
    idf: dict[str, float]
    catalog: frozenset[str]  # roots of the catalog's words
    catalog_words: tuple[str, ...]  # folded catalog words, for fuzzy "is this a product?"


_INDEXES: dict[int, tuple[TenantSnapshot, _Index]] = {}  # tenant id -> its latest snapshot's index


def _index(tenant: TenantSnapshot) -> _Index:
    cached = _INDEXES.get(tenant.id)
    if cached is not None and cached[0] is tenant:
        return cached[1]
    business = tenant.business
    docs: list[_Doc] = []
    for policy in business.policies:
        docs.append(_doc("policy", policy.text, policy.topic, policy.text))
    for faq in business.faq:
        docs.append(_doc("faq", faq.a, faq.q, faq.a))
    df: dict[str, int] = {}
    for doc in docs:
        for term in doc.weights:
            df[term] = df.get(term, 0) + 1
    n = max(len(docs), 1)
    idf = {term: 1.0 + math.log(n / count) for term, count in df.items()}
    catalog_texts: list[str] = []
    for product in tenant.products:
        catalog_texts += [product.name, product.category, *product.aliases]
        catalog_texts += list(product.variant_options) + [m.name for m in product.modifiers]
        for variant in product.variants:
            catalog_texts += [str(v) for v in variant.options.values()]
    for zone in tenant.delivery_zones:
        catalog_texts += [zone.name, *zone.aliases]
    for method in tenant.payment_methods:
        catalog_texts += [method.code, method.name]
    folded_words = {w for text in catalog_texts for w in fold(text).split() if len(w) >= 3}
    # a synonym group the catalog names ("perro" in a pet shop) decides nothing either
    catalog = frozenset(t for text in catalog_texts for t in terms(text)) | frozenset(root(w) for w in folded_words)
    index = _Index(tuple(docs), idf, catalog, tuple(sorted(folded_words)))
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    _INDEXES[tenant.id] = (tenant, index)
    return index


def _doc(kind: str, answer: str, title: str, body: str) -> _Doc:
    weights: dict[str, float] = {}
    for term in terms(body):
        weights[term] = max(weights.get(term, 0.0), 1.0)
    topic = terms(title)
    for term in topic:
        weights[term] = _TOPIC_WEIGHT
    return _Doc(kind, answer, title, weights, frozenset(topic))


def _in_catalog(term: str, index: _Index) -> bool:
    return term in index.catalog or any(_same(term, c) for c in index.catalog)


@lru_cache(maxsize=1)
def _elsewhere() -> frozenset[str]:
    """Words (and their roots) of questions answered from structured data: hours, address, zones,
    totals, prices, payment. They never pick a policy or FAQ entry."""
    folded = {fold(str(w)) for w in words().get("answered_elsewhere", ())}
    return frozenset(folded | {root(w) for w in folded})


@lru_cache(maxsize=1)
def _structured() -> frozenset[str]:
    folded = {fold(str(w)) for w in words().get("structured_topics", ())}
    return frozenset(folded | {root(w) for w in folded})


def _structured_terms(text: str) -> list[str]:
    """The words of a message that name a fact the shop's structured data gives ("tarjeta", "horario")."""
    return [t for t in dict.fromkeys(terms(text)) if t in _structured()]


def query_terms(text: str) -> list[str]:
    """The terms of a customer's message that may pick a policy or FAQ entry."""
    elsewhere = _elsewhere()
    return [t for t in dict.fromkeys(terms(text)) if t not in elsewhere]


def best_document(tenant: TenantSnapshot, text: str, *, past: bool = False) -> tuple[_Doc, float] | None:
    """The policy or FAQ entry that best answers ``text`` (None: none is about what it asks).

    A match needs an *anchor*: a word of the message, not naming the catalog, that is the entry's topic
    (or question) word, a word of a synonym group (a topic of shops) in its text, or two words of its
    text. Words of questions the shop's data answers (hours, address, delivery zones, totals, prices,
    payment) never count. ``past``: the message tells of something bought before ("el balón que me
    trajeron tiene fuga"): it asks about no product, so the catalog's words count as well."""
    index = _index(tenant)
    if not index.docs:
        return None
    query = query_terms(text)
    structured = _structured_terms(text)
    best: tuple[_Doc, float] | None = None
    for doc in index.docs:
        score, anchored, body, grouped = 0.0, False, 0, False
        for q in query:
            matched = [t for t in doc.weights if _same(q, t)]
            if not matched:
                continue
            weight = max(doc.weights[t] * index.idf.get(t, 1.0) for t in matched)
            if not past and _in_catalog(q, index):
                score += 0.5 * weight
                continue
            score += weight
            grouped = grouped or q.startswith("#")
            if q.startswith("#") or any(t in doc.topic for t in matched):
                anchored = True  # the topic's word, or a word of a topic's synonym group
            else:
                body += 1
        if structured and not grouped and not any(_same(w, t) for w in structured for t in doc.weights):
            continue  # "¿aceptan tarjeta?": the payment methods answer it, not a FAQ sharing "aceptan"
        if (anchored or body >= 2) and score >= _MIN_SCORE and (best is None or score > best[1]):
            best = (doc, score)
    return best


def _asks_policy_words(tenant: TenantSnapshot, text: str) -> bool:
    """The message asks about a topic shops have policies for (exchanges, invoices, warranty...), not
    about something the catalog names ("perro" in a pet shop)."""
    index = _index(tenant)
    return any(t.startswith("#") and not _in_catalog(t, index) for t in terms(text))


def is_question(text: str, folded: str) -> bool:
    if "?" in text or "¿" in text:
        return True
    first = [w for w in folded.split() if w not in ("y", "oe", "hola", "oye", "disculpa", "consulta")][:1]
    return bool(first) and first[0] in _QUESTION_STARTS


def haggles(folded: str) -> bool:
    return any(p.search(folded) for p in _haggling_patterns())


_CLAUSE_END = re.compile(r"[?¿!.,;:\n]+")


def not_sold_words(tenant: TenantSnapshot, text: str) -> list[str]:
    """The things a "¿venden X?" / "¿tienen X o Y?" question asks for when none names the catalog."""
    for clause in _CLAUSE_END.split(text):
        found = _not_sold_in(tenant, fold(clause))
        if found:
            return found
    return []


def _not_sold_in(tenant: TenantSnapshot, folded: str) -> list[str]:
    data = words()
    asking = {fold(str(w)) for w in data.get("sells_asking", ())}
    verbs = {fold(str(w)) for w in data.get("sells_verbs", ())}
    skip = {fold(str(w)) for w in data.get("sells_skip", ())}
    join = {fold(str(w)) for w in data.get("sells_join", ())}
    services = {fold(str(w)) for w in data.get("not_products", ())}
    tokens = folded.split()
    start = next((i for i, w in enumerate(tokens) if w in verbs), None)
    if start is None or (start > 0 and tokens[start - 1] in asking):
        return []  # "¿qué tienen?": the catalog
    rest = tokens[start + 1:]
    while rest and rest[0] in skip:
        rest.pop(0)
    found: list[str] = []
    expecting = True
    for word in rest:
        if word in ("qmark", "exclam"):
            break
        if word in join and found:
            expecting = True
            continue
        if not expecting:
            break
        if word in skip:
            continue
        if (not word.isalpha() or len(word) < 3 or word in COMMON_WORDS or word in services or word in _stop()
                or word in verbs):
            return []  # "tienen algo para...", "hay delivery?": not a thing asked for by name
        found.append(word)
        expecting = False
    if not found:
        return []
    index = _index(tenant)
    for word in found:
        if _in_catalog(root(word), index) or (index.catalog_words and process.extractOne(
                word, index.catalog_words, scorer=fuzz.ratio, score_cutoff=80)):
            return []  # a typo or a form of something sold: the catalog's business
        if any(t.startswith("#") and not _in_catalog(t, index) for t in terms(word)):
            return []  # "¿hacen factura?": a policy question
    return found


@dataclass(frozen=True)
class Context:
    """What the conversation and the clock add to a message: the zone talked about or chosen, whether the
    bot just said a thing is not sold, and the next opening when the shop is closed now (else None)."""

    zone: str | None = None
    after_not_sold: bool = False
    closed_until: str | None = None


def _phrases(key: str) -> tuple[str, ...]:
    return tuple(fold(str(w)) for w in words().get(key, ()))


def tells_past_purchase(folded: str) -> bool:
    """ "ayer compré una calculadora…", "el balón que me trajeron…": about something bought before."""
    return any(has_cue_words(folded, w) for w in _phrases("past_purchase"))


def _tells_problem(text: str) -> bool:
    """The message speaks of a fault or damage (a word of the groups ``problem_groups`` names)."""
    problems = {"#" + fold(str(g)) for g in words().get("problem_groups", ())}
    return any(t in problems for t in terms(text))


def _asks_delivery_fee(folded: str) -> bool:
    return (any(has_cue_words(folded, w) for w in _phrases("delivery_words"))
            and any(has_cue_words(folded, w) for w in _phrases("fee_words")))


def _asks_right_now(folded: str) -> bool:
    """ "¿hay gas ahorita?", "¿todavía atienden?": whether something is to be had now (never "¿y ahora
    cuánto es?")."""
    return (any(has_cue_words(folded, w) for w in _phrases("right_now"))
            and (any(w in _phrases("sells_verbs") for w in folded.split()) or asks_hours(folded)))


def _not_sold_follow_up(tenant: TenantSnapshot, folded: str) -> list[str]:
    """ "y kerosene?" right after a "no vendemos": a short question about one more thing, read as
    "¿venden kerosene?"."""
    tokens = [w for w in folded.split() if w not in ("qmark", "exclam")]
    while tokens and tokens[0] in _phrases("sells_join"):
        tokens.pop(0)
    if not tokens or len(tokens) > 3:
        return []
    return not_sold_words(tenant, "venden " + " ".join(tokens))


def _zone_asked(tenant: TenantSnapshot, zones: tuple[str, ...]) -> DeliveryZone | None:
    names = {fold(z): z for z in zones}
    return next((z for z in tenant.delivery_zones if fold(z.name) in names), None)


def find(tenant: TenantSnapshot, text: str, folded: str, *, zones: tuple[str, ...] = (),
         has_products: bool = False, has_categories: bool = False, ordering: bool = False,
         has_payment: bool = False, confident: bool = True, subtotal: Decimal | None = None,
         money=str, asks_product: bool = False, context: Context | None = None) -> ShopAnswer | None:
    """The answer from the shop's data to one message, or None when it asks none of these things.

    ``ordering``: the message also adds or changes items (the answer then follows the cart's reply);
    ``subtotal``: the cart's total before delivery (None: empty cart); ``money``: formats an amount;
    ``asks_product``: the message also asks about a product ("¿cuánto cuesta y tiene garantía?": both
    answered, the product's first); ``context``: what the conversation and the clock add.
    """
    business = tenant.business
    context = context or Context()
    question = is_question(text, folded)
    past = tells_past_purchase(folded)
    if past:
        ordering = asks_product = False  # "ayer compré una calculadora y no prende": never an order
    if haggles(folded):
        replies: list[tuple[str, dict]] = []
        if business.haggling:
            replies.append(("regateo_tienda", {"text": business.haggling}))
        else:
            replies.append(("regateo", {}))
        return ShopAnswer("haggling", tuple(replies))
    # "¿cuánto sería con delivery a Surquillo?" with a cart: its total with that zone's fee
    zone = _zone_asked(tenant, zones) if business.delivery_enabled else None
    asks_fee = "cuanto" in folded.split() or (question and has_cue(folded, "cart_total"))
    if zone is None and not zones and business.delivery_enabled and question and _asks_delivery_fee(folded):
        zone = _zone_asked(tenant, (context.zone,)) if context.zone else None  # "¿el delivery ya no es gratis?"
        asks_fee = zone is not None
    if (zone is not None and subtotal is not None and not has_products and not has_payment and asks_fee
            and not has_cue(folded, "how_long") and not asks_hours(folded)):
        from chasqui.dialogue.pricing import below_min_order, delivery_fee

        fee = delivery_fee(tenant, zone, subtotal)
        replies = [("total_con_delivery", {"zone": zone.name, "fee": money(fee), "subtotal": money(subtotal),
                                           "total": money(subtotal + fee)})]
        if below_min_order(tenant, subtotal):
            replies.append(("minimo_delivery", {"minimum": money(business.min_order),
                                                "missing": money(business.min_order - subtotal)}))
        return ShopAnswer("zone_total", tuple(replies), memory={"asked_zone": zone.name})
    if question and any(has_cue_words(folded, w) for w in words().get("change_asked", ())):
        return cash_change_answer(tenant)  # "¿tienen vuelto de 200?": the cash method's own words
    if question and any(has_cue_words(folded, w) for w in words().get("min_order", ())):
        if business.min_order is None:
            replies = [("minimo_ninguno", {})]
        elif subtotal is not None and subtotal < business.min_order:
            replies = [("minimo_delivery", {"minimum": money(business.min_order),
                                            "missing": money(business.min_order - subtotal)})]
        else:
            replies = [("minimo_pedido", {"minimum": money(business.min_order)})]
        return ShopAnswer("min_order", tuple(replies), exclusive=not ordering)
    if context.closed_until and question and _asks_right_now(folded):  # "¿hay gas ahorita?" at night
        return ShopAnswer("closed", (("cerrado_ahora", {"next_open": context.closed_until}),),
                          exclusive=not (has_products or has_categories))  # a product's answer goes first
    if (question or not confident or past) and not (zones and has_cue(folded, "how_long")):
        found = best_document(tenant, text, past=past)  # "¿cuánto demora a Pueblo Libre?": the zone's time
        if found is not None:
            doc = found[0]
            key = "politica" if doc.kind == "policy" else "faq_respuesta"
            return ShopAnswer(doc.kind, ((key, {"text": doc.answer, "topic": doc.title}),),
                              exclusive=not (ordering or asks_product))
    if past and _tells_problem(text) and not has_payment:
        return ShopAnswer("complaint", ())  # "compré una tijera y se rompió", no policy on it: a person sees it
    if has_products or not question:
        return None
    missing = not_sold_words(tenant, text)  # the words asked about are checked against the catalog
    if not missing and context.after_not_sold and not has_categories:
        missing = _not_sold_follow_up(tenant, folded)  # "¿venden cocinas?" … "y kerosene?"
    if missing:
        return ShopAnswer("not_sold", (("no_vendemos", {"item": " ni ".join(missing)}),))
    if not has_categories and _asks_policy_words(tenant, text) and not has_payment and not zones:
            return ShopAnswer("no_info", (("sin_informacion", {}),))
    return None


def cash_change_answer(tenant: TenantSnapshot) -> ShopAnswer:
    """Whether the rider brings change: the cash payment method's details when they speak of change,
    else a neutral answer asking the bill (never a policy matched on "vuelta")."""
    cash = {fold(str(w)) for w in cues().get("cash", ())}
    change = [fold(str(w)) for w in words().get("change_asked", ())]
    for method in tenant.payment_methods:
        if not method.enabled or not any(has_cue_words(fold(f"{method.code} {method.name}"), w) for w in cash):
            continue
        details = (method.details or "").strip()
        if details and any(has_cue_words(fold(details), w) for w in change):
            return ShopAnswer("change", (("vuelto_detalle", {"method": method.name, "details": details}),))
    return ShopAnswer("change", (("vuelto_neutral", {}),))


def has_cue_words(folded: str, phrase: str) -> bool:
    return f" {fold(phrase)} " in f" {folded} "


def answer_turn(engine, turn, intent: str, confident: bool) -> ShopAnswer | None:
    """``find`` for one engine turn (None while the customer is accepting a read-back)."""
    if turn.accepting or not turn.analysis.text.strip():
        return None
    e = turn.entities
    if not haggles(turn.folded):
        from chasqui.dialogue import cheapest

        described = cheapest.answer(engine, turn)  # "¿cuál es el más barato?": by price, with prices
        if described is not None:
            return described
    subtotal = turn.priced().total if turn.cart else None
    from chasqui.dialogue import hours

    business, memory = engine.tenant.business, turn.memory
    closed = not hours.is_open(business, turn.now)
    context = Context(zone=memory.get("zone") or memory.get("asked_zone"),
                      after_not_sold=memory.get("last_topic") == "not_sold",
                      closed_until=hours.next_opening(business, turn.now) if closed else None)
    return find(
        engine.tenant, turn.analysis.text, turn.folded, zones=tuple(e.zones), has_products=bool(e.products),
        has_categories=bool(e.categories), ordering=intent in ("agregar_producto", "modificar_cantidad") and bool(
            e.products or (e.quantities and turn.memory.get("focus_sku"))),  # "dame 2 nomás, ¿es de res?"
        has_payment=bool(e.payment_methods), confident=confident, subtotal=subtotal, money=turn.money,
        asks_product=bool(e.products) and intent in ("consultar_precio", "consultar_disponibilidad"),
        context=context)


def say(engine, turn, answer: ShopAnswer) -> None:
    """Say ``answer`` in the turn; haggling also names a real promotion on what is in view."""
    for key, values in answer.replies:
        turn.reply(key, **values)
    turn.memory.update(answer.memory)
    turn.memory["last_topic"] = answer.kind
    turn.decision.answered.append(answer.kind)
    if answer.kind != "haggling":
        return
    from chasqui.dialogue.pricing import active_promotions

    skus = [*turn.cart, turn.memory.get("focus_sku"), *(turn.memory.get("last_skus") or [])]
    products = {p.sku for s in skus if s and (p := engine.tenant.product_of(s))}
    promos = [p for p in active_promotions(engine.tenant, turn.now.date())
              if p.sku in products or products & {str(s) for s in p.rule.get("skus", [])}
              or any(str(s) in skus for s in p.rule.get("skus", []))]
    for promo in promos[:2]:
        turn.reply("regateo_promo", promo=promo.name, detail=promo.description.rstrip(". ") or promo.name)


def below_minimum(engine, turn) -> bool:
    """A delivery checkout below the shop's minimum order: say the minimum, what is missing and that
    pickup has none, and wait (True); False when the order may go on."""
    from chasqui.dialogue import choices as offers
    from chasqui.dialogue.pricing import below_min_order

    minimum = engine.tenant.business.min_order
    subtotal = turn.priced().subtotal
    if minimum is None or not below_min_order(engine.tenant, subtotal):
        return False
    if turn.memory.get("min_order_told") != turn.memory.get("turn"):
        turn.reply("minimo_delivery", minimum=turn.money(minimum), missing=turn.money(minimum - subtotal))
        turn.memory["min_order_told"] = turn.memory.get("turn")
    turn.memory["awaiting"] = "fulfillment"
    turn.offer(offers.fulfillment(turn.say.say))
    return True


def day_part_today(business, folded: str, now) -> list[str]:
    """ "¿a qué hora abren en la tarde?": today's day key, so its shifts are told (else [])."""
    from chasqui.dialogue import hours

    if not any(has_cue_words(folded, p) for p in words().get("day_parts", ())):
        return []
    return [hours.DAYS[hours.local_now(business, now).weekday()]]


def note_minimum(engine, turn) -> None:
    """A delivery zone just chosen for a cart below the minimum order ("mándamelo a X"): say so now."""
    memory = turn.memory
    if memory.get("fulfillment") == "delivery" and memory.get("zone") and turn.cart and (
            memory.get("zone") != turn.state.memory.get("zone") or turn.entities.zones):
        below_minimum(engine, turn)
