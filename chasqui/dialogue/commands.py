"""Message -> commands: what one customer message asks the shop to do, in order.

A WhatsApp message often carries several commands ("quita la chicha y pon dos inka kola", "dame
una nomás, ¿la carne es de res?", "el ceviche sin ají y pásame la cuenta"). This module

- cuts the message into **clauses** at punctuation and connectives ("y", "pero", "también",
  "además", "luego"), never inside a product's own words;
- gives each clause the **operation** it carries on its own words (the intent classifier is one
  piece of evidence; verbs of adding or removing, a question, a checkout phrase are the others);
- joins clauses that carry no operation of their own ("kilo", "y medio de esos") and clauses of
  the same operation ("una royal y una inka") with their neighbour, so that the engine gets as
  few clauses as the message has commands;
- orders them for safety: changes to the cart run before a checkout clause, so "sí, y agrégame
  una chicha" never places an order without the chicha (the read-back is shown again);
- describes a decided turn as the list of :class:`Command` it carried out (``simulate --json``'s
  ``commands``; the per-command accuracy bench compares them with labelled messages).

Pure: no I/O. The engine (``chasqui.dialogue.engine``) runs each clause in turn on the state the
previous one left (``chasqui.dialogue.compound``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from chasqui.dialogue.cues import cues, fold, has_cue, has_stem
from chasqui.dialogue.state import CancelOrder, ConversationState, Decision, PlaceOrder, ReportPayment
from chasqui.nlu.analyzer import Analysis

# The operations a clause can carry (CONTRACT-facing names, also the labelled set's vocabulary).
ADD, SET_QUANTITY, REMOVE, REPLACE = "add", "set_quantity", "remove", "replace"
NOTE = "note"  # a note or modifier for a line ("el ceviche sin ají"): a change of the cart's lines
ASK, FACT, CONFIRM, PAY, CANCEL, EMPTY = "ask", "fact", "confirm", "pay", "cancel", "empty"
VIEW_CART, HUMAN, COMPLAIN, HAGGLE = "view_cart", "human", "complain", "haggle"
CHITCHAT, UNKNOWN = "chitchat", "unknown"
CART_CHANGES = frozenset({ADD, SET_QUANTITY, REMOVE, REPLACE, NOTE})

# Where a message may be cut: punctuation, and connectives before a new command.
_CUT = re.compile(r"[,;.!?¿¡\n]+|\s+(?=(?:y|e|pero|tambien|también|ademas|además|luego|despues|después|aparte)\s)",
                  re.IGNORECASE)
_LEADING_LINK = re.compile(r"^(?:y|e|pero|tambien|ademas|luego|despues|aparte)\s+")
_QUESTION_START = re.compile(r"^(?:y\s+)?(?:cuanto|cuanta|cuantos|cuantas|a como|tienen|tienes|tiene|hay|venden|"
                             r"que|cual|cuales|como|donde|cuando|hacen|llegan|aceptan|puedo|se puede|es|son|"
                             r"viene|vienen|incluye|trae|lleva)\b")
_CHECKOUT = re.compile(r"\b(?:la cuenta|eso es todo|eso seria todo|seria todo|nada mas|es todo|"
                       r"cierra(?:me)? el pedido|confirmo|confirma(?:me)?(?: el pedido)?)\b")
_REMOVE_PHRASE = re.compile(r"\bya no (?:quiero|deseo|va|van|me (?:des|de|mandes|mande))\b"
                            r"|\bno (?:me )?(?:pongas|ponga|mandes)\b")
_EMPTY_FILLER = frozenset({"nomas", "no", "mas", "porfa", "por", "favor", "pe", "ya", "mejor", "lo", "la"})
_OPENERS = re.compile(r"^(?:(?:no|ya|ah+|entonces|sabes que|mejor dicho)\s+)+")
_INTENT_OPS = {
    "agregar_producto": ADD, "modificar_cantidad": SET_QUANTITY, "vaciar_carrito": EMPTY,
    "cancelar_pedido": CANCEL, "confirmar_pedido": CONFIRM, "confirmar_pago": PAY, "ver_carrito": VIEW_CART,
    "solicitar_humano": HUMAN, "queja_reclamo": COMPLAIN, "problema_pago": COMPLAIN,
    "saludo": CHITCHAT, "despedida": CHITCHAT, "agradecimiento": CHITCHAT, "fuera_de_alcance": UNKNOWN,
    "consultar_precio": ASK, "consultar_catalogo": ASK, "consultar_disponibilidad": ASK, "consultar_pago": ASK,
    "consultar_delivery": ASK, "consultar_promociones": ASK,
}
_ASK_ABOUT = {
    "consultar_precio": "price", "consultar_catalogo": "catalog", "consultar_disponibilidad": "stock",
    "consultar_pago": "payment", "consultar_delivery": "delivery", "consultar_promociones": "promotions",
}
MAX_CLAUSES = 4  # beyond this a message is a list, read whole (the add handler takes several items)


@dataclass(frozen=True)
class Command:
    """One thing the customer asked for: ``op`` and what it applies to."""

    op: str
    items: tuple[str, ...] = ()  # the products (base SKUs) it is about
    about: str | None = None  # ask: price | stock | info | policy | delivery | hours | payment | catalog | ...
    kind: str | None = None  # fact: fulfillment | zone | address | payment | change | notes
    text: str = ""  # the clause's words
    quantity: Any = None  # add / set_quantity: how many (a Quantity)
    value: str | None = None  # fact: the value (pickup | delivery, a method code); human: the reason
    zone: str | None = None  # fact fulfillment: the delivery zone's name

    def as_json(self) -> dict:
        out: dict = {"op": self.op}
        if self.items:
            out["items"] = list(self.items)
        if self.about:
            out["about"] = self.about
        if self.kind:
            out["kind"] = self.kind
        return out


_ANSWERED = {
    "policy": Command(ASK, about="policy"), "faq": Command(ASK, about="policy"),
    "no_info": Command(ASK, about="policy"), "haggling": Command(HAGGLE), "not_sold": Command(ASK, about="stock"),
    "min_order": Command(ASK, about="delivery"), "zone_total": Command(ASK, about="total"),
    "hours": Command(ASK, about="hours"),
}


class CommandRunner(Protocol):
    """What carries out commands on a turn: the engine (``chasqui.dialogue.executor``). The LLM teacher
    depends on this, not on the engine."""

    tenant: Any

    def run_command(self, turn: Any, command: Command) -> None: ...

    def run_intent(self, turn: Any, intent: str) -> None: ...


@dataclass
class Clause:
    text: str
    op: str | None  # None: no operation of its own (joins a neighbour)
    products: int = 0
    parts: list[str] = field(default_factory=list)


# -- message -> clauses ------------------------------------------------------------------------
def pieces(text: str) -> list[str]:
    """The message cut at punctuation and connectives (empty pieces dropped); a question keeps its
    marks ("¿es de corvina?") so that the clause still reads as a question."""
    out: list[str] = []
    start = 0
    for cut in _CUT.finditer(text or ""):
        marks = cut.group(0)
        end = cut.start() + (len(marks) if "?" in marks else 0)
        out.append(text[start:end])
        start = cut.end() - (1 if marks.rstrip().endswith("¿") else 0)
    out.append((text or "")[start:])
    return [p.strip(" ,;.!¡\n") for p in out if p.strip(" ,;.!¡?¿\n")]


def clause_op(piece: str, analysis: Analysis) -> str | None:
    """The operation a piece carries on its own words, or None when it needs a neighbour."""
    folded = fold(piece)
    words = _LEADING_LINK.sub("", folded)
    e = analysis.entities
    intent = analysis.prediction.intent
    asks = "?" in piece or bool(_QUESTION_START.match(words))
    requests = (has_cue(folded, "order_request") or has_cue(folded, "add_verbs") or has_stem(folded, "add_stems")
                or has_cue(folded, "take_it")) and not has_cue(folded, "only_asking")
    if (has_stem(folded, "remove_stems") or _REMOVE_PHRASE.search(folded)) and (e.products or e.categories):
        return REMOVE
    if _empties(words):
        return EMPTY  # "borra todo": then "mejor el combo familiar" starts a new cart
    if _CHECKOUT.search(folded) and not e.products:
        return CONFIRM
    if asks and not requests:
        return ASK if intent in _ASK_ABOUT or e.products or e.categories or intent == "fuera_de_alcance" else None
    if requests and (e.products or e.quantities or intent in ("agregar_producto", "modificar_cantidad")):
        return ADD
    if any(m.quantity is not None for m in e.products) and intent in ("agregar_producto", "modificar_cantidad"):
        return ADD  # "y una leche de tigre": a counted item is an order, with or without a verb
    if e.products and has_cue(folded, "line_note_leads"):
        return NOTE
    if e.quantities and not e.products and _leads(words, "quantity_leads"):
        return SET_QUANTITY  # "mejor 4", "que sean 3": the count of the line in focus
    if e.products and _leads(words, "instead_leads") and not has_cue(folded, "swap_becomes"):
        return ADD  # "mejor el combo familiar y el combo pareja"
    return None


def _empties(words: str) -> bool:
    """ "borra todo", "quítalo todo nomás": a verb of taking out whose object is the whole cart."""
    tokens = words.split()
    verb = next((k for k, w in enumerate(tokens) if has_stem(w, "remove_stems")), None)
    if verb is None:
        return False
    rest = [w for w in tokens[verb + 1:] if w not in _EMPTY_FILLER]
    return " ".join(rest) in cues().get("whole_cart", ())


def _leads(words: str, name: str) -> bool:
    """The clause starts with one of the cue's phrases (after "no", "ya", "entonces")."""
    padded = f" {_OPENERS.sub('', words)} "
    return any(padded.startswith(f" {phrase} ") for phrase in cues().get(name, ()))


