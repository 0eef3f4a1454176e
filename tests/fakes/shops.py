"""Dialogue-test shops: an engine built from a tenant file (or its data) on a throwaway SQLite
database, and a conversation played through it message by message."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from chasqui.db.session import make_engine, upgrade
from chasqui.dialogue.engine import Brain, Engine
from chasqui.dialogue.pricing import merge_lines
from chasqui.dialogue.state import ConversationState, Decision
from chasqui.tenants.io import import_tenant
from chasqui.tenants.snapshot import load_snapshot


def engine_for_file(path: Path, model: Any) -> Engine:
    """The engine of the tenant file at ``path``, imported into a fresh database."""
    db = make_engine("sqlite://")
    upgrade(db)
    with Session(db) as session:
        snapshot = load_snapshot(session, import_tenant(session, path).id)
    return Engine(snapshot, Brain.for_tenant(snapshot, model))


def engine_for_data(data: dict, directory: Path, model: Any) -> Engine:
    """The engine of a tenant given as data (written as YAML into ``directory`` first)."""
    path = directory / "shop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return engine_for_file(path, model)


def talk(engine: Engine, *messages: str, now: datetime, phone: str) -> Decision | None:
    """The decision on the last message, each message 40 s after the one before."""
    state = ConversationState(customer_phone=phone)
    decision = None
    for text in messages:
        decision = engine.handle_customer(text, state, now)
        state.cart, state.memory = dict(decision.cart), decision.memory
        state.cart_lines = decision.cart_lines if decision.cart_lines is not None else merge_lines(
            decision.cart, state.cart_lines)
        now += timedelta(seconds=40)
    return decision
