"""A checker for scripted conversations (``scenarios/*.yaml``).

It runs a scenario either in-process (``chasqui.simulation.run_script``, the generator behind
``simulate``: no interpreter start-up, the intent model is loaded once per test session) or
through the real ``python -m chasqui simulate --json`` (CONTRACT section 4), and compares every
turn's JSON object with the turn's ``expect:`` block. The expectation keys are the ones the
public checker understands:

    intent, intent_in, source_in, state, silent, replies_min,
    reply_any, reply_all, reply_none, reply_matches,
    cart, cart_includes, cart_empty, cart_total,
    order_status, order_status_in, order_total, order_items, no_order,
    notified, not_notified

Text comparisons ignore case and accents. An unknown key is reported as a problem, so a typo
in a scenario cannot silently turn an expectation off.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

TURN_KINDS = ("user", "operator", "advance", "tap")
ORDER_KEYS = ("order_status", "order_status_in", "order_total", "order_items", "order_delivery", "order_payment",
              "order_address_any", "order_notes_any", "order_change_for")
KNOWN_KEYS = frozenset({
    "intent", "intent_in", "source_in", "state", "silent", "replies_min",
    "reply_any", "reply_all", "reply_none", "reply_matches",
    "cart", "cart_includes", "cart_empty", "cart_total",
    *ORDER_KEYS, "no_order", "notified", "not_notified",
    "step", "labels_include", "choices_include",
})
SIMULATE_TIMEOUT_S = 300
LINE_KEYS = frozenset({
    "turn", "kind", "text", "replies", "intent", "confidence", "source",
    "cart", "cart_total", "order", "state", "notifications",
})
# CONTRACT §4: choices and media on every line; transcript, step and labels where they apply
OPTIONAL_LINE_KEYS = frozenset({"commands", "choices", "media", "labels", "step", "transcript"})
SOURCES = ("ml", "llm", "rule", "fallback", "none")
STATES = ("bot", "escalated", "paused")
ORDER_STATUSES = ("pending_payment", "payment_reported", "paid", "cancelled", "preparing", "on_the_way", "delivered")
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")


def fold(text: str | None) -> str:
    """Lower case without accents: 'Limón' -> 'limon'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def as_money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def as_counts(mapping: Any) -> dict[str, Decimal]:
    """A {sku: quantity} mapping without zero lines; quantities compared as numbers (2 == "2", "1.5")."""
    counts = {str(sku): Decimal(str(qty)).normalize() for sku, qty in (mapping or {}).items()}
    return {sku: qty for sku, qty in counts.items() if qty}


# ---------------------------------------------------------------------------- one turn
def _check_intent(expect: dict, got: dict, bad: Callable[[str], None]) -> None:
    if "intent" in expect and got.get("intent") != expect["intent"]:
        bad(f"intent is {got.get('intent')!r}, expected {expect['intent']!r}")
    if "intent_in" in expect and got.get("intent") not in expect["intent_in"]:
        bad(f"intent is {got.get('intent')!r}, expected one of {expect['intent_in']}")
    if "source_in" in expect and got.get("source") not in expect["source_in"]:
        bad(f"source is {got.get('source')!r}, expected one of {expect['source_in']}")
    if "state" in expect and got.get("state") != expect["state"]:
        bad(f"state is {got.get('state')!r}, expected {expect['state']!r}")


def _check_replies(expect: dict, got: dict, bad: Callable[[str], None]) -> None:
    replies = [str(r) for r in got.get("replies") or []]
    said = fold("\n".join(replies))
    if expect.get("silent") and replies:
        bad(f"expected silence, the bot said {replies!r}")
    if "replies_min" in expect and len(replies) < int(expect["replies_min"]):
        bad(f"{len(replies)} replies, expected at least {expect['replies_min']}")
    if "reply_any" in expect and not any(fold(s) in said for s in expect["reply_any"]):
        bad(f"the reply has none of {expect['reply_any']}: {replies!r}")
    for wanted in expect.get("reply_all") or []:
        if fold(wanted) not in said:
            bad(f"the reply lacks {wanted!r}: {replies!r}")
    for unwanted in expect.get("reply_none") or []:
        if fold(unwanted) in said:
            bad(f"the reply must not contain {unwanted!r}: {replies!r}")
    for pattern in expect.get("reply_matches") or []:
        if not re.search(fold(pattern), said):
            bad(f"the reply does not match /{pattern}/: {replies!r}")


def _check_cart(expect: dict, got: dict, bad: Callable[[str], None]) -> None:
    cart = as_counts(got.get("cart"))
    if "cart" in expect and cart != as_counts(expect["cart"]):
        bad(f"cart is {cart}, expected {as_counts(expect['cart'])}")
    for sku, qty in (expect.get("cart_includes") or {}).items():
        if cart.get(str(sku)) != Decimal(str(qty)):
            bad(f"cart {cart} should hold {sku}={qty}")
    if expect.get("cart_empty") and cart:
        bad(f"cart should be empty, it is {cart}")
    if "cart_total" in expect and as_money(got.get("cart_total")) != as_money(expect["cart_total"]):
        bad(f"cart_total is {got.get('cart_total')}, expected {expect['cart_total']}")