def plan(text: str, analyze_piece: Callable[[str], Analysis]) -> list[str] | None:
    """The message's clauses to run one after the other, or None when it is one command."""
    cut = pieces(text)
    if len(cut) < 2 or len(cut) > 3 * MAX_CLAUSES:
        return None
    clauses: list[Clause] = []
    for piece in cut:
        analysis = analyze_piece(piece)
        clauses.append(Clause(piece, clause_op(piece, analysis), len(analysis.entities.products), [piece]))
    joined = _join(clauses)
    ops = [c.op for c in joined]
    if len(joined) < 2 or len(joined) > MAX_CLAUSES or not CART_CHANGES.intersection(ops):
        return None  # one command, or no change to the cart to keep apart from the rest
    if len(set(ops)) < 2:
        return None
    return [" ".join(c.parts) for c in _safe_order(joined)]


def _join(clauses: list[Clause]) -> list[Clause]:
    """Clauses without an operation join the one before (or, at the start, the one after); neighbours
    with the same operation are one clause."""
    out: list[Clause] = []
    waiting: list[str] = []  # leading pieces without an operation
    for clause in clauses:
        if clause.op is None:
            if out:
                out[-1].parts.append(clause.text)
                out[-1].products += clause.products
            else:
                waiting.append(clause.text)
            continue
        if out and out[-1].op == clause.op:
            out[-1].parts.append(clause.text)
            out[-1].products += clause.products
            continue
        out.append(Clause(clause.text, clause.op, clause.products, [*waiting, clause.text]))
        waiting = []
    if waiting:
        if not out:
            return []
        out[-1].parts.extend(waiting)
    return out


