"""Snapshots: what the engine sees of a tenant, read from the database, never another tenant's data."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from chasqui import domain
from chasqui.db import models as m
from chasqui.db.session import session_scope
from chasqui.tenants import template_defaults
from chasqui.tenants.io import import_tenant
from chasqui.tenants.snapshot import (
    UnknownTenantError,
    find_tenant_by_phone_number_id,
    load_snapshot,
    whatsapp_account,
)


def test_snapshot_holds_the_tenant_file(engine: Engine, demo_tenant_file: Path) -> None:
    with session_scope(engine) as session:
        tenant_id = import_tenant(session, demo_tenant_file).id
    with Session(engine) as session:
        snap = load_snapshot(session, "dulce-lima")
        assert load_snapshot(session, tenant_id) == snap
    assert (snap.id, snap.slug) == (tenant_id, "dulce-lima")
    assert snap.business.name == "Pastelería Dulce Lima"
    assert snap.business.hours["sun"] == "10:00-14:00"
    assert snap.business.free_delivery_over == Decimal("150.00")
    assert snap.business.delivery_enabled and snap.business.currency_symbol == "S/"
    assert snap.bot == domain.BotConfig(
        name="Sofía",
        personality=snap.bot.personality,
        greeting="¡Hola! 👋 Soy Sofía de Pastelería Dulce Lima. ¿En qué te ayudo hoy?",
        mode="sales",
        confidence_threshold=Decimal("0.80"),
        context_messages=5,
        escalation_keywords=(
            "hablar con una persona",
            "hablar con humano",
            "asesor",
            "encargado",
            "libro de reclamaciones",
        ),
        intervention_enabled=True,
        intervention_timeout_seconds=120,
        operator_numbers=("51955000111",),
    )
    assert snap.product("EMP-CAR") == domain.Product(
        sku="EMP-CAR",
        name="Empanada de carne",
        category="Salados",
        price=Decimal("7.50"),
        stock=40,
        unit="unidad",
        aliases=("empanadas", "empanada"),
    )
    assert [p.sku for p in snap.products][-2:] == ["CAF-AME", "CHI-MOR"]  # file order
    assert [z.name for z in snap.delivery_zones] == ["Miraflores", "San Isidro", "Barranco", "Surco"]
    assert snap.payment_methods[0] == domain.PaymentMethod(
        code="yape", name="Yape", details="Yapea al 987 654 321 (Dulce Lima SAC) y envíanos la captura."
    )
    assert snap.promotions[1].rule == {"type": "bundle", "skus": ["CAF-AME", "SUS-PIC"], "price": "17.00"}
    assert snap.promotions[0].valid_to == date(2027, 12, 31)
    assert snap.notifications.numbers == ("51911222333", "51944555666")


def test_templates_are_tuples_in_variant_order(
    engine: Engine, demo_tenant_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(template_defaults, "DEFAULT_TEMPLATES_PATH", tmp_path / "absent.yaml")
    data = yaml.safe_load(demo_tenant_file.read_text(encoding="utf-8"))
    data["reply_templates"] = {"saludo": [f"v{i}" for i in range(12)]}  # "v10" sorts before "v2" as text
    with session_scope(engine) as session:
        import_tenant(session, data)
    with Session(engine) as session:
        assert load_snapshot(session, "dulce-lima").templates == {"saludo": tuple(f"v{i}" for i in range(12))}


def test_a_key_the_tenant_has_not_stored_falls_back_to_the_default(engine: Engine, demo_tenant_file: Path) -> None:
    """A tenant imported before a template key existed: its rows lack the key, the default answers."""
    defaults = template_defaults.default_templates()
    assert defaults["pedido_resumen"] and defaults["pago_pendiente"]
    data = yaml.safe_load(demo_tenant_file.read_text(encoding="utf-8"))
    data["reply_templates"] = {"saludo": ["Hola desde Dulce Lima"]}
    with session_scope(engine) as session:
        tenant_id = import_tenant(session, data).id
        session.query(m.ReplyTemplate).filter(
            m.ReplyTemplate.tenant_id == tenant_id,
            m.ReplyTemplate.key.in_(["pedido_resumen", "pago_pendiente"]),
        ).delete(synchronize_session=False)
    with Session(engine) as session:
        templates = load_snapshot(session, "dulce-lima").templates
    assert templates["pedido_resumen"] == tuple(defaults["pedido_resumen"])
    assert templates["pago_pendiente"] == tuple(defaults["pago_pendiente"])
    assert templates["saludo"] == ("Hola desde Dulce Lima",)  # a stored key still wins
    assert set(defaults) <= set(templates)


def test_default_templates_are_read_once_and_handed_out_as_copies() -> None:
    first = template_defaults.default_templates()
    first["saludo"].append("changed by a caller")
    first["nueva"] = ["x"]
    second = template_defaults.default_templates()
    assert "changed by a caller" not in second["saludo"] and "nueva" not in second
    template_defaults._parsed.cache_clear()
    template_defaults.default_templates()
    template_defaults.default_templates()
    assert template_defaults._parsed.cache_info().misses == 1


def test_tenants_with_the_same_sku_stay_apart(db_engine: Engine, demo_tenant_file: Path) -> None:
    first = yaml.safe_load(demo_tenant_file.read_text(encoding="utf-8"))
    second = copy.deepcopy(first)
    second.update(slug="dulce-arequipa", reply_templates={"saludo": ["Hola desde Arequipa"]})
    second["business"]["name"] = "Dulce Arequipa"
    second["catalog"] = [dict(first["catalog"][0], price="80.00", stock=1)]
    second["promotions"] = []
    second["whatsapp"]["phone_number_id"] = "200000000001"
    second["whatsapp"]["access_token"] = "EAA-second"
    with session_scope(db_engine) as session:
        import_tenant(session, first)
        import_tenant(session, second)
    with Session(db_engine) as session:
        one, two = load_snapshot(session, "dulce-lima"), load_snapshot(session, "dulce-arequipa")
        assert one.product("TOR-CHOC").price == Decimal("65.00") and len(one.products) == 12
        assert two.product("TOR-CHOC").price == Decimal("80.00") and len(two.products) == 1
        assert two.product("PIE-LIM") is None and two.promotions == ()
        assert two.templates["saludo"] == ("Hola desde Arequipa",)
        assert "Hola desde Arequipa" not in one.templates.get("saludo", ())
        tenant = find_tenant_by_phone_number_id(session, "200000000001")
        assert tenant is not None and tenant.slug == "dulce-arequipa"
        account = whatsapp_account(tenant)
        assert account is not None and account.access_token == "EAA-second"
        assert "EAA-second" not in repr(account)
        assert find_tenant_by_phone_number_id(session, "999") is None
        with pytest.raises(UnknownTenantError):
            load_snapshot(session, 987654)
        assert session.get(m.Tenant, two.id) is not None
