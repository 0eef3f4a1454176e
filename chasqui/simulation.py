"""``chasqui simulate``: a scripted conversation through the real pipeline, simulated clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from chasqui.runtime import throwaway_runtime

TURN_KINDS = ("user", "operator", "advance", "tap")  # a tap arrives as the option's visible title


class ScriptError(ValueError):
    """A script file that cannot be run."""


def load_script(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ScriptError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ScriptError(f"{path}: a script needs a `turns:` list")
    customer = data.get("customer") or {}
    if not isinstance(customer, dict):
        raise ScriptError(f"{path}: customer: must be a mapping with phone and name")
    for i, turn in enumerate(data["turns"], 1):
        if not isinstance(turn, dict):
            raise ScriptError(f"{path}: turns[{i}]: must be a mapping")
        if "advance" in turn:
            try:
                float(turn["advance"])
            except (TypeError, ValueError):
                raise ScriptError(f"{path}: turns[{i}].advance: not a number of seconds") from None
    return data


def _start_time(script: dict[str, Any], timezone: str) -> datetime:
    """The simulated clock's start: a time without an offset is the shop's local time (CONTRACT §4)."""
    start = script.get("start")
    if start is None:
        return datetime.now(UTC)
    value = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(timezone))


def run_script(tenant_file: Path, script: dict[str, Any],
               progress: Callable[[str], None] | None = None) -> Iterator[dict[str, Any]]:
    customer = script.get("customer") or {}
    phone = str(customer.get("phone") or "51900000000")
    name = customer.get("name")
    with throwaway_runtime(tenant_file, progress) as (runtime, slug):
        with runtime.session() as session:
            now = _start_time(script, runtime.snapshot(session, slug).business.timezone)
        runtime.model(progress)
        number = 0
        for turn in script["turns"]:
            kind = next((k for k in TURN_KINDS if k in turn), None)
            if kind is None:
                continue
            number += 1
            if kind == "advance":
                now += timedelta(seconds=float(turn["advance"]))
                yield _advance_line(runtime, slug, phone, now, number, turn["advance"])
                continue
            now += timedelta(seconds=1)
            text = str(turn[kind])
            with runtime.session() as session:
                service = runtime.service(session, slug)
                if kind in ("user", "tap"):
                    result = service.customer_message(session, phone, text, now, name=name,
                                                      kind="interactive" if kind == "tap" else "text")
                else:
                    result = service.operator_message(session, phone, text, now)
            d = result.decision
            yield {
                "turn": number, "kind": kind, "text": text, "replies": list(d.replies),
                "intent": d.intent if kind != "operator" else None,
                "confidence": d.confidence if kind != "operator" else None,
                "source": d.source, "cart": result.cart, "cart_total": result.cart_total,
                "order": result.order, "state": result.state, "notifications": result.notifications,
                **_extras(result),
            }


def _extras(result: Any) -> dict[str, Any]:
    """CONTRACT §4's fields besides the first ones: choices, media, labels and (flow tenants) step."""
    d = result.decision
    extras: dict[str, Any] = {
        "choices": [o.title for o in d.choices.options] if d.choices else [],
        "media": [{"type": "image", "caption": p.caption} for p in d.photos],
        "labels": list(result.labels),
        "commands": [c.as_json() for c in d.commands],
    }
    if result.step is not None:
        extras["step"] = result.step
    return extras


def _advance_line(runtime: Any, slug: str, phone: str, now: datetime, number: int, seconds: Any) -> dict:
    with runtime.session() as session:
        service = runtime.service(session, slug)
        conversation = service.conversation_for(session, phone, None, now)
        outcome = service.outcome(session, conversation, _silent(), now)
    return {
        "turn": number, "kind": "advance", "text": str(seconds), "replies": [], "intent": None,
        "confidence": None, "source": "none", "cart": outcome.cart, "cart_total": outcome.cart_total,
        "order": outcome.order, "state": outcome.state, "notifications": [], **_extras(outcome),
    }


def _silent():  # noqa: ANN202
    from chasqui.dialogue.state import Decision

    return Decision()
