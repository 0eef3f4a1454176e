"""Reading and validating tenant files: every problem reported as one '<path>: <message>' line."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from chasqui.tenants.io import load_tenant_file
from chasqui.tenants.schema import BundleRule, TenantFileError, parse_tenant_data, slugify


@pytest.fixture
def demo(demo_tenant_file: Path) -> dict[str, Any]:
    return yaml.safe_load(demo_tenant_file.read_text(encoding="utf-8"))


def _problems(data: Any) -> list[str]:
    with pytest.raises(TenantFileError) as info:
        parse_tenant_data(data)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_the_demo_file_loads_with_exact_values(demo_tenant_file: Path) -> None:
    tenant = load_tenant_file(demo_tenant_file)
    assert tenant.slug == "dulce-lima"
    assert [p.sku for p in tenant.catalog][:3] == ["TOR-CHOC", "TOR-TRES", "TOR-SELVA"]
    assert tenant.catalog[7].price == Decimal("7.50")
    assert tenant.business.delivery.free_over == Decimal("150.00")
    assert tenant.business.delivery.zones[0].fee == Decimal("5.00")
    assert tenant.bot.confidence_threshold == Decimal("0.80")
    assert isinstance(tenant.promotions[1].rule, BundleRule)
    assert tenant.whatsapp is not None and tenant.whatsapp.phone_number_id == "109876543210"


def test_slug_is_derived_from_the_business_name(demo: dict[str, Any]) -> None:
    del demo["slug"]
    assert parse_tenant_data(demo).slug == "pasteleria-dulce-lima"
    assert slugify("  Ferretería  El Tornillo!! ") == "ferreteria-el-tornillo"


def test_a_bad_price_names_its_path(demo: dict[str, Any]) -> None:
    demo["catalog"][3]["price"] = "abc"
    assert _problems(demo) == ["catalog[3].price: not a decimal"]


def test_every_problem_is_listed_one_per_line(demo: dict[str, Any]) -> None:
    del demo["business"]["name"]
    del demo["catalog"][0]["price"]
    demo["catalog"][1]["stock"] = "muchos"
    demo["catalog"][2]["price"] = "12.345"
    demo["business"]["adress"] = "typo"
    demo["business"]["timezone"] = "Lima/Peru"
    demo["business"]["hours"]["lun"] = "09:00-20:00"
    demo["promotions"][0]["rule"] = {"type": "3x2"}
    demo["bot"]["intervention"]["timeout_seconds"] = 5
    demo["notifications"]["numbers"] = ["51911222333", "llámame"]
    assert _problems(demo) == [
        "business.name: required",
        "business.timezone: unknown time zone 'Lima/Peru'",
        "business.hours.lun: unknown day (use mon, tue, wed, thu, fri, sat, sun)",
        "business.adress: unknown field",
        "bot.intervention.timeout_seconds: must be at least 30",
        "catalog[0].price: required",
        "catalog[1].stock: must be a whole number",
        "catalog[2].price: at most 2 decimal places",
        "promotions[0].rule: unknown rule type '3x2' (one of: buy_x_get_y, bundle, percent)",
        "notifications.numbers[1]: not a phone number (E.164 digits, e.g. 51987654321)",
    ]


def test_cross_references_are_checked(demo: dict[str, Any]) -> None:
    demo["catalog"][5]["sku"] = "TOR-CHOC"
    demo["promotions"][0]["sku"] = "NO-EXISTE"
    demo["promotions"][1]["rule"]["skus"] = ["CAF-AME", "TE-VERDE"]
    demo["promotions"][1]["valid_from"] = "2028-01-01"
    demo["business"]["delivery"]["zones"].append({"name": "Surco", "fee": "1"})
    assert _problems(demo) == [
        "catalog[5].sku: duplicate 'TOR-CHOC' (also catalog[0])",
        "business.delivery.zones[4].name: duplicate 'Surco' (also business.delivery.zones[3])",
        "promotions[0].sku: 'NO-EXISTE' is not in the catalog",
        "promotions[1].rule.skus[1]: 'TE-VERDE' is not in the catalog",
        "promotions[1].valid_to: is before valid_from",
    ]


def test_wrong_shapes(demo: dict[str, Any]) -> None:
    assert _problems(["business"]) == [
        "(file): expected a mapping of sections (business, catalog, ...), got a list"
    ]
    assert _problems(None)[0].endswith("got empty")
    broken = copy.deepcopy(demo)
    broken["catalog"] = {"sku": "X"}
    broken["business"]["payment_methods"][0] = "yape"
    assert _problems(broken) == [
        "business.payment_methods[0]: must be a mapping (key: value)",
        "catalog: must be a list",
    ]


def test_yaml_quirks_are_accepted(demo: dict[str, Any]) -> None:
    # unquoted numbers where text is expected (phones, ids) and numeric prices
    demo["notifications"]["numbers"] = [51911222333]
    demo["whatsapp"]["phone_number_id"] = 109876543210
    demo["catalog"][0]["price"] = 65
    demo["catalog"][1]["price"] = 7.5
    tenant = parse_tenant_data(demo)
    assert tenant.notifications.numbers == ["51911222333"]
    assert tenant.whatsapp is not None and tenant.whatsapp.phone_number_id == "109876543210"
    assert (tenant.catalog[0].price, tenant.catalog[1].price) == (Decimal("65"), Decimal("7.5"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TenantFileError, match=r"nope\.yaml: file not found$"):
        load_tenant_file(tmp_path / "nope.yaml")


def test_broken_yaml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text('business:\n  name: "Bodega\ncatalog:\n  - sku: [\n', encoding="utf-8")
    with pytest.raises(TenantFileError) as info:
        load_tenant_file(path)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{path}: line ")
    assert "invalid YAML" in info.value.problems[0]

    path.write_text("business:\n  name: A\nbusiness:\n  name: B\n", encoding="utf-8")
    with pytest.raises(TenantFileError, match=r"line 3, column 1: invalid YAML .*duplicate key 'business'"):
        load_tenant_file(path)


def test_json_files_are_accepted(tmp_path: Path, demo: dict[str, Any]) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(demo, default=str), encoding="utf-8")
    assert load_tenant_file(path).slug == "dulce-lima"
    path.write_text('{"business": {"name": "x",}}', encoding="utf-8")
    with pytest.raises(TenantFileError, match=r"t\.json: line 1, column 27: invalid JSON"):
        load_tenant_file(path)
