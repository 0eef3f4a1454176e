"""The step machine of CONTRACT §8 (pure: message + flow + state + clock) and roles by keyword."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from chasqui.dialogue.flows import calculate, matched_roles, parse_flow, run
from chasqui.domain import Role
from chasqui.tenants.schema import TenantFileError, parse_tenant_data

LAVANDERIA = Path(__file__).resolve().parents[3] / "shared" / "scenarios" / "v2" / "lavanderia.yaml"
NOW = datetime(2026, 12, 8, 11, 30, tzinfo=UTC)

FLOW = {
    "initial_step": "inicio",
    "session_timeout_minutes": 30,
    "handoff_step": "ventas",
    "global_commands": [
        {"keywords": ["menu", "reiniciar"], "action": "restart"},
        {"keywords": ["asesor"], "action": "human"},
    ],
    "steps": {
        "inicio": [{"input": "*", "reply": {"text": "Hola", "buttons": ["Precios", "Pedido", "Medidas"]},
                    "next": "menu"}],
        "menu": [
            {"input": ["precios", "ver precios"], "reply": {"text": "Lista", "image": "https://x/l.jpg"},
             "next": "menu"},
            {"input": "pedido", "next": "ventas"},
            {"input": "mayorista", "role": "Mayoristas", "reply": {"text": "Tarifa especial"}},
            {"input": "medidas", "reply": {"text": "Largo y ancho"}, "next": "cotizar"},
            {"input": "saltar", "next": "cotizar", "next_now": True},
            {"input": "*", "reply": {"text": "Elige", "buttons": ["Precios"]}, "next": "menu"},
        ],
        "cotizar": [
            {"input": "*", "capture": ["largo", "ancho"], "calc": {"total": "largo * ancho * 180"},
             "reply": {"text": "{largo} x {ancho} m: S/ {total}"}, "next": "menu"},
            {"input": "*", "reply": {"text": "Dime dos medidas, p. ej. 2 x 0.6"}},
        ],
    },
}


def flow():
    parsed = parse_flow(FLOW)
    assert parsed is not None
    return parsed


def test_first_message_runs_the_initial_step_and_offers_buttons():
    turn = run(flow(), "buenas", None, NOW)
    assert turn.replies == ["Hola"] and turn.buttons == ["Precios", "Pedido", "Medidas"]
    assert turn.step == "menu" and turn.matched and not turn.handoff


def test_inputs_are_whole_words_without_accents_or_case_and_first_match_wins():
    state = run(flow(), "hola", None, NOW).state
    assert run(flow(), "VER PRÉCIOS por favor", state, NOW).replies == ["Lista"]
    assert run(flow(), "preciosos", state, NOW).replies == ["Elige"]  # not a whole word: the wildcard
    image = run(flow(), "precios", state, NOW)
    assert image.media == [("image", "https://x/l.jpg")]


def test_capture_calc_and_placeholders_with_money_format():
    state = run(flow(), "medidas", run(flow(), "hola", None, NOW).state, NOW).state
    assert state["step"] == "cotizar"
    quote = run(flow(), "mide 2,5 por 0.6", state, NOW)
    assert quote.replies == ["2.5 x 0.6 m: S/ 270.00"] and quote.step == "menu"
    missing = run(flow(), "no sé", state, NOW)  # no numbers: the capture rule does not match
    assert missing.replies == ["Dime dos medidas, p. ej. 2 x 0.6"] and missing.step == "cotizar"


def test_next_now_runs_the_next_step_with_the_same_message():
    state = run(flow(), "hola", None, NOW).state
    turn = run(flow(), "saltar 3 y 2", state, NOW)
    assert turn.replies == ["3 x 2 m: S/ 1080.00"] and turn.step == "menu"


def test_global_commands_come_first():
    state = run(flow(), "medidas", run(flow(), "hola", None, NOW).state, NOW).state
    restart = run(flow(), "Menú", state, NOW)
    assert restart.replies == ["Hola"] and restart.step == "menu"
    human = run(flow(), "quiero un asesor", state, NOW)
    assert human.human and human.step == "cotizar"


def test_session_timeout_goes_back_to_the_initial_step():
    state = run(flow(), "medidas", run(flow(), "hola", None, NOW).state, NOW).state
    later = run(flow(), "hola otra vez", state, NOW + timedelta(minutes=31))
    assert later.replies == ["Hola"] and later.step == "menu"
    soon = run(flow(), "hola otra vez", state, NOW + timedelta(minutes=29))
    assert soon.step == "cotizar"


def test_handoff_step_hands_the_message_to_the_sales_assistant():
    state = run(flow(), "hola", None, NOW).state
    turn = run(flow(), "hacer un pedido", state, NOW)
    assert turn.handoff and turn.step == "ventas" and turn.replies == []
    after = run(flow(), "2 tortas", turn.state, NOW)
    assert after.handoff and after.step == "ventas"
    assert run(flow(), "menu", turn.state, NOW).step == "menu"  # a command brings it back


def test_rule_role_is_reported():
    state = run(flow(), "hola", None, NOW).state
    assert run(flow(), "soy mayorista", state, NOW).roles == ["Mayoristas"]


def test_calc_is_safe_arithmetic_only():
    assert calculate("a * 2", {"a": "1.5"}) == 3
    assert calculate("__import__('os').system('true')", {}) is None
    assert calculate("a / 0", {"a": "1"}) is None
    assert calculate("9 ** 999999", {}) is None
    assert calculate("b + 1", {}) is None


def test_roles_match_whole_words_without_accents_or_case():
    roles = [Role("Mayoristas", ("por mayor", "distribuidor")), Role("Empresas", ("hotel",))]
    assert matched_roles("Vendo POR MAYOR en el HÓTEL", roles) == ["Mayoristas", "Empresas"]
    assert matched_roles("distribuidora", roles) == []


def _tenant(**extra):
    data = yaml.safe_load(LAVANDERIA.read_text(encoding="utf-8"))
    data.update(extra)
    return data


def _problems(data) -> list[str]:
    with pytest.raises(TenantFileError) as info:
        parse_tenant_data(data)
    return info.value.problems


def test_the_public_flow_tenant_is_valid():
    tenant = parse_tenant_data(_tenant())
    assert tenant.flows is not None and tenant.roles[0].name == "Empresas"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f["steps"]["kilos"][0].update(next="nowhere"), "flows.steps.kilos[0].next: 'nowhere' is not a step"),
        (lambda f: f["steps"]["kilos"][0]["calc"].update(total="kilos * precio"),
         "flows.steps.kilos[0].calc.total: unknown name 'precio'"),
        (lambda f: f["steps"]["kilos"][0]["calc"].update(total="__import__('os')"),
         "flows.steps.kilos[0].calc.total: only numbers"),
        (lambda f: f["steps"]["kilos"][0].pop("input"), "flows.steps.kilos[0].input: required"),
        (lambda f: f["steps"]["inicio"][0]["reply"].update(buttons=["a", "b", "c", "d"]),
         "flows.steps.inicio[0].reply.buttons"),
        (lambda f: f["steps"]["kilos"][0]["reply"].update(text="{kilo} kg"),
         "flows.steps.kilos[0].reply.text: unknown placeholder {kilo}"),
        (lambda f: f.update(initial_step="start"), "flows.initial_step: 'start' is not a step"),
        (lambda f: f["steps"]["menu"][0].update(action="dance"), "flows.steps.menu[0].action"),
    ],
)
def test_flow_errors_name_the_field(change, expected):
    data = _tenant()
    change(data["flows"])
    problems = _problems(data)
    assert any(p.startswith(expected) for p in problems), problems


def test_role_errors_name_the_field():
    assert any(p.startswith("roles[0].keywords") for p in _problems(_tenant(roles=[{"name": "X", "keywords": []}])))
    assert any(p.startswith("roles[0].name") for p in _problems(_tenant(roles=[{"name": "a/b", "keywords": ["x"]}])))
    dup = _tenant(roles=[{"name": "VIP", "keywords": ["a"]}, {"name": "vip", "keywords": ["b"]}])
    assert any(p.startswith("roles[1].name: duplicate") for p in _problems(dup))
