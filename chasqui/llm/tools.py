"""The teacher's tools: their JSON schema, the validation of every call against the tenant's data,
and their execution as the same commands a typed message becomes (``chasqui.dialogue.commands``).

The LLM never states an amount: it names a product (by SKU), a quantity, a payment method or a
zone; each validated call becomes a ``Command`` that the engine runs with the code that runs typed
messages (``chasqui.dialogue.executor``), so prices, stock caps, promotions, delivery fees and order
totals always come from the database. This module depends on the commands module only. A call with
an unknown SKU, method or zone, a quantity out of range or an argument the schema does not have is
rejected, not "fixed".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chasqui.dialogue import commands as c
from chasqui.dialogue.commands import Command, CommandRunner
from chasqui.dialogue.cues import fold
from chasqui.domain import TenantSnapshot
from chasqui.llm.client import ToolCall
from chasqui.nlu.intents import INTENTS

LABEL_TOOL = "label_intent"
MAX_QUANTITY = 99
ESCALATION_REASON = "derivado por el asistente"
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
def to_command(action: Action) -> Command:
    """The validated tool call as the command the engine runs for typed messages too."""
    name, args = action.name, action.args
    sku = (args["sku"],) if "sku" in args else ()
    if name == "add_to_cart":
        return Command(c.ADD, items=sku, quantity=args["quantity"])
    if name == "change_quantity":
        return Command(c.SET_QUANTITY, items=sku, quantity=args["quantity"])
    if name == "set_delivery":
        return Command(c.FACT, kind="fulfillment", value=args["mode"], zone=args.get("zone") or None)
    if name == "set_payment_method":
        return Command(c.FACT, kind="payment", value=args["method"])
    if name == "escalate_to_human":
        return Command(c.HUMAN, value=ESCALATION_REASON)
    return Command(_SIMPLE[name], items=sku)


_SIMPLE = {"remove_from_cart": c.REMOVE, "empty_cart": c.EMPTY, "show_cart": c.VIEW_CART, "confirm_order": c.CONFIRM,
           "confirm_payment": c.PAY, "cancel_order": c.CANCEL}


def execute(runner: CommandRunner, turn: Any, action: Action) -> None:
    """Apply one validated action to the turn: the engine runs its command."""
    runner.run_command(turn, to_command(action))
