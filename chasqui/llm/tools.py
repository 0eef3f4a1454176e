"""The teacher's tools: their JSON schema, the validation of every call against the tenant's data,
and their execution through the dialogue engine's own handlers.

The LLM never states an amount: it names a product (by SKU), a quantity, a payment method or a
zone, and Chasqui does the rest with the same code the intent model's path uses (``_add_items``,
``h_modificar_cantidad``, ``h_confirmar_pedido``...), so prices, stock caps, promotions, delivery
fees and order totals always come from the database. A call with an unknown SKU, method or zone,
a quantity out of range or an argument the schema does not have is rejected, not "fixed".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chasqui.dialogue.cues import fold
from chasqui.dialogue.state import ESCALATED
from chasqui.domain import TenantSnapshot
from chasqui.llm.client import ToolCall
from chasqui.nlu.entities import Entities, ProductMention
from chasqui.nlu.intents import INTENTS

if TYPE_CHECKING:
    from chasqui.dialogue.engine import Engine, Turn

LABEL_TOOL = "label_intent"
MAX_QUANTITY = 99
ESCALATION_REASON = "derivado por el asistente"
_PICKUP_TEXT = "recojo en tienda"  # read by the engine's pickup cue
_DELIVERY_TEXT = "delivery"
_REMOVE_TEXT = "quita"
BARE_TOOLS = ("empty_cart", "show_cart", "confirm_order", "confirm_payment", "cancel_order")


def _function(name: str, description: str, properties: dict[str, Any] | None = None,
              required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties or {},
                "required": required or [],
                "additionalProperties": False,
            },
        },
    }


def tool_schema(tenant: TenantSnapshot) -> list[dict[str, Any]]:
    """The tools offered to the LLM for this tenant (payment methods and zones as enums)."""
    methods = [m.code for m in tenant.payment_methods if m.enabled]
    zones = [z.name for z in tenant.delivery_zones]
    sku = {"type": "string", "description": "SKU exacto de la lista de productos"}
    delivery: dict[str, Any] = {"mode": {"type": "string", "enum": ["pickup", "delivery"]}}
    if zones:
        delivery["zone"] = {"type": "string", "enum": zones, "description": "zona de delivery (solo con delivery)"}
    return [
        _function(LABEL_TOOL, "Obligatorio, una vez: la intención del último mensaje del cliente y tu respuesta breve.",
                  {"intent": {"type": "string", "enum": list(INTENTS)},
                   "reply": {"type": "string", "description": "respuesta breve para el cliente, sin montos"}},
                  ["intent", "reply"]),
        _function("add_to_cart", "Agrega un producto al carrito (Chasqui pone el precio).",
                  {"sku": sku, "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}},
                  ["sku", "quantity"]),
        _function("change_quantity", "Cambia la cantidad de un producto del carrito (0 lo quita).",
                  {"sku": sku, "quantity": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY}},
                  ["sku", "quantity"]),
        _function("remove_from_cart", "Quita un producto del carrito.", {"sku": sku}, ["sku"]),
        _function("empty_cart", "Vacía todo el carrito."),
        _function("show_cart", "Muestra el carrito con el total calculado por Chasqui."),
        _function("confirm_order", "El cliente terminó de elegir: sigue con la entrega, el pago y el pedido."),
        _function("set_delivery", "Recojo en tienda (pickup) o delivery a una zona.", delivery, ["mode"]),
        _function("set_payment_method", "El medio de pago que eligió el cliente.",
                  {"method": {"type": "string", "enum": methods}}, ["method"]),
        _function("confirm_payment", "El cliente dice que ya pagó el pedido pendiente."),
        _function("cancel_order", "Cancela el pedido pendiente o lo que está armando."),
        _function("escalate_to_human", "Pasa la conversación a una persona del negocio.",
                  {"reason": {"type": "string", "description": "motivo breve"}}),
    ]


@dataclass(frozen=True)
class Action:
    """A validated tool call: ``args`` hold the tenant's own values (SKU, method code, zone name)."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    name: str
    reason: str


def _check_keys(args: dict[str, Any], allowed: set[str], required: set[str]) -> str | None:
    extra = set(args) - allowed
    if extra:
        return f"unexpected argument(s): {', '.join(sorted(extra))}"
    missing = required - set(args)
    if missing:
        return f"missing argument(s): {', '.join(sorted(missing))}"
    return None


