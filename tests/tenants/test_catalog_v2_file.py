"""Catalog version 2 in the tenant file (CONTRACT §8): what is accepted, what is refused (with the
field's path, nothing written), and that import → export → import keeps every new key."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chasqui.db import models as m
from chasqui.db.session import session_scope
from chasqui.tenants.io import dump_tenant_yaml, export_tenant, import_tenant, load_tenant_file
from chasqui.tenants.schema import TenantFileError, parse_tenant_data

PROJECT_ROOT = Path(__file__).resolve().parents[2]
JUGUERIA = PROJECT_ROOT.parent / "shared" / "scenarios" / "v2" / "jugueria.yaml"
VERSION_1 = [
    # the repo's tenants written before version 2 (the later ones use its keys on purpose)
    *(PROJECT_ROOT / "tenants" / name for name in (
        "dulce-lima.yaml", "ferreteria.yaml", "celulares.yaml", "polleria.yaml", "floreria.yaml")),
    PROJECT_ROOT.parent / "shared" / "spec" / "tenant.example.yaml",
]

SHOES = {
    "sku": "ZAP-RUN",
    "name": "Zapatilla running Flex",
    "price": "129.90",
    "variant_options": ["talla", "color"],
    "variants": [
        {"sku": "ZAP-RUN-38-NE", "talla": "38", "color": "negro", "stock": 3},
        {"sku": "ZAP-RUN-39-BL", "talla": 39, "color": "blanco", "stock": 0, "price": "134.90"},
    ],
}
RICE = {"sku": "ARR-KG", "name": "Arroz extra a granel", "price": "4.20", "unit": "kg", "sold_by": "weight",
        "min_quantity": "0.25", "step": "0.25", "stock": "80.5", "sold_by_amount": True}
CEVICHE = {"sku": "CEV-MIX", "name": "Ceviche mixto", "price": "32.00",
           "modifiers": ["sin ají", "bien picante", {"name": "extra pescado", "price": "8.00"}]}


@pytest.fixture
def v2() -> dict[str, Any]:
    data = yaml.safe_load(JUGUERIA.read_text(encoding="utf-8"))
    data["catalog"] += [copy.deepcopy(SHOES), copy.deepcopy(RICE), copy.deepcopy(CEVICHE)]
    data["business"]["delivery"]["zones"][0]["aliases"] = ["surqui", "surquillo centro"]
    data["promotions"] = [{"code": "PAP10", "name": "10% en papaya", "sku": "JUG-PAP",
                           "rule": {"type": "percent", "percent": 10}}]
    data["knowledge"]["documents"] = ["carta-2026.pdf"]
    return data


def _problems(data: Any) -> list[str]:
    with pytest.raises(TenantFileError) as caught:
        parse_tenant_data(data)
    return caught.value.problems


@pytest.mark.parametrize("path", VERSION_1, ids=lambda p: p.name)
def test_every_version_1_file_stays_valid(path: Path) -> None:
    tenant = load_tenant_file(path)
    assert all(p.sold_by == "unit" and not p.variants and not p.modifiers for p in tenant.catalog)


def test_a_version_2_file_is_read_with_all_its_keys(v2: dict[str, Any]) -> None:
    tenant = parse_tenant_data(v2)
    assert tenant.business.hours["sun"] == "closed"
    assert tenant.business.hours["tue"] == "07:00-14:00,16:00-20:00"
    assert tenant.business.delivery.min_order == Decimal("15.00")
    assert tenant.business.delivery.zones[0].aliases == ["surqui", "surquillo centro"]
    assert [p.topic for p in tenant.business.policies] == ["frutas", "boleta"]
    assert "yapita" in (tenant.business.haggling or "")
    assert tenant.knowledge.faq[0].a.startswith("Sí, jarras")
    shoes = next(p for p in tenant.catalog if p.sku == "ZAP-RUN")
    assert shoes.variants[1].options == {"talla": "39", "color": "blanco"}  # unquoted 39 read as text
    assert shoes.variants[1].price == Decimal("134.90") and shoes.variants[0].price is None
    rice = next(p for p in tenant.catalog if p.sku == "ARR-KG")
    assert (rice.sold_by, rice.min_quantity, rice.step, rice.stock) == ("weight", Decimal("0.25"), Decimal("0.25"),
                                                                       Decimal("80.5"))
    ceviche = next(p for p in tenant.catalog if p.sku == "CEV-MIX")
    assert [(x.name, x.price) for x in ceviche.modifiers] == [
        ("sin ají", None), ("bien picante", None), ("extra pescado", Decimal("8.00"))]
    # written back as in the file: option values beside sku, plain modifiers as text
    dumped = tenant.model_dump(mode="json")
    assert dumped["catalog"][5]["variants"][0] == {"sku": "ZAP-RUN-38-NE", "talla": "38", "color": "negro",
                                                   "stock": 3, "active": True}
    assert dumped["catalog"][7]["modifiers"] == ["sin ají", "bien picante", {"name": "extra pescado",
                                                                              "price": "8.00"}]


def test_bad_catalog_entries_name_their_field(v2: dict[str, Any]) -> None:
    shoes, rice = v2["catalog"][5], v2["catalog"][6]
    broken = copy.deepcopy(v2)
    broken["catalog"][5]["variants"][1]["stock"] = -2
    assert _problems(broken) == ["catalog[5].variants[1].stock: must be at least 0"]
    del shoes["variants"][0]["color"]
    rice["step"] = "0"
    rice["min_quantity"] = "-0.5"
    v2["catalog"][7]["sku"] = "JUG-PAP-GR"  # a variant's SKU
    v2["catalog"][4]["aliases"].append("Mandarina")  # the name of another product
    v2["promotions"][0]["sku"] = "ZAP-RUN-40-RO"
    assert _problems(v2) == [
        "catalog[0].variants[1].sku: duplicate 'JUG-PAP-GR' (also catalog[7])",
        "catalog[4].aliases[2]: 'Mandarina' is also catalog[2].name ('Mandarina')",
        "catalog[5].variants[0].color: required (a value for each of variant_options)",
        "catalog[6].min_quantity: must be more than 0",
        "catalog[6].step: must be more than 0",
        "promotions[0].sku: 'ZAP-RUN-40-RO' is not in the catalog",
    ]


def test_variant_options_and_unit_quantities_must_agree(v2: dict[str, Any]) -> None:
    shoes = v2["catalog"][5]
    shoes["variant_options"].append("material")
    shoes["variants"][0]["suela"] = "goma"
    v2["catalog"][7]["stock"] = "2.5"  # a ceviche is sold by the unit
    problems = _problems(v2)
    assert "catalog[5].variants[0].suela: unknown field (not in catalog[5].variant_options)" in problems
    assert "catalog[5].variant_options[2]: 'material' is used by no variant" in problems
    assert "catalog[7].stock: must be a whole number (sold by unit)" in problems


def test_hours_accept_closed_days_and_split_shifts_only(v2: dict[str, Any]) -> None:
    v2["business"]["hours"]["mon"] = "Closed"
    assert parse_tenant_data(v2).business.hours["mon"] == "closed"
    v2["business"]["hours"]["mon"] = "07:00-14:00;16:00-20:00"
    assert _problems(v2) == ["business.hours: mon: '07:00-14:00;16:00-20:00' is not a range like 09:00-20:00"]


def _rows(session: Session, model: Any) -> list[Any]:
    return list(session.scalars(select(model).order_by(model.id)))


def test_import_export_round_trips_every_new_key_and_refuses_without_writing(
    db_engine: Engine, v2: dict[str, Any]
) -> None:
    with session_scope(db_engine) as session:
        import_tenant(session, v2)
    with Session(db_engine) as session:
        exported = export_tenant(session, "jugueria-dona-tere")
        variants = _rows(session, m.ProductVariant)
        rice = session.scalar(select(m.Product).where(m.Product.sku == "ARR-KG"))
        assert rice is not None and rice.stock == Decimal("80.5") and rice.sold_by == "weight"
    assert [v.sku for v in variants] == ["JUG-PAP-CH", "JUG-PAP-GR", "JUG-SUR-CH", "JUG-SUR-GR", "ZAP-RUN-38-NE",
                                         "ZAP-RUN-39-BL"]
    assert parse_tenant_data(exported) == parse_tenant_data(v2)
    assert exported["knowledge"] == {"faq": v2["knowledge"]["faq"], "documents": ["carta-2026.pdf"]}
    assert exported["catalog"][6]["stock"] == "80.5"
    # the export, imported again, gives the same export
    with session_scope(db_engine) as session:
        import_tenant(session, yaml.safe_load(dump_tenant_yaml(exported)))
    with Session(db_engine) as session:
        assert export_tenant(session, "jugueria-dona-tere") == exported

    # a variant removed from the file is removed; a bad file changes nothing
    v2["catalog"][5]["variants"].pop()
    with session_scope(db_engine) as session:
        import_tenant(session, v2)
    broken = copy.deepcopy(v2)
    broken["catalog"][5]["variants"][0]["stock"] = -1
    with pytest.raises(TenantFileError), session_scope(db_engine) as session:
        import_tenant(session, broken)
    with Session(db_engine) as session:
        assert [v.sku for v in _rows(session, m.ProductVariant)][-1] == "ZAP-RUN-38-NE"
        assert export_tenant(session, "jugueria-dona-tere")["catalog"][5]["variants"][0]["stock"] == 3


def test_a_shop_that_takes_no_orders_while_closed_keeps_it_through_export(
    db_engine: Engine, v2: dict[str, Any]
) -> None:
    v2["business"]["orders_when_closed"] = False
    with session_scope(db_engine) as session:
        import_tenant(session, v2)
    with Session(db_engine) as session:
        exported = export_tenant(session, "jugueria-dona-tere")
    assert exported["business"]["orders_when_closed"] is False
    v2["business"]["orders_when_closed"] = "a veces"
    with pytest.raises(TenantFileError, match="orders_when_closed"):
        parse_tenant_data(v2)