def _safe_order(clauses: list[Clause]) -> list[Clause]:
    """A checkout clause runs after every change to the cart said in the same message."""
    checkout = [c for c in clauses if c.op == CONFIRM]
    return [c for c in clauses if c.op != CONFIRM] + checkout


# -- decided turn -> commands ------------------------------------------------------------------
def describe(state: ConversationState, decision: Decision, base_of: Callable[[str], str],
             text: str = "") -> list[Command]:
    """The commands a decided turn carried out, from what changed (cart, order, checkout facts) and
    the intent it answered: what the bot understood, in the labelled set's vocabulary."""
    out: list[Command] = []
    before, after = state.cart, decision.cart
    placed = any(isinstance(c, PlaceOrder) for c in decision.order_commands)
    if not placed:
        out += _cart_changes(before, after, base_of, adding=decision.intent == "agregar_producto")
    memory_before, memory_after = state.memory, decision.memory
    for key, kind in (("fulfillment", "fulfillment"), ("zone", "zone"), ("address", "address"),
                      ("payment_method", "payment"), ("change_for", "change"), ("order_notes", "notes")):
        if memory_after.get(key) is not None and memory_after.get(key) != memory_before.get(key):
            out.append(Command(FACT, kind=kind))
    intent = decision.intent
    if placed or (intent == "confirmar_pedido" and not out):
        out.append(Command(CONFIRM))
    if any(isinstance(c, ReportPayment) for c in decision.order_commands):
        out.append(Command(PAY))
    if any(isinstance(c, CancelOrder) for c in decision.order_commands):
        out.append(Command(CANCEL))
    elif intent == "vaciar_carrito" and not after and before:
        out.append(Command(EMPTY))
    for kind in decision.answered:  # the shop's own answers: policies, haggling, hours, not sold...
        answered = _ANSWERED.get(kind)
        if answered is not None and answered not in out:
            out.append(answered)
    op = _INTENT_OPS.get(intent or "")
    if op == ASK and not decision.answered:
        items = tuple(dict.fromkeys(base_of(p["sku"]) for p in decision.entities.get("products", [])))
        out.append(Command(ASK, items=items, about=_ASK_ABOUT.get(intent or "")))
    elif op in (VIEW_CART, HUMAN, COMPLAIN, CHITCHAT, UNKNOWN) and not out:
        out.append(Command(op))
    if decision.escalation and not any(c.op in (HUMAN, COMPLAIN) for c in out):
        out.append(Command(HUMAN if intent == "solicitar_humano" else COMPLAIN))
    return out or [Command(UNKNOWN, text=text)]


def _cart_changes(before: dict, after: dict, base_of: Callable[[str], str], *, adding: bool) -> list[Command]:
    added = [s for s in after if s not in before]
    removed = [s for s in before if s not in after]
    changed = [s for s in after if s in before and Decimal(str(after[s])) != Decimal(str(before[s]))]
    out: list[Command] = []
    if removed and added:
        out.append(Command(REPLACE, items=tuple(dict.fromkeys(base_of(s) for s in removed + added))))
        return out + [Command(SET_QUANTITY, items=(base_of(s),)) for s in changed]
    out += [Command(REMOVE, items=(sku,)) for sku in dict.fromkeys(base_of(s) for s in removed)]
    grew = [s for s in changed if adding and Decimal(str(after[s])) > Decimal(str(before[s]))]
    out += [Command(ADD, items=(sku,)) for sku in dict.fromkeys(base_of(s) for s in added + grew)]
    out += [Command(SET_QUANTITY, items=(base_of(s),)) for s in changed if s not in grew]
    return out
