"""The demo tenant's engine (seed model) and a fresh customer state, for the dialogue tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chasqui.dialogue.engine import Brain, Engine
from chasqui.dialogue.state import ConversationState
from chasqui.nlu.registry import seed_model
from chasqui.tenants.io import import_tenant
from chasqui.tenants.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in Lima


@pytest.fixture(scope="module")
def model():
    return seed_model()[0]


@pytest.fixture
def engine(session, model) -> Engine:
    tenant = import_tenant(session, ROOT / "tenants" / "dulce-lima.yaml")
    snapshot = load_snapshot(session, tenant.id)
    return Engine(snapshot, Brain.for_tenant(snapshot, model))


def fresh() -> ConversationState:
    return ConversationState(customer_phone="51900000001", customer_name="Lucía")
