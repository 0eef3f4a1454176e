"""The scripted clock: a `start:` without an offset is the shop's local time (CONTRACT §4)."""

from __future__ import annotations

from pathlib import Path

from chasqui.simulation import run_script

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BAKERY = PROJECT_ROOT / "tenants" / "dulce-lima.yaml"  # America/Lima, opens 09:00 on weekdays


def _replies(start: str) -> str:
    script = {"name": "clock", "start": start, "customer": {"phone": "51900000777"},
              "turns": [{"user": "hola, están abiertos ahora?"}]}
    return " ".join(next(iter(run_script(BAKERY, script)))["replies"]).lower()


def test_a_start_without_offset_is_read_in_the_shops_time_zone() -> None:
    # 11:00 in Lima is inside the bakery's hours; read as UTC it would be 06:00 (closed).
    assert "cerrad" not in _replies("2026-12-08T11:00:00")


def test_a_start_with_an_offset_keeps_it() -> None:
    # 11:00 UTC is 06:00 in Lima: before the bakery opens.
    assert "cerrad" in _replies("2026-12-08T11:00:00+00:00")
