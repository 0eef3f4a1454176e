"""A shop that takes no orders while closed (``business.orders_when_closed: false``): the cart is kept,
the customer is told when the shop opens, and no order reaches the staff until then."""

from __future__ import annotations

from pathlib import Path

import yaml

from chasqui.simulation import run_script

HUELLITA = Path(__file__).resolve().parents[2] / "tenants" / "huellita.yaml"
BETWEEN_SHIFTS = "2026-12-08T13:30:00-05:00"  # Tuesday, between the shop's two shifts
CHECKOUT = ["hola quiero 2 arenas para gato", "recojo en tienda", "pago con yape", "si, confirmo"]


def _run(tmp_path: Path, takes_orders: bool | None, start: str = BETWEEN_SHIFTS) -> list[dict]:
    data = yaml.safe_load(HUELLITA.read_text(encoding="utf-8"))
    if takes_orders is not None:
        data["business"]["orders_when_closed"] = takes_orders
    tenant = tmp_path / "tenant.yaml"
    tenant.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return list(run_script(tenant, {"start": start, "turns": [{"user": text} for text in CHECKOUT]}))


def test_a_shop_that_takes_no_orders_while_closed_keeps_the_cart_and_places_nothing(tmp_path: Path) -> None:
    lines = _run(tmp_path, takes_orders=False)
    assert lines[0]["cart"] == {"ARE-GAT": 2}
    assert "no tomamos pedidos" in " ".join(lines[0]["replies"]) and "15:00" in " ".join(lines[0]["replies"])
    assert all(line["order"] is None for line in lines)
    assert all(not line["notifications"] for line in lines)
    assert lines[-1]["cart"] == {"ARE-GAT": 2}
    assert "15:00" in " ".join(lines[-1]["replies"])


def test_by_default_an_order_outside_hours_is_taken_for_opening_time(tmp_path: Path) -> None:
    lines = _run(tmp_path, takes_orders=None)
    assert "se prepara" in " ".join(lines[0]["replies"])
    assert lines[-1]["order"] is not None and lines[-1]["order"]["items"] == {"ARE-GAT": 2}


def test_inside_opening_hours_the_setting_changes_nothing(tmp_path: Path) -> None:
    lines = _run(tmp_path, takes_orders=False, start="2026-12-08T10:30:00-05:00")
    assert lines[-1]["order"] is not None and lines[-1]["order"]["total"] == "36.00"
