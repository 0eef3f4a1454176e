"""Scripted conversations: the project's own (scenarios/*.yaml) and the shared public ones.

Each scenario runs through ``python -m chasqui simulate --json`` on a throwaway database and
every turn's ``expect:`` block is checked by ``tests/scenario_checker.py``. The fast tests at the
top keep the scenario files honest about their tenants (SKUs, stock, staff numbers), so an
expectation cannot drift away from the data it claims to follow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_checker import (  # noqa: E402
    KNOWN_KEYS,
    check_turn,
    load_scenario,
    run_scenario,
    scripted_turns,
    tenant_file_of,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWN_DIR = PROJECT_ROOT / "scenarios"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "scenarios"
OWN = sorted(OWN_DIR.glob("*.yaml"))
PUBLIC = sorted(SHARED_DIR.glob("[0-9]*.yaml")) if SHARED_DIR.is_dir() else []


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _tenant(path: Path) -> dict:
    tenant_file = tenant_file_of(path, load_scenario(path))
    assert tenant_file is not None and tenant_file.exists(), f"{path.name}: tenant file missing"
    return yaml.safe_load(tenant_file.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the files themselves (fast)
def test_there_are_enough_own_scenarios_for_both_tenants() -> None:
    slugs = [_tenant(p)["slug"] for p in OWN]
    assert len(OWN) >= 48
    assert len(set(slugs)) >= 2
    assert min(slugs.count(s) for s in set(slugs)) >= len(OWN) // 3


def test_every_own_scenario_has_its_own_customer() -> None:
    phones = [str(load_scenario(p)["customer"]["phone"]) for p in OWN]
    assert len(phones) == len(set(phones))


@pytest.mark.parametrize("path", OWN, ids=_ids(OWN))
def test_scenario_expectations_follow_the_tenant_data(path: Path) -> None:
    scenario = load_scenario(path)
    tenant = _tenant(path)
    stock = {p["sku"]: int(p["stock"]) for p in tenant["catalog"]}
    staff = {str(n) for n in tenant["notifications"]["numbers"]}
    assert scenario.get("name"), "a scenario needs a name"
    assert scripted_turns(scenario), "a scenario needs turns"
    for turn in scripted_turns(scenario):
        expect = turn.get("expect") or {}
        assert set(expect) <= KNOWN_KEYS, f"unknown keys {set(expect) - KNOWN_KEYS}"
        for key in ("cart", "cart_includes", "order_items"):
            for sku, qty in (expect.get(key) or {}).items():
                assert sku in stock, f"{key}: {sku} is not in the catalog"
                assert 0 < int(qty) <= stock[sku], f"{key}: {sku}={qty} but stock is {stock[sku]}"
        assert {str(n) for n in expect.get("notified", [])} <= staff, "notified: not a staff number"


# ------------------------------------------------------------------ the checker (fast)
GOOD_TURN = {
    "replies": ["¡Listo! Agregué 2 Torta de chocolate. Total: S/ 130.00."],
    "intent": "agregar_producto", "source": "ml", "state": "bot",
    "cart": {"TOR-CHOC": 2}, "cart_total": "130.00",
    "order": {"id": "1", "status": "pending_payment", "items": {"TOR-CHOC": 2}, "total": "130.00"},
    "notifications": [{"to": "51911222333", "text": "nueva venta"}],
}


def test_checker_accepts_a_turn_that_meets_its_expectations() -> None:
    expect = {
        "intent": "agregar_producto", "state": "bot", "replies_min": 1,
        "reply_all": ["torta de chocolate"], "reply_any": ["AGREGUÉ", "sumé"], "reply_none": ["agotado"],
        "reply_matches": [r"\b130[.,]00\b"], "cart": {"TOR-CHOC": 2}, "cart_total": "130",
        "order_status_in": ["pending_payment", "paid"], "order_total": "130.0",
        "order_items": {"TOR-CHOC": 2}, "notified": ["51911222333"],
    }
    assert check_turn(expect, GOOD_TURN) == []


@pytest.mark.parametrize(
    "expect",
    [
        {"intent": "ver_carrito"},
        {"state": "escalated"},
        {"silent": True},
        {"replies_min": 2},
        {"reply_any": ["pie de limón"]},
        {"reply_none": ["TOTAL"]},
        {"cart": {"TOR-CHOC": 3}},
        {"cart_empty": True},
        {"cart_total": "129.99"},
        {"no_order": True},
        {"order_status": "cancelled"},
        {"order_total": "135.00"},
        {"notified": ["51944555666"]},
        {"not_notified": True},
        {"cart_totl": "130.00"},
    ],
    ids=lambda e: next(iter(e)),
)
def test_checker_reports_a_turn_that_breaks_an_expectation(expect: dict) -> None:
    assert check_turn(expect, GOOD_TURN)


def test_checker_wants_an_order_when_order_keys_are_given() -> None:
    assert check_turn({"order_status_in": ["paid"]}, {**GOOD_TURN, "order": None})


# ------------------------------------------------------------------ the conversations (slow)
@pytest.mark.slow
@pytest.mark.parametrize("path", OWN, ids=_ids(OWN))
def test_own_scenario(path: Path) -> None:
    result = run_scenario(path, cwd=PROJECT_ROOT)
    if not result.ok:
        pytest.fail(f"{path.name}:\n{result.report()}", pytrace=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    PUBLIC or [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED_DIR} is not available"))],
    ids=_ids(PUBLIC) or ["no-public-scenarios"],
)
def test_public_scenario(path: Path) -> None:
    result = run_scenario(path, cwd=PROJECT_ROOT)
    if not result.ok:
        pytest.fail(f"{path.name}:\n{result.report()}", pytrace=False)