def _check_order(expect: dict, got: dict, bad: Callable[[str], None]) -> None:
    order = got.get("order")
    if expect.get("no_order") and order:
        bad(f"expected no order, got {order}")
    if not any(key in expect for key in ORDER_KEYS):
        return
    if not order:
        bad("expected an order, there is none")
        return
    status = order.get("status")
    if "order_status" in expect and status != expect["order_status"]:
        bad(f"order status is {status!r}, expected {expect['order_status']!r}")
    if "order_status_in" in expect and status not in expect["order_status_in"]:
        bad(f"order status is {status!r}, expected one of {expect['order_status_in']}")
    if "order_total" in expect and as_money(order.get("total")) != as_money(expect["order_total"]):
        bad(f"order total is {order.get('total')}, expected {expect['order_total']}")
    if "order_items" in expect and as_counts(order.get("items")) != as_counts(expect["order_items"]):
        bad(f"order items are {as_counts(order.get('items'))}, expected {as_counts(expect['order_items'])}")
    if "order_delivery" in expect and fold(str(order.get("delivery"))) != fold(str(expect["order_delivery"])):
        bad(f"order delivery is {order.get('delivery')!r}, expected {expect['order_delivery']!r}")
    if "order_payment" in expect and order.get("payment_method") != expect["order_payment"]:
        bad(f"order payment is {order.get('payment_method')!r}, expected {expect['order_payment']!r}")
    if "order_address_any" in expect and not any(
            fold(a) in fold(str(order.get("address") or "")) for a in expect["order_address_any"]):
        bad(f"order address {order.get('address')!r} has none of {expect['order_address_any']}")
    if "order_change_for" in expect and as_money(order.get("change_for")) != as_money(expect["order_change_for"]):
        bad(f"order change_for is {order.get('change_for')!r}, expected {expect['order_change_for']!r}")
    if "order_notes_any" in expect and not any(
            fold(a) in fold(json.dumps(order.get("notes"), ensure_ascii=False)) for a in expect["order_notes_any"]):
        bad(f"order notes {order.get('notes')!r} have none of {expect['order_notes_any']}")


def _check_notifications(expect: dict, got: dict, bad: Callable[[str], None]) -> None:
    sent_to = {str(n.get("to")) for n in got.get("notifications") or []}
    for number in expect.get("notified") or []:
        if str(number) not in sent_to:
            bad(f"staff number {number} was not notified (notified: {sorted(sent_to)})")
    if expect.get("not_notified") and sent_to:
        bad(f"expected no staff notification, sent to {sorted(sent_to)}")


def check_turn(expect: dict | None, got: dict) -> list[str]:
    """Every way ``got`` (one JSON line of ``simulate``) breaks ``expect``; empty when it holds."""
    expect = expect or {}
    problems: list[str] = [f"unknown expectation key {key!r}" for key in expect if key not in KNOWN_KEYS]
    for check in (_check_intent, _check_replies, _check_cart, _check_order, _check_notifications, _check_flow):
        check(expect, got, problems.append)
    return problems


def _check_flow(expect: dict, got: dict, bad: Any) -> None:
    """CONTRACT §4's ``choices``, ``step`` and ``labels`` (flow tenants and roles)."""
    offered = [fold(c) for c in got.get("choices") or []]
    for title in expect.get("choices_include", []):
        if fold(title) not in offered:
            bad(f"choices {got.get('choices')!r} lack {title!r}")
    if "step" in expect and got.get("step") != expect["step"]:
        bad(f"step {got.get('step')!r} != {expect['step']!r}")
    labels = [fold(x) for x in got.get("labels") or []]
    for label in expect.get("labels_include", []):
        if fold(label) not in labels:
            bad(f"labels {got.get('labels')!r} lack {label!r}")


# ---------------------------------------------------------------------------- one scenario
@dataclass
class ScenarioResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)

    def report(self) -> str:
        return "\n".join(self.problems)


def load_scenario(path: Path) -> dict:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ValueError(f"{path}: not a scenario (no turns: list)")
    return data


def scripted_turns(scenario: dict) -> list[dict]:
    """The turns ``simulate`` answers with one JSON line each."""
    return [t for t in scenario["turns"] if isinstance(t, dict) and any(k in t for k in TURN_KINDS)]


def tenant_file_of(path: Path, scenario: dict) -> Path | None:
    name = scenario.get("tenant")
    return (Path(path).parent / str(name)).resolve() if name else None