def _quantity(value: Any, low: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and low <= value <= MAX_QUANTITY:
        return value
    return None


class Validator:
    """Checks tool calls against the tenant snapshot and the current cart."""

    def __init__(self, tenant: TenantSnapshot, cart: dict[str, int]) -> None:
        self.tenant = tenant
        self.cart = cart
        self._rules: dict[str, Callable[[dict[str, Any]], Action | str]] = {
            "add_to_cart": self._add,
            "change_quantity": self._change,
            "remove_from_cart": self._remove,
            "set_delivery": self._delivery,
            "set_payment_method": self._payment,
            "escalate_to_human": self._escalate,
        }
        for name in BARE_TOOLS:
            self._rules[name] = functools.partial(self._bare, name=name)

    def check(self, call: ToolCall) -> Action | Rejected:
        rule = self._rules.get(call.name)
        if rule is None:
            return Rejected(call.name, "unknown tool")
        args = call.parsed()
        if args is None:
            return Rejected(call.name, "arguments are not a JSON object")
        result = rule(args)
        return Rejected(call.name, result) if isinstance(result, str) else result

    def _product(self, value: Any) -> str | None:
        product = self.tenant.product(str(value).strip()) if isinstance(value, str) else None
        return product.sku if product is not None and product.active else None

    def _add(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"sku", "quantity"}, {"sku", "quantity"})
        if error:
            return error
        sku, quantity = self._product(args["sku"]), _quantity(args["quantity"], 1)
        if sku is None:
            return f"unknown product {args['sku']!r}"
        if quantity is None:
            return f"invalid quantity {args['quantity']!r}"
        return Action("add_to_cart", {"sku": sku, "quantity": quantity})

    def _change(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"sku", "quantity"}, {"sku", "quantity"})
        if error:
            return error
        sku, quantity = self._product(args["sku"]), _quantity(args["quantity"], 0)
        if sku is None:
            return f"unknown product {args['sku']!r}"
        if quantity is None:
            return f"invalid quantity {args['quantity']!r}"
        if quantity == 0 and sku not in self.cart:
            return f"{sku} is not in the cart"
        return Action("change_quantity", {"sku": sku, "quantity": quantity})

    def _remove(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"sku"}, {"sku"})
        if error:
            return error
        sku = self._product(args["sku"])
        if sku is None:
            return f"unknown product {args['sku']!r}"
        if sku not in self.cart:
            return f"{sku} is not in the cart"
        return Action("remove_from_cart", {"sku": sku})

    @staticmethod
    def _bare(args: dict[str, Any], name: str) -> Action | str:
        error = _check_keys(args, set(), set())
        return error or Action(name, {})

    def _delivery(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"mode", "zone"}, {"mode"})
        if error:
            return error
        mode, zone = args["mode"], args.get("zone")
        if mode == "pickup":
            return Action("set_delivery", {"mode": "pickup"})
        if mode != "delivery":
            return f"invalid mode {mode!r}"
        if not self.tenant.business.delivery_enabled or not self.tenant.delivery_zones:
            return "this business has no delivery"
        if zone in (None, ""):
            return Action("set_delivery", {"mode": "delivery"})
        if not isinstance(zone, str):
            return f"invalid zone {zone!r}"
        known = next((z.name for z in self.tenant.delivery_zones if fold(z.name) == fold(zone)), None)
        if known is None:
            return f"unknown zone {zone!r}"
        return Action("set_delivery", {"mode": "delivery", "zone": known})

    def _payment(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"method"}, {"method"})
        if error:
            return error
        method = args["method"]
        codes = {m.code for m in self.tenant.payment_methods if m.enabled}
        if not isinstance(method, str) or method.strip() not in codes:
            return f"unknown payment method {method!r}"
        return Action("set_payment_method", {"method": method.strip()})

    def _escalate(self, args: dict[str, Any]) -> Action | str:
        error = _check_keys(args, {"reason"}, set())
        if error:
            return error
        reason = args.get("reason")
        return Action("escalate_to_human", {"reason": reason.strip()[:200] if isinstance(reason, str) else ""})


# -- execution ------------------------------------------------------------------------------------
@contextmanager
def _reading(turn: Turn, entities: Entities, folded: str = "") -> Iterator[None]:
    """Run a handler as if the message had said exactly ``entities`` (the LLM's validated call)."""
    saved = turn.entities, turn.folded
    turn.entities, turn.folded = entities, folded
    try:
        yield
    finally:
        turn.entities, turn.folded = saved


def _mention(sku: str, quantity: int | None) -> ProductMention:
    return ProductMention(sku=sku, candidates=(sku,), quantity=quantity, score=100.0, start=0, end=0)


def execute(engine: Engine, turn: Turn, action: Action) -> None:
    """Apply one validated action to the turn through the engine's handlers."""
    name, args = action.name, action.args
    if turn.decision.status == ESCALATED:
        return
    if name == "add_to_cart":
        with _reading(turn, Entities(products=(_mention(args["sku"], args["quantity"]),),
                                     quantities=(args["quantity"],))):
            engine._add_items(turn, [(args["sku"], args["quantity"])])
    elif name == "change_quantity":
        with _reading(turn, Entities(products=(_mention(args["sku"], args["quantity"]),),
                                     quantities=(args["quantity"],))):
            engine.h_modificar_cantidad(turn)
    elif name == "remove_from_cart":
        with _reading(turn, Entities(products=(_mention(args["sku"], None),)), _REMOVE_TEXT):
            engine.h_modificar_cantidad(turn)
    elif name == "empty_cart":
        engine.h_vaciar_carrito(turn)
    elif name == "show_cart":
        engine.h_ver_carrito(turn)
    elif name == "confirm_order":
        with _reading(turn, Entities()):
            engine.h_confirmar_pedido(turn)
    elif name == "set_delivery":
        zone = args.get("zone")
        entities = Entities(zones=(zone,)) if zone else Entities()
        with _reading(turn, entities, _PICKUP_TEXT if args["mode"] == "pickup" else _DELIVERY_TEXT):
            engine.h_confirmar_pedido(turn)
    elif name == "set_payment_method":
        with _reading(turn, Entities(payment_methods=(args["method"],))):
            engine.h_confirmar_pedido(turn)
    elif name == "confirm_payment":
        with _reading(turn, Entities()):
            engine.h_confirmar_pago(turn)
    elif name == "cancel_order":
        engine.h_cancelar_pedido(turn)
    elif name == "escalate_to_human":
        engine._escalate(turn, ESCALATION_REASON)
