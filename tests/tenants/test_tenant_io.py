"""Tenant import/export against every backend: round trips, idempotence, atomicity, secrets."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from chasqui.db import models as m
from chasqui.db.models import Base
from chasqui.db.session import session_scope
from chasqui.tenants import template_defaults
from chasqui.tenants.io import dump_tenant_yaml, export_tenant, import_tenant, load_tenant_file
from chasqui.tenants.schema import TenantFileError, parse_tenant_data
from chasqui.tenants.snapshot import UnknownTenantError, get_tenant

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TENANT_FILES = {
    "project-demo": PROJECT_ROOT / "tenants" / "dulce-lima.yaml",
    "shared-demo": PROJECT_ROOT.parent / "shared" / "scenarios" / "demo_tenant.yaml",
    "ferreteria": PROJECT_ROOT / "tenants" / "ferreteria.yaml",
    "jugueria-v2": PROJECT_ROOT.parent / "shared" / "scenarios" / "v2" / "jugueria.yaml",
    "lavanderia-v2": PROJECT_ROOT.parent / "shared" / "scenarios" / "v2" / "lavanderia.yaml",
}


def _data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _fingerprint(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (timestamps included): equal fingerprints mean nothing was written."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture(params=sorted(TENANT_FILES))
def tenant_file(request: pytest.FixtureRequest) -> Path:
    path = TENANT_FILES[request.param]
    if not path.exists():
        pytest.skip(f"{path} does not exist (yet)")
    return path


def test_import_then_export_gives_the_file_back(db_engine: Engine, tenant_file: Path) -> None:
    with session_scope(db_engine) as session:
        tenant = import_tenant(session, tenant_file)
        slug = tenant.slug
    with Session(db_engine) as session:
        exported = export_tenant(session, slug)
    assert parse_tenant_data(exported) == load_tenant_file(tenant_file)
    source = _data(tenant_file)
    assert [p["sku"] for p in exported["catalog"]] == [p["sku"] for p in source["catalog"]]
    assert exported["whatsapp"] == {k: str(v) for k, v in source["whatsapp"].items()}  # decrypted
    assert exported["catalog"][0]["price"] == str(Decimal(str(source["catalog"][0]["price"])))

    # Importing the export (as YAML text, the CLI's path) writes nothing at all.
    before = _fingerprint(db_engine)
    with session_scope(db_engine) as session:
        import_tenant(session, yaml.safe_load(dump_tenant_yaml(exported)))
    assert _fingerprint(db_engine) == before


def test_reimport_updates_in_place_and_removes_what_left_the_file(
    db_engine: Engine, demo_tenant_file: Path
) -> None:
    data = _data(demo_tenant_file)
    with session_scope(db_engine) as session:
        import_tenant(session, data)
    with Session(db_engine) as session:
        counts = {
            model: _count(session, model) for model in (m.Tenant, m.Product, m.ReplyTemplate, m.DeliveryZone)
        }
        choc_id = session.scalar(select(m.Product.id).where(m.Product.sku == "TOR-CHOC"))

    with session_scope(db_engine) as session:  # the same file again: nothing duplicated
        import_tenant(session, data)
    with Session(db_engine) as session:
        assert {model: _count(session, model) for model in counts} == counts

    changed = copy.deepcopy(data)
    changed["catalog"][0]["price"] = "69.90"
    changed["catalog"] = [p for p in changed["catalog"] if p["sku"] != "EMP-POL"]
    changed["catalog"].append({"sku": "KEK-NAR", "name": "Keke de naranja", "price": "25"})
    changed["business"]["delivery"]["zones"] = changed["business"]["delivery"]["zones"][:2]
    changed["business"]["payment_methods"] = [
        pm for pm in changed["business"]["payment_methods"] if pm["code"] != "plin"
    ]
    changed["bot"]["greeting"] = "¡Hola de nuevo!"
    with session_scope(db_engine) as session:
        import_tenant(session, changed)
    with Session(db_engine) as session:
        choc = session.scalar(select(m.Product).where(m.Product.sku == "TOR-CHOC"))
        assert choc.id == choc_id and choc.price == Decimal("69.90")  # updated in place
        skus = session.scalars(select(m.Product.sku).order_by(m.Product.position)).all()
        assert "EMP-POL" not in skus and skus[-1] == "KEK-NAR" and len(skus) == 12
        assert session.scalars(select(m.DeliveryZone.name).order_by(m.DeliveryZone.position)).all() == [
            "Miraflores",
            "San Isidro",
        ]
        assert "plin" not in session.scalars(select(m.PaymentMethod.code)).all()
        assert session.scalar(select(m.BotSettings.greeting)) == "¡Hola de nuevo!"
        assert _count(session, m.Tenant) == 1


def test_a_bad_file_changes_nothing(db_engine: Engine, demo_tenant_file: Path, tmp_path: Path) -> None:
    data = _data(demo_tenant_file)
    with session_scope(db_engine) as session:
        import_tenant(session, data)
    before = _fingerprint(db_engine)

    bad = copy.deepcopy(data)
    bad["bot"]["greeting"] = "changed"  # a valid change ...
    bad["catalog"][3]["price"] = "abc"  # ... next to an invalid one
    with (
        pytest.raises(TenantFileError, match=r"catalog\[3\]\.price: not a decimal"),
        session_scope(db_engine) as session,
    ):
        import_tenant(session, bad)

    missing = copy.deepcopy(data)
    del missing["catalog"][0]["name"]
    with (
        pytest.raises(TenantFileError, match=r"^catalog\[0\]\.name: required$"),
        session_scope(db_engine) as s,
    ):
        import_tenant(s, missing)

    broken = tmp_path / "broken.yaml"
    broken.write_text(demo_tenant_file.read_text(encoding="utf-8").replace("catalog:", "catalog: ["), "utf-8")
    with pytest.raises(TenantFileError, match="invalid YAML"), session_scope(db_engine) as session:
        import_tenant(session, broken)

    # Checks that need the database also run before any write: another tenant, same WhatsApp number.
    other = copy.deepcopy(data)
    other["slug"] = "otra-tienda"
    with (
        pytest.raises(TenantFileError, match="whatsapp.phone_number_id: already used by tenant 'dulce-lima'"),
        session_scope(db_engine) as session,
    ):
        import_tenant(session, other)
    assert _fingerprint(db_engine) == before


def test_secrets_are_encrypted_at_rest(db_engine: Engine, demo_tenant_file: Path) -> None:
    with session_scope(db_engine) as session:
        import_tenant(session, demo_tenant_file)
    with db_engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM tenants")) for v in row)
    assert "EAAdemo-token-not-real" not in dump
    assert "demo-app-secret" not in dump
    with Session(db_engine) as session:
        exported = export_tenant(session, "dulce-lima")
    assert exported["whatsapp"]["access_token"] == "EAAdemo-token-not-real"
    assert exported["whatsapp"]["app_secret"] == "demo-app-secret"


def test_unknown_tenant(db_engine: Engine, demo_tenant_file: Path) -> None:
    with Session(db_engine) as session, pytest.raises(UnknownTenantError, match="'nadie'.*no tenants yet"):
        export_tenant(session, "nadie")
    with session_scope(db_engine) as session:
        import_tenant(session, demo_tenant_file)
    with Session(db_engine) as session:
        with pytest.raises(UnknownTenantError, match=r"^unknown tenant 'nadie' \(known: dulce-lima\)$"):
            export_tenant(session, "nadie")
        tenant = get_tenant(session, "dulce-lima")
        assert get_tenant(session, tenant.id) is tenant
        assert get_tenant(session, str(tenant.id)) is tenant


def test_reply_templates_merge_over_the_defaults(
    engine: Engine, demo_tenant_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = tmp_path / "templates.es.yaml"
    defaults.write_text("saludo:\n  - 'Hola {customer}'\n  - 'Buenas'\ndespedida: 'Chau'\n", encoding="utf-8")
    monkeypatch.setattr(template_defaults, "DEFAULT_TEMPLATES_PATH", defaults)
    data = _data(demo_tenant_file)
    data["reply_templates"] = {"despedida": ["¡Hasta pronto!", "Chaufa 👋"], "extra_key": "solo uno"}
    with session_scope(engine) as session:
        import_tenant(session, data)
    with Session(engine) as session:
        rows = session.execute(
            select(m.ReplyTemplate.key, m.ReplyTemplate.variant, m.ReplyTemplate.text).order_by(
                m.ReplyTemplate.key, m.ReplyTemplate.variant
            )
        ).all()
        assert [tuple(r) for r in rows] == [
            ("despedida", 0, "¡Hasta pronto!"),
            ("despedida", 1, "Chaufa 👋"),
            ("extra_key", 0, "solo uno"),
            ("saludo", 0, "Hola {customer}"),
            ("saludo", 1, "Buenas"),
        ]
        exported = export_tenant(session, "dulce-lima")
    # only what differs from the defaults is exported, and it imports back to the same rows
    assert exported["reply_templates"] == {
        "despedida": ["¡Hasta pronto!", "Chaufa 👋"],
        "extra_key": ["solo uno"],
    }
    before = _fingerprint(engine)
    with session_scope(engine) as session:
        import_tenant(session, exported)
    assert _fingerprint(engine) == before

    del data["reply_templates"]  # back to the defaults: overrides and extra keys disappear
    with session_scope(engine) as session:
        import_tenant(session, data)
    with Session(engine) as session:
        assert session.scalars(select(m.ReplyTemplate.text).order_by(m.ReplyTemplate.key)).all() == [
            "Chau",
            "Hola {customer}",
            "Buenas",
        ]
