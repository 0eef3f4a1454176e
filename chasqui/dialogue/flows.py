"""Step flows (CONTRACT §8 ``flows:``) and chat roles (``roles:``): pure functions, no database.

``run(flow, message, state, now)`` is the whole step machine: the conversation's flow state (a
JSON-able dict kept in the conversation's memory under ``"flow"``) and a customer message give the
replies, the buttons or list offered, images, the next step, and what the caller must do (hand the
same message to the sales assistant, escalate to a human, label the chat with a role).

Matching is on whole words, accent- and case-insensitive: an input ``"al peso"`` matches
"lo quiero AL PESO" but not "alpesos". ``*`` matches any message. The first matching rule of the
current step wins. Global commands are checked before any step.

``calc`` is arithmetic on captured numbers only, evaluated by ``simpleeval`` with no functions and
only the names the flow captured or calculated: never ``eval``.
"""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from simpleeval import SimpleEval

WILDCARD = "*"
MAX_CHAIN = 20  # steps one message may run through (next_now / restart), a guard against loops
_PUNCT = re.compile(r"[^\w]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def fold(text: str) -> str:
    """Lowercase, no accents, punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_PUNCT.sub(" ", plain).replace("_", " ").split())


def has_words(folded_message: str, phrase: str) -> bool:
    """``phrase`` occurs in the (folded) message as whole words."""
    words = fold(phrase)
    return bool(words) and f" {words} " in f" {folded_message} "


# ------------------------------------------------------------------ definition


@dataclass(frozen=True)
class Reply:
    text: str = ""
    buttons: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()  # a list's rows (the file's ``list``)
    image: str | None = None
    document: str | None = None


@dataclass(frozen=True)
class Rule:
    inputs: tuple[str, ...]  # empty: the wildcard
    reply: Reply | None = None
    next: str | None = None
    next_now: bool = False
    action: str | None = None  # human | restart
    role: str | None = None
    capture: tuple[str, ...] = ()
    calc: tuple[tuple[str, str], ...] = ()

    def matches(self, folded_message: str) -> bool:
        return not self.inputs or any(has_words(folded_message, i) for i in self.inputs)


@dataclass(frozen=True)
class Command:
    keywords: tuple[str, ...]
    action: str  # restart | human
    reply: Reply | None = None


@dataclass(frozen=True)
class Flow:
    initial_step: str
    steps: Mapping[str, tuple[Rule, ...]]
    session_timeout_minutes: int | None = None
    handoff_step: str | None = None
    commands: tuple[Command, ...] = ()


def _reply(data: Mapping[str, Any] | None) -> Reply | None:
    if not data:
        return None
    return Reply(
        text=str(data.get("text") or ""),
        buttons=tuple(data.get("buttons") or ()),
        rows=tuple(data.get("list") or ()),
        image=data.get("image") or None,
        document=data.get("document") or None,
    )


def _inputs(value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else list(value or ())
    if any(str(v).strip() == WILDCARD for v in values):
        return ()
    return tuple(str(v) for v in values)


def parse_flow(data: Mapping[str, Any] | None) -> Flow | None:
    """A stored (already validated) ``flows:`` mapping as a ``Flow``; None when there is none."""
    if not data:
        return None
    steps = {
        str(name): tuple(
            Rule(
                inputs=_inputs(rule.get("input")),
                reply=_reply(rule.get("reply")),
                next=rule.get("next") or None,
                next_now=bool(rule.get("next_now")),
                action=rule.get("action") or None,
                role=rule.get("role") or None,
                capture=tuple(rule.get("capture") or ()),
                calc=tuple((str(k), str(v)) for k, v in (rule.get("calc") or {}).items()),
            )
            for rule in rules or ()
        )
        for name, rules in (data.get("steps") or {}).items()
    }
    return Flow(
        initial_step=str(data["initial_step"]),
        steps=steps,
        session_timeout_minutes=data.get("session_timeout_minutes"),
        handoff_step=data.get("handoff_step") or None,
        commands=tuple(
            Command(tuple(c.get("keywords") or ()), str(c.get("action")), _reply(c.get("reply")))
            for c in data.get("global_commands") or ()
        ),
    )


# ------------------------------------------------------------------ validation


_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd,
)


def expression_names(expression: str) -> set[str]:
    """The names an arithmetic expression uses; ``ValueError`` when it is not plain arithmetic."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ValueError("not an arithmetic expression") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError("only numbers, names and + - * / // % ** ( ) are allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, int | float)):
            raise ValueError("only numbers, names and + - * / // % ** ( ) are allowed")
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a reply text; ``ValueError`` on a broken brace."""
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise ValueError("a '{' or '}' without its pair (write {name})") from None


def flow_problems(data: Mapping[str, Any]) -> list[str]:
    """Checks across a validated ``flows:`` mapping, as ``flows.<path>: <message>`` lines: every
    ``next`` names a step, calc and ``{name}`` use captured or calculated names only."""
    problems: list[str] = []
    steps: Mapping[str, Any] = data.get("steps") or {}
    handoff = data.get("handoff_step")
    known_steps = set(steps) | ({handoff} if handoff else set())
    if data.get("initial_step") not in steps:
        problems.append(f"flows.initial_step: {data.get('initial_step')!r} is not a step (steps: {', '.join(steps)})")
    names = {n for rules in steps.values() for r in rules for n in (r.get("capture") or ())}
    names |= {n for rules in steps.values() for r in rules for n in (r.get("calc") or {})}
    for name, rules in steps.items():
        for index, rule in enumerate(rules):
            path = f"flows.steps.{name}[{index}]"
            target = rule.get("next")
            if target is not None and target not in known_steps:
                problems.append(f"{path}.next: {target!r} is not a step")
            if rule.get("next_now") and target is None:
                problems.append(f"{path}.next_now: needs a next step")
            for key, expression in (rule.get("calc") or {}).items():
                try:
                    unknown = sorted(expression_names(expression) - names)
                except ValueError as exc:
                    problems.append(f"{path}.calc.{key}: {exc}")
                    continue
                if unknown:
                    problems.append(f"{path}.calc.{key}: unknown name {', '.join(map(repr, unknown))} "
                                    "(not captured or calculated)")
            problems += _reply_problems(rule.get("reply"), f"{path}.reply", names)
    for index, command in enumerate(data.get("global_commands") or ()):
        problems += _reply_problems(command.get("reply"), f"flows.global_commands[{index}].reply", names)
    return problems


def _reply_problems(reply: Mapping[str, Any] | None, path: str, names: set[str]) -> list[str]:
    if not reply or not reply.get("text"):
        return []
    try:
        unknown = sorted(placeholders(reply["text"]) - names)
    except ValueError as exc:
        return [f"{path}.text: {exc}"]
    return [f"{path}.text: unknown placeholder {{{n}}} (not captured or calculated)" for n in unknown]


# ------------------------------------------------------------------ running


@dataclass
class FlowTurn:
    """What one message did in the flow."""

    replies: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)  # the last reply's buttons
    rows: list[str] = field(default_factory=list)  # the last reply's list rows
    media: list[tuple[str, str]] = field(default_factory=list)  # (image|document, url)
    roles: list[str] = field(default_factory=list)
    handoff: bool = False  # the sales assistant answers this same message
    human: bool = False  # escalate to a person
    matched: bool = False  # a rule or command answered
    state: dict[str, Any] = field(default_factory=dict)  # the new flow state (JSON-able)

    @property
    def step(self) -> str | None:
        return self.state.get("step")


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _format(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"
    return str(value)


def calculate(expression: str, values: Mapping[str, str]) -> Decimal | None:
    """``expression`` over the captured values (as exact decimals); None when it cannot be computed
    (a name without a value, division by zero, a result too large)."""
    try:
        names = {k: _decimal(v) for k, v in values.items()}
        evaluator = SimpleEval(names=names, functions={})
        # numbers written in the expression are exact decimals too (6.5 * 4 is 26.00, not a float)
        evaluator.nodes[ast.Constant] = lambda node: Decimal(str(node.value))
        result = evaluator.eval(expression)
    except Exception:  # noqa: BLE001 - any failure of the customer's numbers: no result
        return None
    if isinstance(result, bool) or not isinstance(result, int | float | Decimal):
        return None
    try:
        number = Decimal(str(result)) if not isinstance(result, Decimal) else result
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e12") else None


def fill(text: str, values: Mapping[str, str]) -> str:
    """``{name}`` filled from the flow's values; a name without a value is left as it is."""

    class Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return string.Formatter().vformat(text, (), Keep(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def _timed_out(flow: Flow, state: Mapping[str, Any], now: datetime) -> bool:
    if not flow.session_timeout_minutes or not state.get("at"):
        return False
    try:
        last = datetime.fromisoformat(str(state["at"]))
    except ValueError:
        return False
    if last.tzinfo is None and now.tzinfo is not None:
        last = last.replace(tzinfo=now.tzinfo)
    return now - last > timedelta(minutes=flow.session_timeout_minutes)


def _say(turn: FlowTurn, reply: Reply | None, values: Mapping[str, str]) -> None:
    if reply is None:
        return
    if reply.text:
        turn.replies.append(fill(reply.text, values))
        turn.buttons, turn.rows = list(reply.buttons), list(reply.rows)
    if reply.image:
        turn.media.append(("image", reply.image))
    if reply.document:
        turn.media.append(("document", reply.document))


def _capture(rule: Rule, message: str) -> dict[str, str] | None:
    if not rule.capture:
        return {}
    numbers = _NUMBER.findall(message or "")
    if len(numbers) < len(rule.capture):
        return None
    return {name: numbers[i].replace(",", ".") for i, name in enumerate(rule.capture)}


def run(flow: Flow, message: str, state: Mapping[str, Any] | None, now: datetime) -> FlowTurn:
    """One customer message through the flow (see the module's docstring)."""
    state = dict(state or {})
    step = state.get("step") or flow.initial_step
    values: dict[str, str] = dict(state.get("values") or {})
    if step not in flow.steps and step != flow.handoff_step or _timed_out(flow, state, now):
        step, values = flow.initial_step, {}
    turn = FlowTurn()
    folded = fold(message)
    command = next((c for c in flow.commands if any(has_words(folded, k) for k in c.keywords)), None)
    if command is not None:
        turn.matched = True
        _say(turn, command.reply, values)
        if command.action == "human":
            turn.human = True
        else:  # restart: the first step answers this same message
            step, values = flow.initial_step, {}
            step = _run_steps(flow, turn, step, message, folded, values)
    elif step == flow.handoff_step:
        turn.handoff = True
    else:
        step = _run_steps(flow, turn, step, message, folded, values)
    turn.state = {"step": step, "values": values, "at": now.isoformat()}
    return turn


def _run_steps(flow: Flow, turn: FlowTurn, step: str, message: str, folded: str, values: dict[str, str]) -> str:
    for _ in range(MAX_CHAIN):
        if step == flow.handoff_step:
            turn.handoff = True
            return step
        rule, captured = None, None
        for candidate in flow.steps.get(step, ()):
            if candidate.matches(folded) and (captured := _capture(candidate, message)) is not None:
                rule = candidate
                break
        if rule is None:
            return step
        turn.matched = True
        values.update(captured or {})
        shown = dict(values)
        for name, expression in rule.calc:
            result = calculate(expression, values)
            if result is not None:
                values[name] = format(result.normalize(), "f")
                shown[name] = _format(result)
        if rule.role and rule.role not in turn.roles:
            turn.roles.append(rule.role)
        _say(turn, rule.reply, shown)
        if rule.action == "human":
            turn.human = True
        if rule.action == "restart":
            values.clear()
            step = flow.initial_step
            if not rule.next_now:
                return step
            continue
        if rule.next is not None:
            step = rule.next
        if not rule.next_now:
            if step == flow.handoff_step:
                turn.handoff = True  # reaching the hand-off step: the sales assistant answers
            return step
    return step


def matched_roles(message: str, roles: Iterable[Any]) -> list[str]:
    """The names of the roles whose keywords the message holds (whole words, no accents or case)."""
    folded = fold(message)
    return [r.name for r in roles if any(has_words(folded, k) for k in r.keywords)]
