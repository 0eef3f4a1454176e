"""Scripted conversations: the project's own (scenarios/*.yaml) and the shared public ones.

Every scenario runs in-process through ``chasqui.simulation.run_script`` (the generator behind
``chasqui simulate``) on a throwaway database, and every turn's ``expect:`` block is checked by
``tests/scenario_checker.py``. Two scenarios, one own and one public, also go through the real
``python -m chasqui simulate --json`` command, which keeps the CLI's JSON contract (CONTRACT
section 4) covered. The fast tests at the top keep the scenario files honest about their tenants
(SKUs, stock, staff numbers), so an expectation cannot drift away from the data it claims to follow.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_checker import (  # noqa: E402
    KNOWN_KEYS,
    check_lines,
    check_turn,
    contract_problems,
    load_scenario,
    run_scenario_in_process,
    scripted_turns,
    simulate,
    simulate_in_process,
    tenant_file_of,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWN_DIR = PROJECT_ROOT / "scenarios"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "scenarios"
OWN = sorted(OWN_DIR.glob("*.yaml"))
PUBLIC = sorted(SHARED_DIR.glob("[0-9]*.yaml")) if SHARED_DIR.is_dir() else []
NO_PUBLIC = pytest.mark.skip(reason=f"{SHARED_DIR} is not available")
# The two scenarios that also run through the real CLI: an own one with a fixed clock (`start:`),
# so its output can be compared with the in-process run, and a public one as the public checker
# runs it. Both reach an order and notify the staff, so every field of a JSON line is exercised.
CLI_OWN = OWN_DIR / "20_dulce_pago_transferencia.yaml"
CLI_PUBLIC = SHARED_DIR / "02_compra_yape.yaml"


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _tenant(path: Path) -> dict:
    tenant_file = tenant_file_of(path, load_scenario(path))
    assert tenant_file is not None and tenant_file.exists(), f"{path.name}: tenant file missing"
    return yaml.safe_load(tenant_file.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the files themselves (fast)
def test_there_are_enough_own_scenarios_for_each_tenant() -> None:
    slugs = [_tenant(p)["slug"] for p in OWN]
    assert len(OWN) >= 48
    assert len(set(slugs)) >= 5  # bakery, hardware store, phone-accessories shop, pollería, florist
    assert min(slugs.count(s) for s in set(slugs)) >= 12


def test_every_own_scenario_has_its_own_customer() -> None:
    phones = [str(load_scenario(p)["customer"]["phone"]) for p in OWN]
    assert len(phones) == len(set(phones))


@pytest.mark.parametrize("path", OWN, ids=_ids(OWN))
def test_scenario_expectations_follow_the_tenant_data(path: Path) -> None:
    scenario = load_scenario(path)
    tenant = _tenant(path)
    stock: dict[str, Decimal] = {}  # a product's, or each of its variants' (catalog v2); quantities may be decimal
    for product in tenant["catalog"]:
        for sellable in product.get("variants") or [product]:
            stock[sellable["sku"]] = Decimal(str(sellable.get("stock", 0)))
    staff = {str(n) for n in tenant["notifications"]["numbers"]}
    assert scenario.get("name"), "a scenario needs a name"
    assert scripted_turns(scenario), "a scenario needs turns"
    for turn in scripted_turns(scenario):
        expect = turn.get("expect") or {}
        assert set(expect) <= KNOWN_KEYS, f"unknown keys {set(expect) - KNOWN_KEYS}"
        for key in ("cart", "cart_includes", "order_items"):
            for sku, qty in (expect.get(key) or {}).items():
                assert sku in stock, f"{key}: {sku} is not in the catalog"
                assert 0 < Decimal(str(qty)) <= stock[sku], f"{key}: {sku}={qty} but stock is {stock[sku]}"
        assert {str(n) for n in expect.get("notified", [])} <= staff, "notified: not a staff number"


# ------------------------------------------------------------------ the checker (fast)
GOOD_TURN = {
    "replies": ["¡Listo! Agregué 2 Torta de chocolate. Total: S/ 130.00."],
    "intent": "agregar_producto", "source": "ml", "state": "bot",
    "cart": {"TOR-CHOC": 2}, "cart_total": "130.00",
    "order": {"id": "1", "status": "pending_payment", "items": {"TOR-CHOC": 2}, "total": "130.00",
              "delivery": "pickup", "address": None, "payment_method": "yape", "notes": None, "change_for": None},
    "notifications": [{"to": "51911222333", "text": "nueva venta"}],
}
GOOD_LINE = {"turn": 1, "kind": "user", "text": "quiero 2 tortas", "confidence": 0.93, **GOOD_TURN}


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


def test_contract_accepts_a_line_shaped_like_the_contract() -> None:
    assert contract_problems(GOOD_LINE, 1) == []
    assert contract_problems({**GOOD_LINE, "order": None, "intent": None, "confidence": None}, 1) == []


@pytest.mark.parametrize(
    "change",
    [
        {"turn": 2},
        {"kind": "customer"},
        {"replies": "hola"},
        {"source": "regex"},
        {"state": "open"},
        {"cart": {"TOR-CHOC": 2.5}},  # a float: quantities are ints or decimal strings
        {"cart_total": 130},
        {"cart_total": "130"},
        {"order": {"id": 1, "status": "paid", "items": {}, "total": "130.00"}},
        {"order": {"id": "1", "status": "shipped", "items": {}, "total": "130.00"}},
        {"order": {"id": "1", "status": "paid", "items": {}, "total": "130.0"}},
        {"notifications": [{"to": "51911222333"}]},
        {"extra": True},
    ],
    ids=lambda c: next(iter(c)),
)
def test_contract_reports_a_line_of_the_wrong_shape(change: dict) -> None:
    assert contract_problems({**GOOD_LINE, **change}, 1)


def test_contract_reports_a_missing_key() -> None:
    line = dict(GOOD_LINE)
    del line["confidence"]
    assert contract_problems(line, 1)


# ------------------------------------------------------------------ the conversations (in-process)
@pytest.mark.parametrize("path", OWN, ids=_ids(OWN))
def test_own_scenario(path: Path) -> None:
    result = run_scenario_in_process(path)
    if not result.ok:
        pytest.fail(f"{path.name}:\n{result.report()}", pytrace=False)


@pytest.mark.parametrize(
    "path",
    PUBLIC or [pytest.param(None, marks=NO_PUBLIC)],
    ids=_ids(PUBLIC) or ["no-public-scenarios"],
)
def test_public_scenario(path: Path) -> None:
    result = run_scenario_in_process(path)
    if not result.ok:
        pytest.fail(f"{path.name}:\n{result.report()}", pytrace=False)


# ------------------------------------------------------------------ the real CLI (two subprocesses)
def _cli_json_lines(path: Path) -> list[dict]:
    """``simulate --json`` output: it must exit 0 and print nothing on stdout but JSON objects."""
    proc = simulate(tenant_file_of(path, load_scenario(path)), path, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, f"simulate exited {proc.returncode}: {proc.stderr.strip()[-800:]}"
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == len(scripted_turns(load_scenario(path))), "one JSON line per turn"
    problems = [f"line {n}: {p}" for n, line in enumerate(lines, 1) for p in contract_problems(line, n)]
    assert not problems, "\n".join(problems)
    return lines


@pytest.mark.slow
def test_cli_simulate_json_prints_what_the_simulation_yields() -> None:
    assert load_scenario(CLI_OWN).get("start"), "the clock must be fixed to compare two runs"
    lines = _cli_json_lines(CLI_OWN)
    assert lines == simulate_in_process(tenant_file_of(CLI_OWN, load_scenario(CLI_OWN)), CLI_OWN)
    assert any(line["order"] for line in lines) and any(line["notifications"] for line in lines)


@pytest.mark.slow
@pytest.mark.skipif(not CLI_PUBLIC.exists(), reason=f"{CLI_PUBLIC} is not available")
def test_cli_simulate_json_passes_a_public_scenario() -> None:
    result = check_lines(load_scenario(CLI_PUBLIC), _cli_json_lines(CLI_PUBLIC))
    if not result.ok:
        pytest.fail(f"{CLI_PUBLIC.name}:\n{result.report()}", pytrace=False)