def simulate(tenant_file: Path, script: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "chasqui", "simulate", "--tenant", str(tenant_file),
               "--script", str(script), "--json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=SIMULATE_TIMEOUT_S, cwd=cwd)


def _is_amount(value: Any) -> bool:
    return isinstance(value, str) and AMOUNT.match(value) is not None


def _is_notification(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"to", "text"}


def contract_problems(line: Any, number: int) -> list[str]:
    """Every way one ``simulate --json`` object breaks the shape of CONTRACT section 4."""
    if not isinstance(line, dict):
        return [f"line {number} is not a JSON object: {line!r}"]
    problems: list[str] = []
    bad = problems.append
    if not LINE_KEYS <= set(line) <= LINE_KEYS | OPTIONAL_LINE_KEYS:
        bad(f"keys {sorted(line)}, expected {sorted(LINE_KEYS)} (and any of {sorted(OPTIONAL_LINE_KEYS)})")
    for key in ("choices", "labels"):
        if key in line and not (isinstance(line[key], list) and all(isinstance(x, str) for x in line[key])):
            bad(f"{key} must be a list of strings: {line[key]!r}")
    if line.get("turn") != number:
        bad(f"turn is {line.get('turn')!r}, expected {number}")
    if line.get("kind") not in TURN_KINDS:
        bad(f"kind {line.get('kind')!r} is not one of {TURN_KINDS}")
    replies = line.get("replies")
    if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
        bad(f"replies must be a list of strings: {replies!r}")
    if line.get("source") not in SOURCES:
        bad(f"source {line.get('source')!r} is not one of {SOURCES}")
    if line.get("state") not in STATES:
        bad(f"state {line.get('state')!r} is not one of {STATES}")
    cart = line.get("cart")
    if not isinstance(cart, dict) or not all(_is_quantity(q) for q in cart.values()):
        bad(f"cart must map SKU to a whole quantity or a decimal string: {cart!r}")
    if not _is_amount(line.get("cart_total")):
        bad(f"cart_total must be a decimal string: {line.get('cart_total')!r}")
    order = line.get("order")
    if order is not None and (
        not isinstance(order, dict) or set(order) != ORDER_OBJECT_KEYS
        or not isinstance(order["id"], str) or order["status"] not in ORDER_STATUSES
        or not isinstance(order["items"], dict) or not _is_amount(order["total"])
        or not all(_is_quantity(q) for q in order["items"].values())
        or not (order["change_for"] is None or _is_amount(order["change_for"]))
        or not all(order[k] is None or isinstance(order[k], str) for k in ("delivery", "address", "payment_method",
                                                                             "notes"))
    ):
        bad(f"order must be null or {{{', '.join(sorted(ORDER_OBJECT_KEYS))}}} with string id and amounts: {order!r}")
    notes = line.get("notifications")
    if not isinstance(notes, list) or not all(_is_notification(n) for n in notes):
        bad(f"notifications must be a list of {{to, text}}: {notes!r}")
    return problems


# CONTRACT §4: the order object, and quantities (ints, or decimal strings for products sold by weight)
ORDER_OBJECT_KEYS = {"id", "status", "items", "total", "delivery", "address", "payment_method", "notes", "change_for"}


def _is_quantity(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"\d+(\.\d+)?", value))


def check_lines(scenario: dict, lines: list[dict]) -> ScenarioResult:
    """Check every JSON line against its scripted turn's `expect:` block."""
    turns = scripted_turns(scenario)
    if len(lines) != len(turns):
        return ScenarioResult(False, [f"{len(turns)} turns but {len(lines)} JSON lines"], lines)
    problems: list[str] = []
    for number, (turn, got) in enumerate(zip(turns, lines, strict=True), 1):
        said = turn.get("user") or turn.get("operator") or f"advance {turn.get('advance')}"
        problems.extend(f"turn {number} ({said!r}): {p}" for p in check_turn(turn.get("expect"), got))
    return ScenarioResult(not problems, problems, lines)


def _scenario_and_tenant(path: Path) -> tuple[dict, Path | None, ScenarioResult | None]:
    scenario = load_scenario(path)
    tenant = tenant_file_of(path, scenario)
    if tenant is None or not tenant.exists():
        problem = f"{path.name}: tenant file {scenario.get('tenant')!r} not found"
        return scenario, None, ScenarioResult(False, [problem])
    return scenario, tenant, None


def run_scenario(path: Path, cwd: Path | None = None) -> ScenarioResult:
    """Run one scenario file through the real ``simulate --json`` command and check every turn."""
    path = Path(path)
    scenario, tenant, missing = _scenario_and_tenant(path)
    if missing is not None:
        return missing
    proc = simulate(tenant, path, cwd)
    if proc.returncode != 0:
        return ScenarioResult(False, [f"simulate exited {proc.returncode}: {proc.stderr.strip()[-800:]}"])
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    return check_lines(scenario, lines)


def simulate_in_process(tenant_file: Path, script: Path) -> list[dict]:
    """What ``simulate --json`` would print for ``script``, as parsed JSON, without a subprocess."""
    from chasqui.simulation import load_script, run_script

    lines = run_script(tenant_file, load_script(script))
    return [json.loads(json.dumps(line, ensure_ascii=False)) for line in lines]


def run_scenario_in_process(path: Path) -> ScenarioResult:
    """Run one scenario file through ``chasqui.simulation.run_script`` and check every turn."""
    path = Path(path)
    scenario, tenant, missing = _scenario_and_tenant(path)
    if missing is not None:
        return missing
    return check_lines(scenario, simulate_in_process(tenant, path))
