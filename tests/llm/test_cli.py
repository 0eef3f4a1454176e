"""The command line with an LLM: ``chasqui simulate`` uses the teacher; humans review its labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.llm_server import FakeLLM
from sqlalchemy import select
from typer.testing import CliRunner

from chasqui.cli import app
from chasqui.config import get_settings
from chasqui.db.models import TrainingSample
from chasqui.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def test_simulate_uses_the_teacher_for_an_unsure_turn_and_its_tool_call_fills_the_cart(
    llm: FakeLLM, tmp_path: Path
) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        'customer: {phone: "51987000009", name: "Rosa"}\n'
        "turns:\n"
        '  - user: "hola"\n'
        '  - user: "encargame la tres leches"\n',
        encoding="utf-8",
    )
    llm.reply("agregar_producto", "¡Con gusto, Rosa! 🎂", calls=[("add_to_cart", {"sku": "TOR-TRES", "quantity": 2})])
    env = {**os.environ, "CHASQUI_LLM_BASE_URL": llm.base_url, "CHASQUI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "chasqui", "simulate", "--tenant", str(ROOT / "tenants" / "dulce-lima.yaml"),
         "--script", str(script), "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["source"] == "ml" and first["intent"] == "saludo"
    assert second["source"] == "llm" and second["intent"] == "agregar_producto"
    assert second["cart"] == {"TOR-TRES": 2} and second["cart_total"] == "120.00"  # S/ 60.00 each, from the DB
    assert second["replies"][0].startswith("¡Con gusto, Rosa! 🎂")
    assert len(llm.requests) == 1


@pytest.fixture
def cli_db(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("CHASQUI_DATABASE_URL", runtime.settings.database_url)
    get_settings.cache_clear()
    return runtime


def test_humans_review_confirm_and_correct_the_teachers_labels(llm: FakeLLM, chat, cli_db: Runtime) -> None:
    llm.reply("consultar_catalogo", "¡Te cuento! 😊")
    chat("taba viendo sus tortas en insta")
    llm.reply("consultar_promociones", "Tenemos promos 🎉")
    chat("vi su publicacion en facebook, que tienen", phone="51900000002")
    runner = CliRunner()

    listed = runner.invoke(app, ["nlu", "review", "--json", "--limit", "5"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    llm_rows = {r["text"]: r for r in rows if r["source"] == "llm"}
    assert set(llm_rows) == {"taba viendo sus tortas en insta", "vi su publicacion en facebook, que tienen"}
    first = llm_rows["taba viendo sus tortas en insta"]
    assert first["intent"] == "consultar_catalogo" and first["ml_intent"] not in (None, "consultar_catalogo")
    assert first["tenant"] == "dulce-lima" and first["confirmed"] is False

    wrong = llm_rows["vi su publicacion en facebook, que tienen"]
    assert runner.invoke(app, ["nlu", "confirm", str(first["id"])]).exit_code == 0
    corrected = runner.invoke(app, ["nlu", "confirm", str(wrong["id"]), "--intent", "consultar_catalogo"])
    assert corrected.exit_code == 0, corrected.output
    with cli_db.session() as session:
        stored = {s.id: s for s in session.scalars(select(TrainingSample).where(TrainingSample.source != "seed"))}
    assert (stored[first["id"]].confirmed, stored[first["id"]].intent, stored[first["id"]].source) == (
        True, "consultar_catalogo", "llm")
    assert (stored[wrong["id"]].confirmed, stored[wrong["id"]].intent, stored[wrong["id"]].source) == (
        True, "consultar_catalogo", "human")
    remaining = runner.invoke(app, ["nlu", "review", "--json"]).output
    assert str(first["id"]) not in [str(json.loads(line)["id"]) for line in remaining.splitlines()]

    unknown = runner.invoke(app, ["nlu", "confirm", "999999"])
    assert unknown.exit_code == 1 and "no training sample with id 999999" in unknown.output
    bad = runner.invoke(app, ["nlu", "confirm", str(first["id"]), "--intent", "comprar"])
    assert bad.exit_code == 1 and "unknown intent 'comprar'" in bad.output
