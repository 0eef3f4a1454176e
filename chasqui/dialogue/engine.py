"""The dialogue policy: one customer message + tenant snapshot + state + clock -> a Decision.

Pure: no database, no HTTP. The caller (WhatsApp worker, ``chasqui chat``, ``chasqui simulate``)
loads the state, calls the engine and applies the decision in one transaction.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from chasqui.dialogue import (
    address,
    asking,
    bundles,
    clauses,
    commands,
    compound,
    edits,
    executor,
    hours,
    payment_choice,
    per_unit,
    questions,
    references,
    shop_answers,
    variants,
)
from chasqui.dialogue import choices as offers
from chasqui.dialogue import sellable as sellable_skus
from chasqui.dialogue.composer import Composer, fmt_money, join_es
from chasqui.dialogue.cues import asks_hours, cues, fold, has_cue, has_stem, is_delivery, is_pickup
from chasqui.dialogue.escalation import frustration_reason
from chasqui.dialogue.modifiers import (
    LineNote,
    Notes,
    annotated,
    cart_modifier,
    lines_of,
    read_notes,
    split_counts,
)
from chasqui.dialogue.order_notes import added, order_note
from chasqui.dialogue.pricing import (
    PricedCart,
    active_promotions,
    delivery_fee,
    line_label,
    price_cart,
)
from chasqui.dialogue.quantities import Asked, amount_text, asked, nearest_steps, quantity_problem
from chasqui.dialogue.state import (
    BOT,
    ESCALATED,
    PAID,
    PAUSED,
    PAYMENT_REPORTED,
    PENDING_PAYMENT,
    CancelOrder,
    Choices,
    ConversationState,
    Decision,
    Notification,
    Photo,
    PlaceOrder,
    ReportPayment,
)
from chasqui.domain import (
    CartLine,
    DeliveryZone,
    PaymentMethod,
    Product,
    Promotion,
    Quantity,
    TenantSnapshot,
    as_quantity,
)
from chasqui.nlu.analyzer import Analysis, analyze
from chasqui.nlu.classifier import IntentModel
from chasqui.nlu.entities import CatalogMatcher, ProductMention, model_tokens
from chasqui.nlu.intents import ESCALATING, INFORMATIONAL
from chasqui.nlu.lexicon import COMMON_WORDS
from chasqui.nlu.normalize import CATEGORY_TOKEN, PRODUCT_TOKEN

if TYPE_CHECKING:
    from chasqui.llm.teacher import Teacher

# Questions a short "y ...?" follow-up can continue.
FOLLOW_UP_INTENTS = {"consultar_precio", "consultar_disponibilidad", "consultar_delivery"}
# Below the tenant's threshold, a guess is acted on only above these probabilities; undoing
# the customer's cart or order needs more certainty than answering a question.
DESTRUCTIVE = {"vaciar_carrito", "cancelar_pedido", "modificar_cantidad"}
RULE_FLOOR = 0.2
DESTRUCTIVE_FLOOR = 0.45
MAX_LISTED = 8
MAX_PHOTOS = 3  # product photos in one turn
MAX_MESSAGE_CHARS = 320
# Past-tense payment verbs ("yapee", "pague", "transferi", "deposite", "plinee"): a payment made.
_PAID_VERB = re.compile(r"\b(?:yap\w*e|plin\w*e|pague|transferi|deposite|abone|cancele|pase)\b")
_OF_NUMBER = re.compile(r"\b(?:el|la|los|las|uno|una)\s+de\s+(\d+)\b")
_BARE_NUMBER = re.compile(r"^\d+(?:\s+(?:por favor|nomas|no mas|mejor|porfa))?$")
_BARE_TIMES = re.compile(r"^(?:x|por)\s*\d+(?:\s+(?:por favor|nomas|no mas|mejor))?$")
_SWAP = re.compile(r"\b(?:cambi\w*|reemplaz\w*)\b.*\bpor\b|\ben (?:vez|lugar) de(?:l)?\b")
_SWAP_REVERSED = re.compile(r"\ben (?:vez|lugar) de(?:l)?\b")
_RELATIVE_PLUS = re.compile(r"\b(\d+|una|uno|un|otra|otro)\s+(?:(?!no\b|nada\b)[a-z]+\s+)?mas\b")
_RELATIVE_MINUS = re.compile(r"\b(\d+|una|uno|un)\s+(?:[a-z]+\s+)?menos\b")
_FILLER = frozenset({
    "y", "el", "la", "los", "las", "lo", "un", "una", "a", "al", "de", "del", "en", "para", "por", "que", "tal",
    "pe", "ps", "pues", "oe", "qmark", "exclam", "tambien", "ese", "esa", "otro", "otra", "emo", "pos", "neg",
})
_QUESTION_WORDS = frozenset({
    "cuanto", "cuesta", "cuestan", "precio", "vale", "valen", "hay", "tienen", "tienes", "queda", "quedan",
    "stock", "delivery", "envio", "llega", "llegan", "horario", "abren", "pago", "pagar",
})
_COUNT_WORDS = {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10}
_BARE_COUNT = re.compile(r"^(?:\w+\s+){0,3}?(?:dame|deme|quiero|ponme|pongame|mandame|mandeme|agregame|separame)\s+"
                         r"(\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez)\s+y\b")
_PLACE_STOP = frozenset({
    "tambien", "llegan", "llega", "llegas", "hacen", "hace", "envian", "mandan", "reparten", "delivery", "por",
    "favor", "porfa", "no", "si", "cuanto", "cuanta", "que", "y", "o", "hoy", "manana", "pe", "pues", "ps",
})
_CLAUSE_SPLIT = re.compile(r"\b(?:pero|puedo|puede|podria|aceptan|acepta|reciben|recibe|qmark|entonces|mejor)\b|,")
_NEGATIONS = frozenset({"no", "sin", "nunca", "ni", "tampoco"})
_ORDERING = frozenset({"agregar_producto", "modificar_cantidad"})
CHECKOUT_INTENTS = frozenset({"confirmar_pedido", "confirmar_pago", "cancelar_pedido", "vaciar_carrito"})
PRODUCT_QUESTIONS = frozenset({"consultar_precio", "consultar_disponibilidad", "consultar_catalogo",
                               "consultar_promociones"})
_POSSESSIVES = frozenset({"mi", "mis", "tu", "su", "nuestra", "nuestro"})
_ARTICLES_OF_PLACES = frozenset({"la", "el", "los", "las", "un", "una"})
# Words after "a"/"en"/"hasta" that are the customer's own place or a time, never a district.
_NOT_A_PLACE = frozenset({
    "domicilio", "casa", "depa", "departamento", "dpto", "oficina", "trabajo", "chamba", "direccion", "jato",
    "edificio", "condominio", "tienda", "local", "delivery", "noche", "tarde", "manana", "mediodia", "rato",
    "momento", "hora", "horas", "minutos", "semana", "fin", "hoy", "ahorita", "ahora", "pedido", "total",
})
_INFINITIVE = re.compile(r"^[a-z]{2,}(?:ar|er|ir)$")
_PLACE = re.compile(r"\b(?:a|al|en|para|hasta|por)\s+([a-zñ][a-zñ ]{2,40})$")
_REMOVE = re.compile(r"\b(?:quit|sac|elimin|borr|retir)[a-z]*\b|\bya no (?:quiero|deseo)\b|\bsin\b")
_CLAUSES = re.compile(r"[,;\n]+")
_DIGIT = re.compile(r"\d")
_AMOUNT = re.compile(r"^(?:s\s+)?(\d{1,5})(?:\s+soles)?\b")
# Checkout facts a read-back shows; the customer confirms exactly these.
CHECKOUT_FACTS = ("fulfillment", "zone", "address", "payment_method", "change_for", "order_notes")
_REMOVE_WORDS = (
    "quita", "quite", "quitale", "quitele", "saca", "saque", "sacale", "elimina", "elimine", "borra", "borre",
)


@dataclass(frozen=True)
class Brain:
    """The per-tenant NLU resources the engine reads (built from the tenant's DB rows)."""

    matcher: CatalogMatcher
    model: IntentModel

    @classmethod
    def for_tenant(cls, tenant: TenantSnapshot, model: IntentModel) -> Brain:
        enabled = [m for m in tenant.payment_methods if m.enabled]
        matcher = CatalogMatcher(
            [p for p in tenant.products if p.active], payment_methods=enabled, zones=tenant.delivery_zones
        )
        return cls(matcher=matcher, model=model)


class Turn:
    """Working memory of one customer turn; handlers append replies and change the cart."""

    def __init__(self, engine: Engine, state: ConversationState, now: datetime, analysis: Analysis) -> None:
        self.engine = engine
        self.tenant = engine.tenant
        self.state = state
        self.now = now
        self.analysis = analysis
        self.entities = analysis.entities
        self.folded = fold(analysis.text)
        memory = copy.deepcopy(state.memory)
        memory["turn"] = int(memory.get("turn", 0)) + 1
        self.decision = Decision(
            status=BOT, cart=dict(state.cart), memory=memory,
            entities=_entities_json(analysis),
        )
        self.say = Composer(self.tenant, memory["turn"], state.customer_name)
        # The message accepts the read-back shown before it ("sí", "confirmo", the button, "ya te yapeé").
        self.accepting = False
        self.kind = "text"  # text | image | interactive | ... (the WhatsApp message type)
        self.notes = Notes()  # per product mention: its modifiers and notes (chasqui.dialogue.modifiers)
        self.pending_notes: list[CartLine] = []  # the notes of the items about to be added, in order
        self.additions: list[CartLine] = []  # lines added this turn with notes or modifiers
        self.address: str | None = None  # the street address the message gives (chasqui.dialogue.address)

    # -- small helpers -------------------------------------------------------------------
    @property
    def memory(self) -> dict:
        return self.decision.memory

    @property
    def cart(self) -> dict[str, int]:
        return self.decision.cart

    def reply(self, key: str, variant: int | None = None, **values: object) -> None:
        text = self.say.say(key, variant=variant, **values)
        if text:
            self.decision.replies.append(text)

    def append_to_last(self, key: str, **values: object) -> None:
        text = self.say.say(key, **values)
        if not text:
            return
        if self.decision.replies:
            self.decision.replies[-1] = f"{self.decision.replies[-1]} {text}"
        else:
            self.decision.replies.append(text)

    def show_photos(self, products: list[Product], *, again: bool = False) -> None:
        """Send the products' catalog photos (each once per conversation unless asked ``again``)."""
        shown = list(self.memory.get("shown_photos", []))
        for product in products[:MAX_PHOTOS]:
            if product.image_url and (again or product.sku not in shown):
                self.decision.photos.append(Photo(product.image_url, product.name))
                shown.append(product.sku)
        if shown:
            self.memory["shown_photos"] = shown[-MAX_LISTED:]

    def offer(self, choices: Choices | None) -> None:
        """Tap-able options for the reply just made (None leaves the reply as plain text)."""
        self.decision.choices = choices

    @property
    def placed_order(self) -> PlaceOrder | None:
        """The order this turn places, if it places one."""
        placed = [c for c in self.decision.order_commands if isinstance(c, PlaceOrder)]
        return placed[-1] if placed else None

    def money(self, amount: Decimal) -> str:
        return fmt_money(self.tenant, amount)

    def priced(self, cart: dict[str, int] | None = None) -> PricedCart:
        if cart is None:  # the turn's cart, its lines keeping their notes and modifiers
            lines = self.decision.cart_lines
            if lines is None:
                lines = lines_of(self.cart, self.state.cart_lines, self.additions)
            return price_cart(self.tenant, lines, self.now.date())
        return price_cart(self.tenant, cart, self.now.date())

    def remember_products(self, skus: list[str]) -> None:
        """Products just talked about: a list offers choices, a single one becomes the focus."""
        skus = list(dict.fromkeys(skus))
        if not skus:
            return
        self.memory["last_skus"] = skus[:MAX_LISTED]
        if len(skus) > 1:
            self.memory["offered_skus"] = skus[:MAX_LISTED]
        else:
            self.memory["focus_sku"] = skus[0]
            product = self.tenant.product(skus[0])
            models = model_tokens(product.name) if product else set()
            if models:  # the customer's phone, say: "y la mica pal mismo cel?"
                self.memory["model_words"] = sorted(models)


def _entities_json(analysis: Analysis) -> dict:
    e = analysis.entities
    return {
        "products": [{"sku": m.sku, "quantity": m.quantity} for m in e.products],
        "quantities": list(e.quantities),
        "payment_methods": list(e.payment_methods),
        "zones": list(e.zones),
        "categories": list(e.categories),
    }


class Engine:
    def __init__(self, tenant: TenantSnapshot, brain: Brain, teacher: Teacher | None = None) -> None:
        self.tenant = tenant
        self.brain = brain
        self.teacher = teacher  # the LLM that decides the turns the model is unsure of (optional)

    # -- entry points ----------------------------------------------------------------------
    def handle_operator(self, text: str, state: ConversationState, now: datetime) -> Decision:
        """An operator wrote to the customer: the bot steps aside for the configured time."""
        memory = copy.deepcopy(state.memory)
        decision = Decision(status=state.status, paused_until=state.paused_until, cart=dict(state.cart),
                            memory=memory, source="none")
        bot = self.tenant.bot
        if bot.intervention_enabled and state.status != ESCALATED:
            timeout = min(max(int(bot.intervention_timeout_seconds), 30), 600)
            decision.status = PAUSED
            decision.paused_until = now + timedelta(seconds=timeout)
        return decision

    def handle_customer(
        self, text: str, state: ConversationState, now: datetime, *, kind: str = "text", choice: str | None = None
    ) -> Decision:
        """``choice``: the id of the button or list row the customer tapped, when the message is one.

        A message of several commands ("quita la chicha y pon dos inka kola") is decided clause by
        clause (``commands.plan``, ``compound.run``); the decision lists the commands carried out."""
        parts = self._clauses(text, state, now) if choice is None and kind == "text" else None
        if parts:
            return compound.run(parts, state, now, lambda part, current: self._decide(part, current, now))
        return self._decide(text, state, now, kind=kind, choice=choice)

    def _clauses(self, text: str, state: ConversationState, now: datetime) -> list[str] | None:
        if state.status == ESCALATED or (state.status == PAUSED and state.paused_until and now < state.paused_until):
            return None
        answering = state.memory.get("awaiting") == "address" and bool(state.cart)
        place, _said = address.split(text or "", answering=answering, matcher=self.brain.matcher)
        if place is not None:  # an address's words are never commands
            return None
        return commands.plan(text or "", self._analyze_piece)

    def _analyze_piece(self, piece: str) -> Analysis:
        analysis = analyze(piece, self.brain.matcher, self.brain.model)
        return clauses.settle(analysis, self.tenant.product_of)

    def _base_sku(self, sku: str) -> str:
        product = self.tenant.product_of(sku)
        return product.sku if product is not None else sku

    def _decide(
        self, text: str, state: ConversationState, now: datetime, *, kind: str = "text", choice: str | None = None
    ) -> Decision:
        d = self._decide_turn(text, state, now, kind=kind, choice=choice)
        d.commands = commands.describe(state, d, self._base_sku, text)
        return d

    def _decide_turn(
        self, text: str, state: ConversationState, now: datetime, *, kind: str = "text", choice: str | None = None
    ) -> Decision:
        tap = offers.decode(choice)
        if tap is not None:  # the option's full words (a title may have been cut to fit WhatsApp)
            text = offers.tapped_text(self.tenant, Composer(self.tenant, 0).say, tap) or text
        place, said = (None, text or "") if tap is not None else address.split(
            text or "", answering=state.memory.get("awaiting") == "address" and bool(state.cart),
            matcher=self.brain.matcher)
        analysis = analyze(said, self.brain.matcher, self.brain.model)  # the address's words are no items
        analysis = address.with_zones(analysis, place, self.brain.matcher)  # "jr x 345 san miguel": its zone
        analysis = clauses.settle(analysis, self.tenant.product_of,  # "coca de litro y medio", "solgas recarga"
                                  variants.focus_of(self.tenant, state.memory))
        analysis = per_unit.drop_unit_mentions(analysis)  # "hacen copias? a cuanto la hoja": the copies' unit
        notes = read_notes(analysis.normalized, analysis.entities.products, self.tenant.product_of)
        if notes.inside:  # "sin hueso": a word of a note, never an item
            kept = tuple(m for k, m in enumerate(analysis.entities.products) if k not in notes.inside)
            lines = {kept.index(m): v for k, v in notes.lines.items() if (m := analysis.entities.products[k]) in kept}
            analysis = dataclasses.replace(analysis, entities=dataclasses.replace(analysis.entities, products=kept))
            notes = Notes(lines)
        turn = Turn(self, state, now, analysis)
        turn.notes = notes
        turn.kind = kind
        turn.address = place
        d = turn.decision
        d.intent, d.confidence = analysis.prediction.intent, round(analysis.prediction.confidence, 4)
        if state.status == PAUSED and state.paused_until and now < state.paused_until:
            d.status, d.paused_until, d.source = PAUSED, state.paused_until, "none"
            return d
        if state.status == ESCALATED:
            d.status, d.source = ESCALATED, "none"
            return d
        pending_readback = bool(state.cart and state.memory.get("readback"))
        turn.accepting = pending_readback and (
            kind == "image" or (tap is not None and tap.kind == "intent" and tap.value == "confirmar_pedido")
            or self._accepts(turn)
        )
        if kind == "image" and ((state.order and state.order.status == PENDING_PAYMENT) or pending_readback):
            d.intent, d.source = "confirmar_pago", "rule"
            self._confirm_payment(turn)
            return d
        if kind not in ("text", "interactive", "button") and not (text or "").strip():
            d.source = "fallback"
            self._fallback(turn)
            return d
        tapped = offers.tapped_intent(tap, bool(turn.cart), self.HANDLERS.__contains__) if tap else None
        if place is not None and not said.strip():  # the address alone: a checkout fact, never an item
            tapped = "confirmar_pedido" if turn.cart else None
            if tapped is None:
                d.source = "rule"
                turn.memory["address"] = place
                turn.reply("direccion_anotada", address=place)
        if tapped is not None:
            self._run_tapped(turn, tapped)
        elif place is None or said.strip():
            self._policy(turn)
        if turn.additions:  # lines with notes or modifiers: the cart's lines exactly
            d.cart_lines = lines_of(d.cart, state.cart_lines, turn.additions)
        d.replies = merge_replies(d.replies)
        return d

    # -- commands from elsewhere (the LLM teacher's tools) -----------------------------------------
    def run_command(self, turn: Turn, command: commands.Command) -> None:
        executor.run(self, turn, command)

    def run_intent(self, turn: Turn, intent: str) -> None:
        self.HANDLERS[intent](self, turn)

    def _run_tapped(self, turn: Turn, intent: str) -> None:
        """A tapped option says what the customer wants: no guessing, no escalation checks."""
        d = turn.decision
        d.intent, d.confidence, d.source = intent, 1.0, "rule"
        turn.memory["fallback_streak"] = 0
        self.HANDLERS[intent](self, turn)
        turn.memory["last_intent"] = intent

    # -- policy ----------------------------------------------------------------------------
    def _policy(self, turn: Turn) -> None:
        d = turn.decision
        prediction = turn.analysis.prediction
        threshold = float(self.tenant.bot.confidence_threshold)
        intent, confident = prediction.intent, prediction.confidence >= threshold

        shop = shop_answers.answer_turn(self, turn, intent, confident)  # policies, FAQ, haggling...
        reason = self._escalation_reason(turn, intent, prediction.confidence)
        if reason == "queja o reclamo" and shop is not None and shop.kind != "complaint":
            reason = None  # "¿y si llega golpeado me lo cambian?": the shop's policy answers it
        if shop is not None and shop.kind == "complaint":
            reason = reason or "queja o reclamo"  # a fault of a past purchase no policy covers: a person
        if reason:
            d.intent = intent if intent in ESCALATING else d.intent
            d.source = "ml" if confident and intent in ESCALATING else "rule"
            self._escalate(turn, reason)
            return
        if shop is not None and asking.cancels(turn, intent):  # "cancélalo": done, then the shop's policy
            d.intent, d.source, turn.memory["fallback_streak"] = "cancelar_pedido", "rule", 0
            self.h_cancelar_pedido(turn)
            if d.status != ESCALATED:
                shop_answers.say(self, turn, shop)
            return
        if shop is not None and shop.exclusive:  # a question about the shop: never changes the cart
            d.source, turn.memory["fallback_streak"] = "rule", 0
            shop_answers.say(self, turn, shop)
            if turn.address:  # "envíalo a av sucre 890. ¿cuánto es el delivery?": the answer, and the facts
                self._note_checkout_facts(turn, intent)
            else:  # "ruc 20601234567, razón social ...": the invoice's data
                self._note_order_notes(turn)
            self._keep_readback(turn, intent)
            return

        if self._modifier_for_cart(turn):  # "con subida a piso": on the cart's line, charged
            return
        resolved, source = self._resolve_intent(turn, intent, confident)
        if resolved is None and self._note_order_notes(turn):  # "ruc 20601234567, razón social ...": noted
            d.source, turn.memory["fallback_streak"] = "rule", 0
            turn.reply("nota_agregada", items=turn.memory["order_notes"])
            self._keep_readback(turn, intent)
            return
        if resolved is None:
            d.source = "fallback"
            self._fallback(turn)
            return
        if asking.keeps_cart(turn, resolved):  # a question never changes the cart: it is answered
            if shop is not None:
                d.intent, d.source = intent, "rule"
                shop_answers.say(self, turn, shop)
                self._keep_readback(turn, intent)
                return
            price = has_cue(turn.folded, "price_question")
            resolved, source = ("consultar_precio" if price else "consultar_disponibilidad"), "rule"
        d.intent, d.source = resolved, source
        d.learn = source == "ml"
        turn.memory["fallback_streak"] = 0
        if resolved != "fuera_de_alcance":
            turn.memory.pop("awaiting_human", None)
        if source != "llm":  # the teacher's tools already acted
            self.HANDLERS[resolved](self, turn)
        if has_cue(turn.folded, "photo") and resolved not in ESCALATING:  # "¿tienes foto de la torta?"
            turn.show_photos(self._products_in_view(turn), again=True)
        if has_cue(turn.folded, "contents") and resolved in PRODUCT_QUESTIONS:  # "¿qué trae el combo familiar?"
            self._describe_products(turn)
        if shop is not None and not edits.swapped(turn):  # "quiero 2, ¿dan boleta?": the items, then the answer
            shop_answers.say(self, turn, shop)
        if resolved not in CHECKOUT_INTENTS:
            self._note_checkout_facts(turn, resolved)
        self._keep_readback(turn, resolved)
        references.note_focus(self, turn)
        turn.memory["last_intent"] = resolved

    def _resolve_intent(self, turn: Turn, intent: str, confident: bool) -> tuple[str | None, str]:
        memory, entities, folded = turn.memory, turn.entities, turn.folded
        words = folded.split()
        # "y la chicha?", "y a chorrillos?": continue the previous question.
        last = memory.get("last_intent")
        if (words[:1] == ["y"] and len(words) <= 6 and last in FOLLOW_UP_INTENTS and self._elliptical(turn)
                and intent not in ESCALATING and intent not in {"agradecimiento", "despedida"}):
            return last, "rule"
        # The read-back accepted ("sí", "confirmo", "ya te yapeé"): the order goes ahead.
        if turn.accepting and not entities.products:
            return ("confirmar_pago" if self._says_already_paid(turn) else "confirmar_pedido"), "rule"
        # Option values of the product in focus ("en 40", "y en negro?", "mejor XL"), or a short answer
        # to the bot's own question ("3", "ya", "sepáramelo"): see variants.py and questions.py.
        answered = variants.followup_intent(self, turn) or self._answers_offer(turn)
        if answered is not None:
            return answered, "rule"
        # A pending checkout question answered with a payment method, a zone or pickup.
        if self._answers_checkout(turn, intent):
            return "confirmar_pedido", "rule"
        # "mándalo a av brasil 3320 magdalena, pago x plin", a bare "yape": facts of the order to come.
        if turn.cart and not entities.products and (
                address.gives_delivery(turn.address, turn.analysis.text, intent)
                or payment_choice.bare(turn.analysis.text, self.brain.matcher)):
            return "confirmar_pedido", "rule"
        # "pago en efectivo con 200", "con 100 para el vuelto": the bill of a cash payment.
        if turn.cart and not entities.products and self._cash_change(turn) is not None:
            return "confirmar_pedido", "rule"
        # "ya agrégala": an adding verb and no payment named is never a payment or a complaint.
        if (intent in ("confirmar_pago", "queja_reclamo", "fuera_de_alcance") and has_cue(folded, "add_verbs")
                and not entities.payment_methods and (entities.products or memory.get("last_skus"))):
            return "agregar_producto", "rule"
        # "te yapeo" with a cart and no order yet: the payment method of the order to come.
        if (intent == "confirmar_pago" and not confident and turn.cart and entities.payment_methods
                and not (turn.state.order and turn.state.order.status == PENDING_PAYMENT)):
            return "confirmar_pedido", "rule"
        # "no hay otra cosa?" right after the promotions: the regular catalog.
        browsing = {"consultar_catalogo", "consultar_promociones", "consultar_disponibilidad", "fuera_de_alcance"}
        if (memory.get("last_topic") == "promotions" and has_cue(folded, "more_options")
                and (intent in browsing or not confident) and not entities.quantities):
            return "consultar_catalogo", "rule"
        if (not confident and has_cue(folded, "other_one") and last == "agregar_producto"
                and memory.get("offered_skus") and not entities.products):
            return "agregar_producto", "rule"  # "y el otro también": the other option offered
        if memory.get("awaiting_human") and has_cue(folded, "yes") and not entities.products:
            return "solicitar_humano", "rule"
        # Opening hours live with delivery/pickup logistics; a greeting or a vague question
        # about them ("todavía atienden?") gets the hours.
        if asks_hours(folded) and not entities.products and (
                intent in browsing | {"saludo", "consultar_delivery"}
                or (intent == "despedida" and ("hora" in words or "?" in turn.analysis.text))):  # "hasta q hora"
            return "consultar_delivery", "ml" if confident and intent == "consultar_delivery" else "rule"
        # "ya mándame el combo chilcanero": a bundle named in an order, even when the model is unsure
        if ((intent == "agregar_producto" or not confident) and not shop_answers.is_question(turn.analysis.text, folded)
                and self.named_bundle(turn) is not None):
            return "agregar_producto", "rule"
        if references.takes(self, turn, intent, confident):  # "ya el rojo entonces", "ya quiero esa promo"
            return "agregar_producto", "rule"
        # "ya", "dale", "sí" with the checkout waiting on a step: that step goes on (asked again if needed)
        if (not confident and turn.cart and memory.get("awaiting") in _CHECKOUT_STEPS and not entities.products
                and questions.short_yes(folded)):
            return "confirmar_pedido", "rule"
        if confident:
            return self._adapt(turn, intent), "ml"
        if self.teacher is not None:  # the LLM decides, labels and acts through its tools
            taught = self.teacher.teach(self, turn)
            if taught is not None:
                return taught, "llm"
        for candidate, score in self._rerank(turn):
            floor = DESTRUCTIVE_FLOOR if candidate in DESTRUCTIVE else RULE_FLOOR
            if score >= floor and self._supported(turn, candidate):
                return self._adapt(turn, candidate), "rule"
        return None, "fallback"

    def _adapt(self, turn: Turn, intent: str) -> str:
        """Fit the intent to the cart: changing a quantity of a product not in the cart adds it."""
        if intent == "modificar_cantidad" and turn.entities.products and not any(
            s in turn.cart for m in turn.entities.products for s in (m.sku, *m.candidates)
        ) and not self._named_cart_lines(turn) and not any(w in turn.folded.split() for w in _REMOVE_WORDS):
            return "agregar_producto"
        e = turn.entities
        if intent == "consultar_precio" and not (e.products or e.categories) and self._asks_cart_total(turn):
            return "ver_carrito"  # "¿cuánto sería?" with a full cart: the order and its total
        if intent in ("cancelar_pedido", "vaciar_carrito") and len(turn.cart) > 1 and self._named_cart_lines(turn):
            return "modificar_cantidad"  # "ya no quiero el soporte": that line, not the whole order
        return intent

    def _answers_offer(self, turn: Turn) -> str | None:
        """ "ya", "dale", "sepáramelo", "3" right after the bot offered one product ("¿te separo?")."""
        offered = questions.pending(turn.memory, "offer")
        if offered is None or turn.entities.products or turn.entities.payment_methods or "?" in turn.analysis.text:
            return None
        if questions.short_yes(turn.folded) or questions.bare_count(turn.folded) is not None:
            return "agregar_producto"
        return None

    def _named_cart_lines(self, turn: Turn) -> list[str]:
        """Cart lines the message names, by product or by category ("el soporte", "las micas"); a product
        with variants names its variant lines."""
        named = [s for m in turn.entities.products for s in (m.sku, *m.candidates) if s in turn.cart]
        named += [s for s in turn.cart for m in turn.entities.products
                  if (p := self.tenant.product_of(s)) and p.sku != s and p.sku in (m.sku, *m.candidates)]
        named = variants.narrow_lines(turn, named)  # "quita el polo blanco": that variant only
        categories = {fold(c) for c in turn.entities.categories}
        named += [s for s in turn.cart if (p := self.tenant.product(s)) and fold(p.category) in categories]
        return list(dict.fromkeys(named))

    def _rerank(self, turn: Turn) -> list[tuple[str, float]]:
        """The model's top guesses, each nudged up when the message has the entities it needs."""
        e = turn.entities
        bonus = {
            "problema_pago": 0.15 if e.payment_methods else 0.0,
            "consultar_pago": 0.1 if e.payment_methods else 0.0,
            "consultar_delivery": 0.15 if e.zones else 0.0,
            "agregar_producto": 0.1 if e.products and e.quantities else 0.0,
            "consultar_catalogo": 0.1 if e.categories and not e.products else 0.0,
        }
        ranked = [(intent, p + bonus.get(intent, 0.0)) for intent, p in turn.analysis.prediction.top]
        return sorted(ranked, key=lambda pair: -pair[1])

    def _elliptical(self, turn: Turn) -> bool:
        """ "y la chicha?" / "y a chorrillos?" say only what changes; "y cuánto cuesta?" asks anew."""
        content = [w for w in fold(turn.analysis.abstracted).split()
                   if w not in _FILLER and w not in (PRODUCT_TOKEN, CATEGORY_TOKEN) and not w.isdigit()]
        return len(content) <= 3 and not any(w in _QUESTION_WORDS for w in content)

    def _answers_checkout(self, turn: Turn, intent: str) -> bool:
        awaiting = turn.memory.get("awaiting")
        if not awaiting or not turn.cart or intent in ESCALATING | {"problema_pago", "cancelar_pedido"}:
            return False
        e, folded = turn.entities, turn.folded
        if intent == "confirmar_pago" and turn.analysis.prediction.confidence >= 0.5:
            return False
        if awaiting == "address" and not e.products and self._street_address(turn, answering=True):
            return True
        if awaiting == "payment_method":
            return bool(e.payment_methods) and intent != "consultar_pago"
        if awaiting in ("fulfillment", "zone"):
            return bool(e.zones) or is_pickup(folded) or (awaiting == "fulfillment" and is_delivery(folded))
        return False

    def _supported(self, turn: Turn, intent: str) -> bool:
        """A low-confidence guess is acted on only when the message's entities back it."""
        e, cart, state = turn.entities, turn.cart, turn.state
        if intent in INFORMATIONAL - {"fuera_de_alcance"}:
            return turn.analysis.prediction.confidence >= 0.35 or bool(e.products or e.categories)
        if intent == "agregar_producto":
            return bool(e.products) or (bool(e.quantities) and bool(turn.memory.get("last_skus")))
        if intent == "modificar_cantidad":
            return bool(e.products) or (bool(cart) and bool(e.quantities))
        if intent == "vaciar_carrito":
            return bool(cart)
        if intent == "confirmar_pedido":
            return bool(cart or e.products) and bool(e.payment_methods or e.zones or is_pickup(turn.folded))
        if intent == "cancelar_pedido":
            return bool(cart) or bool(state.order and state.order.status == PENDING_PAYMENT)
        if intent == "confirmar_pago":
            return bool(state.order and state.order.status == PENDING_PAYMENT) or bool(
                cart and turn.memory.get("readback"))
        if intent == "problema_pago":
            return bool(e.payment_methods)
        return False

    # -- escalation ------------------------------------------------------------------------
    def _escalation_reason(self, turn: Turn, intent: str, confidence: float) -> str | None:
        folded = turn.folded
        for keyword in self.tenant.bot.escalation_keywords:
            if keyword and f" {fold(keyword)} " in f" {folded} ":
                return "palabra clave"
        if intent == "solicitar_humano" and confidence >= 0.5:
            return "pidió hablar con una persona"
        frustrated = frustration_reason(turn.analysis.text, folded, turn.memory)
        if intent == "queja_reclamo":
            # An unsure complaint guess about a message that names products ("¿qué audífonos tienen?")
            # is more likely a question the model has not seen: no escalation without a firmer guess.
            e = turn.entities
            firm = confidence >= float(self.tenant.bot.confidence_threshold)
            about_products = bool(e.products or e.categories) and not firm and not frustrated
            if not about_products:
                turn.memory["complaints"] = int(turn.memory.get("complaints", 0)) + 1
                if confidence >= 0.6 or frustrated:
                    return "queja o reclamo"
        if frustrated:
            return frustrated
        return None

    def _escalate(self, turn: Turn, reason: str) -> None:
        d = turn.decision
        d.status = ESCALATED
        d.escalation = (reason, turn.analysis.text[:500])
        turn.reply("escalado")
        if not hours.is_open(self.tenant.business, turn.now):
            next_open = hours.next_opening(self.tenant.business, turn.now)
            turn.append_to_last("escalado_fuera_de_horario", next_open=next_open)
        self._notify_staff(turn, "escalation", "notificacion_escalado", reason=reason, text=turn.analysis.text[:300])

    def _notify_staff(self, turn: Turn, kind: str, key: str, **values: object) -> None:
        """Tell the tenant's staff numbers, when the tenant wants this kind of notice."""
        notify = self.tenant.notifications
        if not (notify.notify_escalations if kind == "escalation" else notify.notify_sales):
            return
        state = turn.state
        text = turn.say.say(key, customer=state.customer_name or state.customer_phone, phone=state.customer_phone,
                            **values)
        turn.decision.notifications.extend(Notification(n, text, kind) for n in notify.numbers)

    def _fallback(self, turn: Turn) -> None:
        streak = int(turn.memory.get("fallback_streak", 0)) + 1
        turn.memory["fallback_streak"] = streak
        turn.memory["last_unanswered"] = turn.folded
        if streak >= 2:
            turn.reply("no_entendi_otra_vez")
            turn.memory["awaiting_human"] = True
        else:
            turn.reply("no_entendi")

    # -- product helpers -------------------------------------------------------------------
    def _describe_products(self, turn: Turn) -> None:
        """The catalog description of the products asked about, when the answer did not say it yet."""
        said = " ".join(turn.decision.replies)
        for product in self._products_in_view(turn)[:MAX_PHOTOS]:
            if product.description and product.description not in said:
                turn.reply("producto_descripcion", product=product.name, description=product.description.rstrip("."))

    def _products_in_view(self, turn: Turn) -> list[Product]:
        """The products the message names, else the ones just talked about."""
        skus = [s for m in turn.entities.products for s in ([m.sku] if m.sku else list(m.candidates))]
        skus = skus or self.referenced(turn) or list(turn.memory.get("last_skus", []))
        return [p for s in dict.fromkeys(skus) if (p := self.tenant.product(s))]

    def _numbered_sibling(self, turn: Turn) -> str | None:
        """ "y el de 24?": the product of the focus product's category whose name differs by that number."""
        match = _OF_NUMBER.search(turn.folded)
        focus = self.tenant.product(turn.memory.get("focus_sku") or "")
        if match is None or focus is None:
            return None
        number = match.group(1)
        siblings = [p for p in self.category_products(focus.category)
                    if p.sku != focus.sku and number in fold(p.name).split() and number not in fold(focus.name).split()]
        return siblings[0].sku if len(siblings) == 1 else None

    def _for_known_model(self, turn: Turn, products: list[Product]) -> list[Product]:
        """Of several products, those for the model the customer has been asking about, if any."""
        models = set(turn.memory.get("model_words") or ())
        fitting = [p for p in products if models & model_tokens(p.name)] if models and len(products) > 1 else []
        return fitting or products

    def products_of(self, mention: ProductMention, turn: Turn | None = None) -> list[Product]:
        """The products a mention may mean; when it could be several and the bot has just offered some
        of them ("¿cuál: el de Samsung, el de iPhone...?"), the offered ones."""
        out = [p for s in mention.candidates or (mention.sku,) if (p := self.tenant.product(s)) is not None]
        if turn is not None and len(out) > 1:
            offered = set(turn.memory.get("offered_skus") or ())
            narrowed = [p for p in out if p.sku in offered]
            if narrowed:
                return narrowed
            return self._for_known_model(turn, out)
        return out

    def unknown_variant(self, turn: Turn, mention: ProductMention) -> bool:
        """The customer qualified a product in a way the catalog does not have ("pie de manzana"):
        say so and offer what shares its name, instead of silently picking another product."""
        qualifier = getattr(mention, "qualifier", None)
        if not qualifier:
            return False
        options = self.in_stock(self.products_of(mention, turn)) or self.products_of(mention, turn)
        turn.reply("variante_desconocida", qualifier=qualifier, list=self.describe(turn, options))
        turn.remember_products([p.sku for p in options])
        return True

    def in_stock(self, products: list[Product]) -> list[Product]:
        return [p for p in products if p.stock > 0]

    def alternatives(self, product: Product, limit: int = 3) -> list[Product]:
        """In-stock products of the same category, nearest in price first. A product made for one
        model ("Case iPhone 14") is replaced only by products for that model: a case for another
        phone is no alternative (none may be offered, then)."""
        pool = [p for p in self.tenant.products if p.active and p.stock > 0 and p.sku != product.sku]
        models = model_tokens(product.name)
        if models:
            fitting = [p for p in pool if models & model_tokens(p.name)]
            return sorted(fitting, key=lambda p: (p.category != product.category, abs(p.price - product.price)))[:limit]
        same = [p for p in pool if p.category == product.category] or pool
        return sorted(same, key=lambda p: abs(p.price - product.price))[:limit]

    def category_products(self, category: str) -> list[Product]:
        key = fold(category)
        return [p for p in self.tenant.products if p.active and fold(p.category) == key]

    def describe(self, turn: Turn, products: list[Product], prices: bool = True) -> str:
        items = [f"{p.name} ({turn.money(p.price)})" if prices else p.name for p in products[:MAX_LISTED]]
        return join_es(items)

    def examples(self, turn: Turn, limit: int = 4) -> str:
        return self.describe(turn, self.in_stock(list(self.tenant.products))[:limit])

    def referenced(self, turn: Turn) -> list[str]:
        """Products the customer refers to without naming them ("esa", "el otro", "mándame 4")."""
        sibling = self._numbered_sibling(turn)
        if sibling is not None:  # "y el de 24?" right after the ramo de 12 rosas
            return [sibling]
        return references.resolve(self, turn)  # descriptions, "el otro", "ese": see references.py

    # -- handlers: courtesy ------------------------------------------------------------------
    def h_saludo(self, turn: Turn) -> None:
        first = not turn.memory.get("greeted")  # the first greeting is the first variant: "{greeting}" by default
        turn.reply("saludo", variant=0 if first else None)
        turn.memory["greeted"] = True
        business = self.tenant.business
        if not hours.is_open(business, turn.now):
            turn.reply("saludo_fuera_de_horario", hours_today=hours.hours_today(business, turn.now),
                       next_open=hours.next_opening(business, turn.now))
        if turn.entities.products or turn.entities.categories:
            self.h_consultar_disponibilidad(turn)

    def h_despedida(self, turn: Turn) -> None:
        turn.reply("despedida")

    def h_agradecimiento(self, turn: Turn) -> None:
        turn.reply("agradecimiento")

    def h_fuera_de_alcance(self, turn: Turn) -> None:
        turn.reply("fuera_de_alcance")

    # -- handlers: questions -----------------------------------------------------------------
    def h_consultar_precio(self, turn: Turn) -> None:
        if variants.answer_price(self, turn):  # "¿cuánto el grande?": the variant's price
            return
        products: list[Product] = []
        for mention in turn.entities.products:
            if not self.unknown_variant(turn, mention):
                products.extend(self.products_of(mention, turn))
        if turn.decision.replies and not products:
            return
        if not products and turn.entities.categories:
            for category in turn.entities.categories:
                products.extend(self.category_products(category))
            products = self._for_known_model(turn, products)
        if not products:
            products = [p for s in self.referenced(turn) if (p := self.tenant.product(s))]
        if not products:
            turn.reply("precio_sin_producto", examples=self.examples(turn))
            return
        products = list(dict.fromkeys(products))
        for product in products[:MAX_LISTED]:
            key = "precio" if product.stock > 0 else "precio_agotado"
            turn.reply(key, product=product.name, price=turn.money(product.price), unit=product.unit or "unidad")
            for promo in self._promotions_of(turn, product.sku):  # "¿cuánto el T800?": with its promo
                turn.append_to_last("precio_con_promo", promo=promo.name,
                                    detail=promo.description.rstrip(". ") or promo.name)
            one = price_cart(self.tenant, {product.sku: 1}, turn.now.date())
            if one.discount:  # a percentage off: the price they will actually pay
                turn.append_to_last("precio_final_promo", price=turn.money(one.total))
        if len(products) == 1:
            turn.show_photos(products)
        turn.remember_products([p.sku for p in products if p.stock > 0] or [p.sku for p in products])

    def _asks_cart_total(self, turn: Turn) -> bool:
        """A price question naming nothing, with items in the cart: the total, unless the customer
        was just asking about a product ("¿tienen pie de limón?" → "¿cuánto cuesta?")."""
        if not turn.cart or has_cue(turn.folded, "this_one") or has_cue(turn.folded, "other_one"):
            return False
        if has_cue(turn.folded, "cart_total"):
            return True
        return turn.memory.get("last_intent") not in PRODUCT_QUESTIONS

    def h_consultar_catalogo(self, turn: Turn) -> None:
        categories = list(turn.entities.categories)
        if categories:
            for category in categories:
                available = self.in_stock(self.category_products(category))
                if available:
                    turn.reply("categoria", category=category, list=self.describe(turn, available))
                    turn.remember_products([p.sku for p in available])
                else:
                    turn.reply("categoria_vacia", category=category, list=self.examples(turn))
            return
        groups: dict[str, list[Product]] = {}
        for product in self.in_stock([p for p in self.tenant.products if p.active]):
            groups.setdefault(product.category or "Otros", []).append(product)
        listing = "; ".join(f"{cat}: {join_es([p.name for p in items[:4]])}" for cat, items in groups.items())
        turn.reply("catalogo", list=listing)
        turn.memory["last_topic"] = "catalog"

    def h_consultar_disponibilidad(self, turn: Turn) -> None:
        if variants.answer_stock(self, turn):  # "¿tienen en 36?", "y en negro?": per variant
            return
        mentions = turn.entities.products
        if not mentions and turn.entities.categories:
            self.h_consultar_catalogo(turn)
            return
        if not mentions:
            referenced = [p for s in self.referenced(turn) if (p := self.tenant.product(s))]
            if not referenced:
                self.h_consultar_catalogo(turn)
                return
            products = referenced
        else:
            products = []
            for mention in mentions:
                if not self.unknown_variant(turn, mention):
                    products.extend(self.products_of(mention, turn))
            if not products:
                return
        products = list(dict.fromkeys(products))
        available = self.in_stock(products)
        missing = [p for p in products if p.stock <= 0]
        if len(available) == 1:
            p = available[0]
            turn.reply("disponible", product=p.name, price=turn.money(p.price), stock=p.stock)
            if not p.variants:  # "¿te separo?" / "¿cuántos quieres?" (a variant is asked for instead)
                questions.ask(turn.memory, "offer", sku=p.sku)
            turn.show_photos(available)
        elif available:
            turn.reply("disponible_varios", list=self.describe(turn, available))
        for p in missing:
            turn.reply("agotado", product=p.name)
        if missing and not available:
            alternatives = self.alternatives(missing[0])
            if alternatives:
                turn.reply("alternativas", list=self.describe(turn, alternatives))
                turn.memory["offered_skus"] = [p.sku for p in alternatives]
            turn.remember_products([p.sku for p in alternatives])
        else:
            turn.remember_products([p.sku for p in available])

    def h_consultar_pago(self, turn: Turn) -> None:
        methods = self.enabled_methods()
        asked = [m for m in methods if m.code in turn.entities.payment_methods]
        if asked:
            for m in asked:
                turn.reply("pago_detalle", method=m.name, details=m.details)
        else:
            turn.reply("pago_metodos", methods=join_es([m.name for m in methods], "o"))
        if turn.cart:
            turn.memory["awaiting"] = "payment_method"

    def _payment_wishes(self, turn: Turn) -> tuple[set[str], list[str]]:
        """Methods the customer lacks and those they ask for instead: "no tengo yape, ¿puedo pagar con
        tarjeta?" lacks yape and wants tarjeta. A method counts as lacking when its clause is negated;
        with no negated clause, every method named is lacking ("el yape no me funciona")."""
        mentioned = list(turn.entities.payment_methods)
        clauses = [c for c in _CLAUSE_SPLIT.split(turn.folded) if c.strip()]
        if len(clauses) < 2:
            return set(mentioned), []
        lacking: set[str] = set()
        wanted: list[str] = []
        for clause in clauses:
            codes = self.brain.matcher.extract(clause).payment_methods
            negated = any(w in _NEGATIONS for w in clause.split())
            (lacking.update if negated else wanted.extend)(codes)
        if not lacking:
            return set(mentioned), []
        return lacking, [c for c in wanted if c not in lacking]

    def h_problema_pago(self, turn: Turn) -> None:
        lacking, wanted = self._payment_wishes(turn)
        if turn.memory.get("payment_method") in lacking:
            turn.memory.pop("payment_method", None)
        accepted = {m.code: m for m in self.enabled_methods()}
        chosen = next((accepted[c] for c in wanted if c in accepted), None)
        if chosen is not None:  # "no tengo yape, ¿con tarjeta?": yes, and on with the order
            if turn.cart and turn.memory.get("awaiting"):
                turn.memory["payment_method"] = chosen.code
                turn.reply("metodo_elegido", method=chosen.name)
                self._advance_checkout(turn)
            else:
                turn.reply("pago_detalle", method=chosen.name, details=chosen.details)
            return
        others = [m for m in self.enabled_methods() if m.code not in lacking]
        if others:
            turn.reply("pago_alternativas", methods=join_es([m.name for m in others], "o"))
        else:
            turn.reply("pago_sin_alternativas", methods=join_es([m.name for m in self.enabled_methods()], "o"))
            turn.memory["awaiting_human"] = True
        turn.memory["awaiting"] = "payment_method"

    def enabled_methods(self) -> list[PaymentMethod]:
        return [m for m in self.tenant.payment_methods if m.enabled]

    def zone_by_name(self, name: str) -> DeliveryZone | None:
        return next((z for z in self.tenant.delivery_zones if fold(z.name) == fold(name)), None)

    def fee_text(self, turn: Turn, fee: Decimal) -> str:
        return turn.say.say("delivery_gratis") or turn.money(fee) if fee == 0 else turn.money(fee)

    def zone_list(self) -> str:
        return join_es([z.name for z in self.tenant.delivery_zones])

    def h_consultar_delivery(self, turn: Turn) -> None:
        business, folded = self.tenant.business, turn.folded
        answered = False
        known = (self.zone_by_name(turn.memory.get("zone") or turn.memory.get("asked_zone") or "")
                 or self._ordered_zone(turn))
        if not turn.entities.zones and known is not None and has_cue(folded, "how_long"):
            turn.reply("delivery_zona", zone=known.name, fee=turn.money(known.fee), eta=known.eta or "")
            return  # "¿a qué hora llega?" about the zone already chosen: its time, not opening hours
        if asks_hours(folded):
            self._answer_hours(turn)
            answered = True
        if has_cue(folded, "address"):
            turn.reply("direccion")
            answered = True
        if answered and not (turn.entities.zones or is_delivery(folded)):
            return
        if not business.delivery_enabled or not self.tenant.delivery_zones:
            turn.reply("delivery_no_hay")
            return
        if turn.entities.zones:
            for name in turn.entities.zones:
                zone = self.zone_by_name(name)
                if zone:
                    turn.memory["asked_zone"] = zone.name
                    turn.reply("delivery_zona", zone=zone.name, fee=turn.money(zone.fee), eta=zone.eta or "")
            if business.free_delivery_over is not None:
                turn.append_to_last("delivery_zona_gratis", free_over=turn.money(business.free_delivery_over))
            return
        place = self._unknown_place(folded)
        if place:
            turn.reply("delivery_no_cubre", zone=place.title(), zones=self.zone_list())
        else:
            turn.reply("delivery_zonas", zones=self.zone_list())
            if business.free_delivery_over is not None:
                turn.append_to_last("delivery_zona_gratis", free_over=turn.money(business.free_delivery_over))

    def _ordered_zone(self, turn: Turn) -> DeliveryZone | None:
        placed, order = turn.placed_order, turn.state.order
        if placed and placed.zone:
            return self.zone_by_name(placed.zone)
        return self.zone_by_name(order.zone) if order and order.zone else None

    def _answer_hours(self, turn: Turn) -> None:
        business = self.tenant.business
        days = hours.days_in(turn.folded) or shop_answers.day_part_today(business, turn.folded, turn.now)
        if days:
            turn.reply("horario_dia", hours=hours.describe_days(business, days))
        else:
            turn.reply("horario", hours=hours.describe_hours(business))
        if hours.is_open(business, turn.now):
            turn.append_to_last("abierto_ahora", hours_today=hours.hours_today(business, turn.now))
        else:
            turn.append_to_last("cerrado_ahora", next_open=hours.next_opening(business, turn.now))
        turn.memory["last_topic"] = "hours"
        turn.decision.answered.append("hours")

    def _unknown_place(self, folded: str) -> str | None:
        match = _PLACE.search(folded)
        if not match:
            return None
        words = []
        for word in match.group(1).split():
            if word in _PLACE_STOP or len(words) == 3:
                break
            words.append(word)
        while words and words[0] in _POSSESSIVES:  # "a mi depa"
            words.pop(0)
        head = words[1:2] if words and words[0] in _ARTICLES_OF_PLACES else words[:1]  # "la noche", "La Molina"
        if not head or head[0] in _NOT_A_PLACE or head[0] in COMMON_WORDS or _INFINITIVE.match(head[0]):
            return None  # "en llegar", "a mi casa", "en la noche": not a district
        return " ".join(words)

    def _promotions_of(self, turn: Turn, sku: str) -> list[Promotion]:
        """Active promotions that name this product (its own promo, or a bundle it is part of)."""
        return [p for p in active_promotions(self.tenant, turn.now.date())
                if p.sku == sku or sku in [str(s) for s in p.rule.get("skus", [])]]

    def h_consultar_promociones(self, turn: Turn) -> None:
        promos = active_promotions(self.tenant, turn.now.date())
        turn.memory["last_topic"] = "promotions"
        if not promos:
            turn.reply("promociones_ninguna", list=self.examples(turn))
            return
        listing = "; ".join(f"{p.name} ({p.description.rstrip('. ')})" if p.description else p.name for p in promos)
        turn.reply("promociones", list=listing)
        turn.memory["offered_promos"] = [p.code for p in promos]  # "ya quiero esa promo"
        skus = [p.sku for p in promos if p.sku] + [s for p in promos for s in p.rule.get("skus", [])]
        turn.remember_products([s for s in skus if self.tenant.product(s)])

    # -- handlers: the cart ------------------------------------------------------------------
    def named_bundle(self, turn: Turn) -> Promotion | None:
        """The bundle promotion the customer names ("quiero el combo", "el kit de colores"): bundles.py;
        else the one the bot just offered ("ya quiero esa promo"): references.py."""
        named = bundles.named(self.tenant, turn.folded, turn.now.date(),
                              mentioned=[m.sku for m in turn.entities.products],
                              promotions_listed=turn.memory.get("last_topic") == "promotions")
        if named is not None:
            return named
        active = [p for p in active_promotions(self.tenant, turn.now.date()) if p.rule.get("type") == "bundle"]
        return references.offered_bundle(self, turn, active)

    def h_agregar_producto(self, turn: Turn) -> None:
        if variants.fill_pending(self, turn) or self._take_offer(turn):  # "en 40", "ya", "3"
            return
        if edits.replace(self, turn) or edits.note_on_lines(self, turn):  # "cámbialo por...", "sin cebolla los dos"
            return
        edits.same_as_cart(turn)  # "del mismo agua ... pero recarga": the cart's water
        mentions = turn.entities.products
        bundle = self.named_bundle(turn)
        if bundle is not None:  # "ya quiero el combo": every part of the bundle, priced by it
            self._add_items(turn, bundles.parts(self.tenant, bundle))
            return
        if not mentions:
            skus = self.referenced(turn)
            categories = {fold(c) for c in turn.entities.categories}
            if categories:  # "quiero un case": never the charger talked about before
                skus = [s for s in skus if (p := self.tenant.product(s)) and fold(p.category) in categories]
            if not skus and turn.entities.categories:
                self.h_consultar_catalogo(turn)
                return
            if not skus:
                turn.reply("sin_producto_para_agregar", list=self.examples(turn))
                return
            skus = edits.same_line(turn, skus)  # "del mismo agrégame otro": that line's variant
            if len(skus) > 1:  # "dame ese" after a list: which one (never a guess into the cart)
                self._ask_which(turn, skus)
                return
            quantity = turn.entities.quantities[-1] if turn.entities.quantities else 1
            line = turn.state.memory.get("last_cart_sku")
            just_added = (turn.state.memory.get("last_intent") == "agregar_producto" and line in turn.cart
                          and self._base_sku(line) == self._base_sku(skus[0]))
            if not just_added:
                line = skus[0]
            in_all = _BARE_TIMES.match(turn.folded) or (just_added and _BARE_NUMBER.match(turn.folded))
            if in_all and line in turn.cart and quantity > turn.cart[line]:
                quantity -= turn.cart[line]  # "x2" or "3" right after one was added: that many in all
            measured = self._measured(turn, skus[0], None, quantity)  # "ponme medio kilo"
            if measured is not None:
                self._add_items(turn, [(skus[0], measured)])
            return
        lone_quantity = (
            turn.entities.quantities[0] if len(mentions) == 1 and len(turn.entities.quantities) == 1 else None
        )
        items: list[tuple[str, int]] = []
        self._queue_notes(turn)  # "sin ají", "sin hueso": the notes of each line to add
        noted = self._annotate_lines(turn)  # "la bbq con extra tocino": the line in the cart
        leftover = self._count_for_focus(turn)
        if leftover is not None:  # "dame 2 y una mica": the 2 are of the product just discussed
            items.append((turn.memory["focus_sku"], leftover))
        focused = variants.focus_items(self, turn)  # "... y la cajetilla chica": values of the focus
        for index, mention in enumerate(mentions):
            if index in noted or self.unknown_variant(turn, mention):
                continue
            options = self.products_of(mention, turn)
            if len(options) > 1:
                available = self.in_stock(options)
                if len(available) > 1 and not any(p.sku == mention.sku for p in available[:1] if mention.score >= 95):
                    turn.reply("disponible_varios", list=self.describe(turn, available))
                    turn.memory["offered_skus"] = [p.sku for p in available]
                    turn.remember_products([p.sku for p in available])
                    continue
                chosen = available[0] if available else options[0]
            else:
                chosen = options[0] if options else None
            if chosen is None:
                continue
            if chosen.variants:  # "la casaca negra talla L", "uno talla 32 y otro talla 34"
                items.extend(variants.items_for(self, turn, mention, chosen))
                continue
            quantity = mention.quantity if mention.quantity is not None else lone_quantity
            quantity = 1 if quantity is None else quantity
            items.extend(self._lines_asked(turn, mention, chosen.sku, quantity))
        items.extend(focused)
        items = self._bare_references(turn) + items
        if items:
            self._add_items(turn, items)

    def _bare_references(self, turn: Turn) -> list[tuple[str, int]]:
        """ "ya dame ese y 2 cocas", "dame la más barata y un enrollado": the piece that names no product
        takes the one option it points at (an ambiguous one is left out, never guessed)."""
        named = {s for m in turn.entities.products for s in (m.sku, *m.candidates)}
        items: list[tuple[str, int]] = []
        for words in references.bare_pieces(turn):
            picked = [s for s in references.resolve(self, turn, words) if self._base_sku(s) not in named]
            if len(picked) == 1:
                items.append((picked[0], questions.bare_count(words) or 1))
        return items

    def _ask_which(self, turn: Turn, skus: list[str]) -> None:
        options = [s for s in skus if self.tenant.sellable(s) is not None]
        names = [f"{sold.name} ({turn.money(sold.price)})" for s in options if (sold := self.tenant.sellable(s))]
        turn.reply("disponible_varios", list=join_es(names))
        turn.memory["offered_skus"] = options
        turn.memory["last_skus"] = options
        turn.memory.pop("focus_sku", None)

    # -- quantities that are not whole units, and the notes of each line (quantities.py, modifiers.py)
    def _measured(self, turn: Turn, sku: str, mention: ProductMention | None, count: Quantity) -> Quantity | None:
        """The quantity of ``sku`` the message asks for: a weight, length or volume ("kilo y medio",
        "250 gramos"), what a money amount buys ("2 soles de pan"), else ``count``. None: a quantity the
        shop cannot sell (below the minimum, off the step...), said plainly and asked again."""
        sellable = self.tenant.sellable(sku)
        if sellable is None:
            return count
        product = sellable.product
        span = (mention.start, mention.end) if mention is not None else None
        found = asked(product, turn.analysis.normalized, span, sellable.price)
        if found is None:
            found = Asked(as_quantity(count, True)) if product.measured else None
            if found is not None and found.quantity > 0:
                found = Asked(found.quantity, quantity_problem(product, found.quantity))
        if found is None:
            return count
        if found.problem is None:
            return found.quantity
        turn.memory["focus_sku"] = product.sku
        turn.memory["last_skus"] = [product.sku]
        if found.problem == "min":
            turn.reply("cantidad_minima", product=product.name, minimum=amount_text(product, product.min_quantity))
        elif found.problem == "step":
            lower, upper = nearest_steps(product, found.quantity)
            turn.reply("cantidad_paso", product=product.name, step=amount_text(product, product.step),
                       lower=amount_text(product, lower), upper=amount_text(product, upper))
        elif found.problem == "nothing":
            turn.reply("monto_no_alcanza", product=product.name, amount=turn.money(found.money or 0),
                       price=turn.money(sellable.price))
        else:  # a weight asked of a product sold by the unit, or half a unit
            turn.reply("cantidad_por_unidad", product=product.name, price=turn.money(sellable.price))
        return None

    def _queue_notes(self, turn: Turn) -> None:
        """The lines the message's mentions ask for with notes or modifiers, in order, for ``_add_items``."""
        turn.pending_notes = [
            CartLine(turn.entities.products[k].sku, line.count or 0, line.notes, line.modifiers)
            for k, lines in sorted(turn.notes.lines.items()) if k < len(turn.entities.products) for line in lines
        ]

    def _lines_asked(self, turn: Turn, mention: ProductMention, sku: str, count: int) -> list[tuple[str, Quantity]]:
        """The items one mention asks for: one, or one per line of notes ("uno sin ají y otro normal")."""
        index = turn.entities.products.index(mention)
        lines = turn.notes.lines.get(index, ())
        if len(lines) == 1 and mention.quantity is None and sku in turn.cart:  # "el ceviche que sea sin ají"
            self._annotate_line(turn, sku, lines[0])
            return []
        product = self.tenant.product_of(sku)
        if len(lines) > 1 and product is not None and not product.measured:
            return [(sku, n) for n, _line in split_counts(lines, count)]
        quantity = self._measured(turn, sku, mention, count)
        return [] if quantity is None else [(sku, quantity)]

    def _annotate_lines(self, turn: Turn) -> set[int]:
        """Notes for products already in the cart, with no new quantity: they go on those lines (a
        variant's line too: "la bbq con extra tocino"). The indexes of the mentions annotated."""
        done: set[int] = set()
        for index, lines in turn.notes.lines.items():
            mention = turn.entities.products[index] if index < len(turn.entities.products) else None
            if mention is None or mention.quantity is not None or len(lines) != 1 or lines[0].count:
                continue
            named = (mention.sku, *mention.candidates)
            sku = next((s for s in named if s in turn.cart), None) or next(
                (s for s in turn.cart if (p := self.tenant.product_of(s)) and p.sku in named), None)
            if sku is not None:
                self._annotate_line(turn, sku, lines[0])
                done.add(index)
        return done

    def _modifier_for_cart(self, turn: Turn) -> bool:
        """A modifier of a cart line's product said with no product ("con subida a piso")."""
        if turn.entities.products or not turn.cart or asking.asks(turn.analysis.text, turn.folded) \
                or has_stem(turn.folded, "remove_stems"):
            return False
        found = cart_modifier(turn.analysis.normalized, list(turn.cart), self.tenant.product_of,
                              turn.memory.get("last_cart_sku"))
        if found is None:
            return False
        turn.decision.intent, turn.decision.source = "agregar_producto", "rule"
        self._annotate_line(turn, *found)
        self._append_total(turn)
        return True

    def _annotate_line(self, turn: Turn, sku: str, line: LineNote) -> None:
        current = lines_of(turn.cart, turn.state.cart_lines, turn.additions)
        turn.additions = [a for a in turn.additions if a.sku != sku] + annotated(current, sku, line)
        turn.pending_notes = [n for n in turn.pending_notes if n.sku != sku]
        turn.reply("nota_agregada", items=", ".join([*line.modifiers, *filter(None, [line.notes])]))

    def _record_notes(self, turn: Turn, sku: str, quantity: Quantity) -> None:
        """The line just added takes the next notes queued for its product, when it has some."""
        product = self.tenant.product_of(sku)
        line = next((n for n in turn.pending_notes if n.sku in (sku, product.sku if product else sku)), None)
        if line is None:
            return
        turn.pending_notes.remove(line)
        if line.notes or line.modifiers:  # "2 salchis, una con extra huevo": only that one
            some = line.quantity if 0 < line.quantity < quantity else quantity
            turn.additions.append(CartLine(sku, some, line.notes, line.modifiers))

    def _take_offer(self, turn: Turn) -> bool:
        """The short answer to the bot's offer of one product or variant: that many of it (1 by default)."""
        offered = questions.pending(turn.memory, "offer")
        if offered is None or turn.entities.products or self._answers_offer(turn) is None:
            return False
        questions.forget(turn.memory)
        self._add_items(turn, [(offered["sku"], questions.bare_count(turn.folded) or 1)])
        return True

    def _count_for_focus(self, turn: Turn) -> int | None:
        """A bare count before "y <product>" refers to the product in focus ("dame 2 y una mica")."""
        focus = turn.memory.get("focus_sku")
        mentions = turn.entities.products
        if not focus or not mentions or any(focus in (m.sku, *m.candidates) for m in mentions):
            return None
        match = _BARE_COUNT.search(turn.folded)
        if not match:
            return None
        word = match.group(1)
        return int(word) if word.isdigit() else _COUNT_WORDS.get(word)

    def _add_items(self, turn: Turn, items: list[tuple[str, int]]) -> None:
        added: list[str] = []
        touched: list[str] = []
        for sku, quantity in items:
            chosen = sellable_skus.variant_for(self, turn, sku, quantity)  # never a product without its variant
            sellable = self.tenant.sellable(chosen) if chosen else None
            if sellable is None:
                continue
            sku, product = chosen, sellable.product
            if sellable.variant is not None:  # the line reads "Casaca polar (negro, L)"
                product = dataclasses.replace(product, name=sellable.name, stock=sellable.stock)
            touched.append(product.sku if sellable.variant is None else sellable.product.sku)
            if quantity <= 0:
                turn.reply("cantidad_cero", product=product.name)
                continue
            if product.stock <= 0:
                turn.reply("agotado", product=product.name)
                alternatives = self.alternatives(product)
                if alternatives:
                    turn.reply("alternativas", list=self.describe(turn, alternatives))
                    turn.memory["offered_skus"] = [p.sku for p in alternatives]
                    touched = [p.sku for p in alternatives] + touched
                continue
            have = turn.cart.get(sku, 0)
            take = min(quantity, product.stock - have)
            if take < quantity:
                turn.reply("stock_parcial", product=product.name, stock=product.stock)
            if take <= 0:
                continue
            turn.cart[sku] = have + take
            self._record_notes(turn, sku, take)
            turn.memory["last_cart_sku"] = sku
            turn.memory["focus_sku"] = sellable.product.sku
            added.append(f"{amount_text(product, take)} × {product.name}")
        turn.remember_products(touched)
        if added:
            turn.reply("agregado", items=join_es(added))
            self._append_total(turn)
            turn.memory.pop("awaiting", None)
            business = self.tenant.business
            if not hours.is_open(business, turn.now) and not turn.memory.get("told_closed"):
                key = "pedido_fuera_de_horario" if business.orders_when_closed else "cerrado_sin_pedidos"
                turn.append_to_last(key, next_open=hours.next_opening(business, turn.now))
                turn.memory["told_closed"] = True
            turn.offer(offers.order_next_step(turn.say.say, with_view=True))

    def _append_total(self, turn: Turn) -> None:
        priced = turn.priced()
        if priced.is_empty:
            return
        key = "total_con_ahorro" if priced.discount else "total_parcial"
        turn.append_to_last(key, total=turn.money(priced.total), saving=turn.money(priced.discount))

    def cart_lines(self, turn: Turn, priced: PricedCart) -> str:
        return join_es([f"{line_label(line)} ({turn.money(line.line_total)})" for line in priced.lines])

    def h_ver_carrito(self, turn: Turn) -> None:
        priced = turn.priced()
        if priced.is_empty:
            self._pending_order_or(turn, "carrito_vacio")
            return
        if priced.discount:
            turn.reply("carrito_con_promo", lines=self.cart_lines(turn, priced), subtotal=turn.money(priced.subtotal),
                       discount=turn.money(priced.discount), promos=join_es([p.name for p in priced.promotions]),
                       total=turn.money(priced.total))
        else:
            turn.reply("carrito", lines=self.cart_lines(turn, priced), total=turn.money(priced.total))
        delivering = turn.memory.get("fulfillment") == "delivery"
        zone = self.zone_by_name(turn.memory.get("zone") or "") if delivering else None
        if zone is not None:  # "¿cuánto sería todo con el delivery?" once the zone is known
            fee = delivery_fee(self.tenant, zone, priced.total)
            turn.append_to_last("carrito_con_delivery", zone=zone.name, fee=self.fee_text(turn, fee),
                                total=turn.money(priced.total + fee))
        turn.offer(offers.order_next_step(turn.say.say, with_view=False))

    def h_modificar_cantidad(self, turn: Turn) -> None:
        if not turn.cart:
            if turn.entities.products:
                self.h_agregar_producto(turn)
            else:
                turn.reply("carrito_vacio", list=self.examples(turn))
            return
        if edits.replace(self, turn):  # "cambia el pollo por un kam lu", "la gaseosa que sea coca"
            return
        by_values = edits.line_by_values(self, turn)  # "los negros que sean 4": that variant line
        if by_values is None and (variants.change_line(self, turn) or self._swap(turn)):  # "mejor que sea XL"
            return
        if self._annotate_lines(turn) or edits.note_on_lines(self, turn):  # "el arroz que sea bien graneado"
            return
        target = by_values or self._target_line(turn)
        if target is None:
            if turn.entities.products:  # a product not in the cart yet: add it
                self.h_agregar_producto(turn)
                return
            turn.reply("que_cambio", lines=self.cart_lines(turn, turn.priced()))
            return
        sellable = self.tenant.sellable(target)
        if sellable is None:
            return
        product = dataclasses.replace(sellable.product, name=sellable.name, stock=sellable.stock)
        current = turn.cart.get(target, 0)
        quantity = self._new_quantity(turn, target, current)
        if quantity is None:
            turn.reply("que_cambio", lines=self.cart_lines(turn, turn.priced()))
            return
        if quantity <= 0:
            turn.cart.pop(target, None)
            turn.reply("producto_quitado", product=product.name)
        else:
            if quantity > product.stock:
                turn.reply("stock_parcial", product=product.name, stock=product.stock)
                quantity = product.stock
            turn.cart[target] = quantity
            turn.reply("cantidad_cambiada", quantity=quantity, product=product.name)
        turn.remember_products([target])
        if turn.cart:
            self._append_total(turn)

    def _swap(self, turn: Turn) -> bool:
        """ "cambia la coca por una inka": the line named first leaves, the other product comes in
        (with its own quantity, else the same quantity)."""
        mentions = turn.entities.products
        if len(mentions) != 2 or not _SWAP.search(turn.folded):
            return False
        first, second = sorted(mentions, key=lambda m: m.start)
        if _SWAP_REVERSED.search(turn.folded):  # "mejor una inka en vez de la coca"
            first, second = second, first
        old = next((s for s in (first.sku, *first.candidates) if s in turn.cart), None)
        new = self.products_of(second, turn)
        if old is None or not new or new[0].sku == old:
            return False
        old_product = self.tenant.product(old)
        quantity = second.quantity or turn.cart[old]
        turn.cart.pop(old)
        if old_product is not None:
            turn.reply("producto_quitado", product=old_product.name)
        self._add_items(turn, [(new[0].sku, quantity)])
        return True

    def _target_line(self, turn: Turn) -> str | None:
        named = self._named_cart_lines(turn)
        if named:
            return named[0]
        if turn.entities.products:
            return None
        for sku in [turn.memory.get("last_cart_sku"), *(turn.memory.get("last_skus") or [])]:
            if sku in turn.cart:
                return sku
        return next(reversed(turn.cart), None)

    def _new_quantity(self, turn: Turn, sku: str, current: int) -> int | None:
        folded = turn.folded
        product = self.tenant.product_of(sku)
        if product is not None and product.measured and not _REMOVE.search(folded) \
                and not _RELATIVE_PLUS.search(folded) and not _RELATIVE_MINUS.search(folded):
            mention = next((m for m in turn.entities.products if sku in (m.sku, *m.candidates)), None)
            if asked(product, turn.analysis.normalized, (mention.start, mention.end) if mention else None):
                return self._measured(turn, sku, mention, current)  # "mejor que sean 300 gramos"
        named = edits.mention_of_line(turn, sku)  # a variant line is named by its product ("quita un limagas")
        if _REMOVE.search(folded) and not _RELATIVE_MINUS.search(folded):
            mention_qty = named.quantity if named is not None else None
            if mention_qty and mention_qty < current:
                return current - mention_qty
            return 0
        if m := _RELATIVE_PLUS.search(folded):
            return current + _count(m.group(1))
        if m := _RELATIVE_MINUS.search(folded):
            return current - _count(m.group(1))
        mention_qty = named.quantity if named is not None else None
        if mention_qty is not None:
            return mention_qty
        if turn.entities.quantities:
            return turn.entities.quantities[-1]
        return None

    def h_vaciar_carrito(self, turn: Turn) -> None:
        turn.cart.clear()
        for key in ("awaiting", "fulfillment", "zone", "payment_method", "last_cart_sku", "focus_sku", "last_skus",
                    "offered_skus", "readback", "address", "asked_address", "change_for", "order_notes"):
            turn.memory.pop(key, None)
        turn.reply("carrito_vaciado")

    def _pending_order_or(self, turn: Turn, empty_key: str) -> None:
        """With an empty cart: the order awaiting payment, if any, else ``empty_key`` with suggestions."""
        order = turn.state.order
        if order and order.status in (PENDING_PAYMENT, PAYMENT_REPORTED):
            status = turn.say.say(f"estado_{order.status}") or order.status
            turn.reply("pedido_pendiente", order_number=order.number, status_text=status,
                       total=turn.money(order.total))
        else:
            turn.reply(empty_key, list=self.examples(turn))

    # -- handlers: checkout ----------------------------------------------------------------------
    def h_confirmar_pedido(self, turn: Turn) -> None:
        if not turn.cart and turn.entities.products:  # "mándame un pollo entero a Surco, pago con Plin"
            self.h_agregar_producto(turn)
            if not turn.cart:
                return
        if not turn.cart:
            self._pending_order_or(turn, "pedido_vacio")
            return
        self._collect_checkout(turn)
        self._advance_checkout(turn)

    def _note_checkout_facts(self, turn: Turn, intent: str) -> None:
        """Pickup, a delivery zone, an address, a payment method or the cash bill said along the way
        ("lo recojo yo, ¿dónde quedan?", "mándame 2 a Surco y pago con Plin") are kept for the
        checkout; when the message has everything an order needs, the read-back follows."""
        if not turn.cart or intent in ESCALATING:
            return
        memory, entities = turn.memory, turn.entities
        zone = self._named_zone(turn)
        if is_pickup(turn.folded) and not entities.zones:
            memory.update(fulfillment="pickup", zone=None)
        elif zone and (is_delivery(turn.folded) or intent in _ORDERING or turn.address):
            memory.update(fulfillment="delivery", zone=zone.name)
        elif turn.address and memory.get("fulfillment") != "pickup":  # a street address: a delivery
            memory["fulfillment"] = "delivery"
        chosen = self._named_method(turn)
        if chosen and intent not in ("consultar_pago", "problema_pago") and not has_cue(turn.folded, "no"):
            memory["payment_method"] = chosen.code
        self._note_address_and_change(turn)
        shop_answers.note_minimum(self, turn)  # "mándamelo a X" below the minimum order: said at once
        complete = memory.get("fulfillment") == "pickup" or bool(memory.get("zone"))
        if intent == "agregar_producto" and chosen and complete and (entities.zones or is_pickup(turn.folded)):
            self._advance_checkout(turn)

    def _note_address_and_change(self, turn: Turn) -> None:
        """The street address of a delivery and the bill of a cash payment, when the message gives them."""
        memory = turn.memory
        delivering = memory.get("fulfillment") == "delivery" or bool(turn.entities.zones) or is_delivery(turn.folded)
        if delivering or turn.address:
            address = self._street_address(turn, answering=memory.get("awaiting") == "address")
            if address:
                memory["address"] = address
        change = self._cash_change(turn)
        if change is not None:
            memory["change_for"] = str(change)
        self._note_order_notes(turn)

    def _note_order_notes(self, turn: Turn) -> bool:
        """Notes for the whole order ("tocar el timbre", "factura, RUC ...", "recojo a las 7"), kept;
        True when the message gave one."""
        note = order_note(turn.analysis.text)
        if not (note and turn.cart):
            return False
        turn.memory["order_notes"] = added(turn.memory.get("order_notes"), note)
        return True

    def _street_address(self, turn: Turn, *, answering: bool = False) -> str | None:
        """The clause of the message that is a street address ("jr los amautas 345"): a street word and
        a number; right after the bot asked for the address, any clause with a number."""
        if turn.address:  # taken out of the message before it was understood
            return turn.address
        street = set(cues().get("street", ()))
        leads = sorted(cues().get("address_lead", ()), key=len, reverse=True)
        zones = {fold(z) for z in turn.entities.zones}
        for clause in _CLAUSES.split(turn.analysis.text):
            folded = fold(clause)
            words = folded.split()
            if not words or not _DIGIT.search(folded) or folded in zones:
                continue
            if not (street & set(words) or answering):
                continue
            found = self.brain.matcher.extract(clause)
            if not street & set(words) and (found.products or found.payment_methods or not any(
                    len(w) > 2 and w.isalpha() for w in words) or self._cash_change(turn, folded) is not None):
                continue  # "pago con 50", "agrega 2 chichas", "3": no address
            text = " ".join(clause.split())
            for lead in leads:  # "mi dirección es ...", "es en ..."
                lead_words = len(lead.split())
                if words[:lead_words] == lead.split() and len(words) > lead_words:
                    text = " ".join(text.split()[lead_words:])
                    break
            return text[:200]
        return None

    def _is_cash(self, code: str | None) -> bool:
        method = next((m for m in self.enabled_methods() if m.code == code), None)
        return method is not None and has_cue(fold(f"{method.code} {method.name}"), "cash")

    def _cash_change(self, turn: Turn, folded: str | None = None) -> Decimal | None:
        """The bill a cash payer hands over ("pago con 50", "con 100 para el vuelto"): a number after a
        lead word, in a cash checkout (or said with "vuelto"/"sencillo"), no less than the cart's total."""
        folded = turn.folded if folded is None else folded
        named = self._named_method(turn)
        cash = self._is_cash(named.code if named else turn.memory.get("payment_method"))
        if not (cash or has_cue(folded, "change")) or not turn.cart:
            return None
        padded = f" {folded} "
        for lead in sorted(cues().get("change_leads", ()), key=len, reverse=True):
            at = padded.find(f" {lead} ")
            while at >= 0:
                match = _AMOUNT.match(padded[at + len(lead) + 2:])
                if match:
                    amount = Decimal(match.group(1))
                    if amount > 0 and amount >= turn.priced().total:
                        return amount
                at = padded.find(f" {lead} ", at + 1)
        return None

    def _named_zone(self, turn: Turn) -> DeliveryZone | None:
        """The delivery zone the message names, when the business delivers."""
        if not (turn.entities.zones and self.tenant.business.delivery_enabled):
            return None
        return self.zone_by_name(turn.entities.zones[0])

    def _named_method(self, turn: Turn) -> PaymentMethod | None:
        """The first accepted payment method the message names."""
        methods = {m.code: m for m in self.enabled_methods()}
        return next((methods[c] for c in turn.entities.payment_methods if c in methods), None)

    def _collect_checkout(self, turn: Turn) -> None:
        memory, folded, entities = turn.memory, turn.folded, turn.entities
        business = self.tenant.business
        if entities.zones and business.delivery_enabled:
            zone = self._named_zone(turn)
            if zone:
                memory.update(fulfillment="delivery", zone=zone.name)
                fee = delivery_fee(self.tenant, zone, turn.priced().total)
                turn.reply("entrega_delivery", zone=zone.name, fee=self.fee_text(turn, fee))
        elif is_pickup(folded) or not business.delivery_enabled or not self.tenant.delivery_zones:
            if memory.get("fulfillment") != "pickup" and is_pickup(folded):
                turn.reply("entrega_recojo")
            memory.update(fulfillment="pickup", zone=None)
        elif is_delivery(folded) or turn.address:  # a street address is a delivery
            memory["fulfillment"] = "delivery"
        chosen = self._named_method(turn)
        if chosen:
            memory["payment_method"] = chosen.code
            turn.reply("metodo_elegido", method=chosen.name)
        self._note_address_and_change(turn)

    def _advance_checkout(self, turn: Turn) -> None:
        """Ask for the next checkout fact the shop needs; with all of them, the read-back, or the order
        itself when the customer confirms what was read back (or confirms with every fact at once)."""
        memory = turn.memory
        if sellable_skus.ask_bare_lines(self, turn):  # no order with a product lacking its variant
            memory.pop("readback", None)
            return
        if memory.get("fulfillment") is None:
            memory["awaiting"] = "fulfillment"
            turn.reply("pedir_entrega", zones=self.zone_list())
            turn.offer(offers.fulfillment(turn.say.say))
            return
        if memory["fulfillment"] == "delivery" and not memory.get("zone"):
            memory["awaiting"] = "zone"
            turn.reply("pedir_zona", zones=self.zone_list())
            total = turn.priced().total
            turn.offer(offers.zones(turn.say.say, self.tenant.delivery_zones,
                                    lambda zone: self.fee_text(turn, delivery_fee(self.tenant, zone, total))))
            return
        if memory["fulfillment"] == "delivery" and shop_answers.below_minimum(self, turn):
            return  # the minimum order for delivery, what is missing, or pickup
        if memory["fulfillment"] == "delivery" and not memory.get("address") and not memory.get("asked_address"):
            memory["awaiting"] = "address"  # asked once: an order may go on without it
            memory["asked_address"] = True
            turn.reply("pedir_direccion", zone=memory["zone"])
            return
        methods = {m.code: m for m in self.enabled_methods()}
        if memory.get("payment_method") not in methods:
            memory["awaiting"] = "payment_method"
            turn.reply("pedir_pago", methods=join_es([m.name for m in methods.values()], "o"))
            turn.offer(offers.payment_methods(turn.say.say, list(methods.values())))
            return
        if not self._is_cash(memory.get("payment_method")):
            memory.pop("change_for", None)
        if sellable_skus.ask_open_variant(self, turn):  # "¿qué tamaño?" left unanswered: asked again
            memory.pop("readback", None)
            return
        business = self.tenant.business
        if not business.orders_when_closed and not hours.is_open(business, turn.now):
            memory.pop("readback", None)  # no order while closed: the cart waits for opening time
            turn.reply("cerrado_sin_pedidos", next_open=hours.next_opening(business, turn.now))
            return
        facts = self._checkout_facts(turn)
        shown = turn.state.memory.get("readback")
        if (turn.accepting and _same_but_notes(shown, facts)) or self._confirms_with_every_fact(turn):
            self._place_order(turn, methods[memory["payment_method"]], read_back=shown != facts)
        else:
            self._read_back(turn, methods[memory["payment_method"]], facts)

    def _checkout_facts(self, turn: Turn) -> dict:
        """What a read-back shows: the cart and the checkout facts (compared with what was read back)."""
        facts: dict = {"items": {sku: str(qty) for sku, qty in turn.cart.items()}}
        facts.update({key: turn.memory.get(key) for key in CHECKOUT_FACTS})
        return facts

    def _accepts(self, turn: Turn) -> bool:
        """A message that accepts the read-back: "sí", "confirmo", "así está bien", "ya te yapeé";
        never a question or a "no"."""
        folded, text = turn.folded, turn.analysis.text
        if "?" in text or "¿" in text or has_cue(folded, "no") or _REMOVE.search(folded):
            return False
        if turn.analysis.prediction.intent in DESTRUCTIVE | ESCALATING | {"cancelar_pedido"} and not has_cue(
                folded, "confirm"):
            return False  # "anule mi pedido por favor"
        return has_cue(folded, "confirm") or has_cue(folded, "accept") or self._says_already_paid(turn)

    def _confirms_with_every_fact(self, turn: Turn) -> bool:
        """ "confirmo, recojo en tienda y pago en efectivo": the message confirms and itself names how
        the order is received and paid."""
        folded, text = turn.folded, turn.analysis.text
        if not has_cue(folded, "confirm") or "?" in text or "¿" in text or has_cue(folded, "no"):
            return False
        receives = is_pickup(folded) or bool(self._named_zone(turn))
        return receives and self._named_method(turn) is not None

    def _keep_readback(self, turn: Turn, intent: str) -> None:
        """After a read-back: a change (zone, method, an item) gets a new read-back; a question is
        answered and the read-back stays pending, with a reminder."""
        shown = turn.state.memory.get("readback")
        if not shown or turn.placed_order or turn.decision.status == ESCALATED:
            return
        if not turn.cart:
            for key in ("readback", "awaiting"):
                turn.memory.pop(key, None)
            return
        if turn.memory.get("readback") != shown:
            return  # a new read-back (or a question for a missing fact) was shown this turn
        if self._checkout_facts(turn) != shown:
            turn.memory.pop("readback", None)
            self._advance_checkout(turn)
        else:
            turn.memory["awaiting"] = "confirmation"
            if intent not in ("confirmar_pedido", "confirmar_pago"):
                turn.reply("recordar_confirmacion")
                turn.offer(offers.confirm_order(turn.say.say))

    def _order_texts(self, turn: Turn, method: PaymentMethod) -> dict[str, str]:
        """The order's parts in words, for the read-back, the confirmation and the staff notice."""
        memory = turn.memory
        priced = turn.priced()
        zone = self.zone_by_name(memory.get("zone") or "") if memory.get("fulfillment") == "delivery" else None
        fee = delivery_fee(self.tenant, zone, priced.total)
        total = priced.total + fee
        if zone:
            fulfillment = turn.say.say("pedido_resumen_entrega_delivery", zone=zone.name, fee=self.fee_text(turn, fee))
            if memory.get("address"):
                address = turn.say.say("pedido_resumen_direccion", address=memory["address"])
                fulfillment = f"{fulfillment}, {address}" if address else fulfillment
        else:
            fulfillment = turn.say.say("pedido_resumen_entrega_recojo")
        if memory.get("order_notes"):
            note = turn.say.say("pedido_resumen_nota", notes=memory["order_notes"])
            fulfillment = f"{fulfillment}, {note}" if note else fulfillment
        lines = self.cart_lines(turn, priced)
        if priced.discount:
            saving = turn.say.say("resumen_descuento", discount=turn.money(priced.discount),
                                  promos=join_es([p.name for p in priced.promotions]))
            lines = f"{lines}; {saving}" if saving else lines
        method_text = method.name
        change_for = Decimal(memory["change_for"]) if memory.get("change_for") else None
        if change_for is not None:
            change = turn.say.say("pago_resumen_vuelto", change_for=turn.money(change_for),
                                  change=turn.money(max(change_for - total, Decimal(0))))
            method_text = f"{method.name}, {change}" if change else method_text
        payment = f"{method_text} ({method.details.rstrip('. ')})" if method.details else method_text
        return {"lines": lines, "fulfillment": fulfillment, "method": method_text, "payment": payment,
                "total": turn.money(total)}

    def _read_back(self, turn: Turn, method: PaymentMethod, facts: dict) -> None:
        """Every fact of the order to come, once, for the customer to confirm before it exists."""
        texts = self._order_texts(turn, method)
        turn.reply("pedido_resumen", lines=texts["lines"], fulfillment=texts["fulfillment"],
                   payment=texts["payment"], total=texts["total"])
        turn.memory["readback"] = facts
        turn.memory["awaiting"] = "confirmation"
        turn.offer(offers.confirm_order(turn.say.say))

    def _place_order(self, turn: Turn, method: PaymentMethod, *, read_back: bool = True) -> None:
        """The order exists: its number and how to pay for the customer, the sale for the staff.
        ``read_back``: the reply repeats the order (no read-back was shown for these facts)."""
        memory, state, d = turn.memory, turn.state, turn.decision
        priced = turn.priced()
        zone = self.zone_by_name(memory.get("zone") or "") if memory.get("fulfillment") == "delivery" else None
        fee = delivery_fee(self.tenant, zone, priced.total)
        total = priced.total + fee
        number = state.next_order_number
        change_for = Decimal(memory["change_for"]) if memory.get("change_for") else None
        command = PlaceOrder(
            number=number, items=dict(turn.cart), lines=priced.lines, subtotal=priced.subtotal,
            discount=priced.discount, delivery_fee=fee, total=total,
            fulfillment="delivery" if zone else "pickup", zone=zone.name if zone else None,
            payment_method=method.code, address=memory.get("address") if zone else None, change_for=change_for,
            notes=memory.get("order_notes"),
        )
        d.order_commands.append(command)
        turn.offer(None)  # the order is placed: no "confirm / view" buttons under its summary
        texts = self._order_texts(turn, method)
        instructions = turn.say.say("pago_instrucciones", method=method.name, details=method.details)
        if read_back:
            turn.reply("pedido_confirmado", order_number=number, lines=texts["lines"],
                       fulfillment=texts["fulfillment"], total=texts["total"], payment_instructions=instructions)
        else:
            turn.reply("pedido_registrado", order_number=number, total=texts["total"],
                       payment_instructions=instructions)
        self._notify_staff(turn, "sale", "notificacion_venta", order_number=number, lines=texts["lines"],
                           fulfillment=texts["fulfillment"], method=texts["method"], total=texts["total"])
        turn.cart.clear()
        for key in ("fulfillment", "zone", "last_cart_sku", "readback", "address", "asked_address", "change_for",
                    "order_notes"):
            memory.pop(key, None)
        memory["awaiting"] = "payment"

    def h_confirmar_pago(self, turn: Turn) -> None:
        self._confirm_payment(turn)

    def _confirm_payment(self, turn: Turn) -> None:
        """A payment the customer says they made is reported on their latest open order (staff verify
        it); after a read-back it also confirms the order. Words that only acknowledge ("ya", "ok")
        change nothing."""
        paid = self._says_already_paid(turn)
        order = self._open_order(turn)
        if order is None and turn.cart:
            self._collect_checkout(turn)
            if turn.memory.get("payment_method") is None and turn.entities.payment_methods:
                turn.memory["payment_method"] = turn.entities.payment_methods[0]
            self._advance_checkout(turn)
            order = self._open_order(turn)
            if order is None or not paid:
                return  # the read-back, a checkout question, or "te yapeo": the order waits for the payment
        if order is None:
            latest = turn.state.order
            if paid and latest is not None and latest.status == PAYMENT_REPORTED:
                turn.reply("pago_ya_reportado", order_number=latest.number)
            elif not turn.decision.replies:
                turn.reply("pago_sin_pedido")
            return
        number, total, method_code = order
        method = next((m for m in self.tenant.payment_methods if m.code == method_code), None)
        if not paid:
            instructions = turn.say.say("pago_instrucciones", method=method.name, details=method.details) if method \
                else ""
            turn.reply("pago_pendiente", order_number=number, total=turn.money(total),
                       payment_instructions=instructions)
            return
        turn.decision.order_commands.append(ReportPayment(number))
        turn.reply("pago_recibido", order_number=number)
        self._notify_staff(turn, "payment", "notificacion_pago", order_number=number, total=turn.money(total),
                           method=method.name if method else method_code or "")
        turn.memory.pop("awaiting", None)

    def _says_already_paid(self, turn: Turn) -> bool:
        """ "ya te yapeé", "ahí va la captura" (or a photo): a payment made, not one announced."""
        if turn.kind == "image":  # a photo at checkout: the voucher
            return True
        if not turn.analysis.text.strip():
            return False
        return has_cue(turn.folded, "paid") or _PAID_VERB.search(turn.folded) is not None

    def _open_order(self, turn: Turn) -> tuple[str, Decimal, str | None] | None:
        placed = turn.placed_order
        if placed:
            return placed.number, placed.total, placed.payment_method
        order = turn.state.order
        if order and order.status == PENDING_PAYMENT:
            return order.number, order.total, order.payment_method
        return None

    def h_cancelar_pedido(self, turn: Turn) -> None:
        order = turn.state.order
        if order and order.status == PENDING_PAYMENT:
            turn.decision.order_commands.append(CancelOrder(order.number))
            turn.reply("pedido_cancelado", order_number=order.number)
            self._notify_staff(turn, "cancel", "notificacion_cancelacion", order_number=order.number)
            turn.memory.pop("awaiting", None)
        elif order and order.status in (PAID, PAYMENT_REPORTED) and not turn.cart:
            turn.reply("pedido_no_cancelable", order_number=order.number)
            self._escalate(turn, "quiere anular un pedido pagado")
            turn.decision.replies = turn.decision.replies[:1]
        elif turn.cart:
            self.h_vaciar_carrito(turn)
            turn.decision.replies[-1:] = []
            turn.reply("carrito_cancelado")
        else:
            turn.reply("nada_que_cancelar")

    def h_solicitar_humano(self, turn: Turn) -> None:
        self._escalate(turn, "pidió hablar con una persona")

    def h_queja_reclamo(self, turn: Turn) -> None:
        self._escalate(turn, "queja o reclamo")

    HANDLERS = {
        "saludo": h_saludo,
        "despedida": h_despedida,
        "agradecimiento": h_agradecimiento,
        "consultar_precio": h_consultar_precio,
        "consultar_catalogo": h_consultar_catalogo,
        "consultar_disponibilidad": h_consultar_disponibilidad,
        "consultar_pago": h_consultar_pago,
        "consultar_delivery": h_consultar_delivery,
        "consultar_promociones": h_consultar_promociones,
        "agregar_producto": h_agregar_producto,
        "ver_carrito": h_ver_carrito,
        "modificar_cantidad": h_modificar_cantidad,
        "vaciar_carrito": h_vaciar_carrito,
        "confirmar_pedido": h_confirmar_pedido,
        "cancelar_pedido": h_cancelar_pedido,
        "confirmar_pago": h_confirmar_pago,
        "solicitar_humano": h_solicitar_humano,
        "queja_reclamo": h_queja_reclamo,
        "problema_pago": h_problema_pago,
        "fuera_de_alcance": h_fuera_de_alcance,
    }


_CHECKOUT_STEPS = frozenset({"fulfillment", "zone", "address", "payment_method", "confirmation"})


def _same_but_notes(shown: dict | None, facts: dict) -> bool:
    """The read-back shown is the order to place: the same facts, or the same with notes added at
    the confirmation ("ok confirmo, la factura a nombre de la empresa"); the order then repeats them."""
    if not shown:
        return False
    return {k: v for k, v in shown.items() if k != "order_notes"} == {
        k: v for k, v in facts.items() if k != "order_notes"}


def merge_replies(replies: list[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Fewer, WhatsApp-sized bubbles: consecutive short replies are joined up to ``limit`` chars."""
    merged: list[str] = []
    for text in replies:
        if merged and len(merged[-1]) + 1 + len(text) <= limit:
            merged[-1] = f"{merged[-1]} {text}"
        else:
            merged.append(text)
    return merged


def _count(word: str) -> int:
    return int(word) if word.isdigit() else 1

