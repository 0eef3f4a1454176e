"""Configuration v2: minimum order, zone aliases, policies, haggling and FAQ from the panel."""

from __future__ import annotations

from decimal import Decimal

from fakes.admin_panel import flash_follow
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import BusinessSettings, DeliveryZone, Tenant


def _business(client) -> BusinessSettings:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        biz = session.scalar(select(BusinessSettings).where(BusinessSettings.tenant_id == tenant.id))
        session.expunge_all()
        return biz


def test_policies_faq_min_order_haggling_and_zone_aliases(client, login_as) -> None:
    owner = login_as("owner")
    page = owner.get("/admin/config/business")
    assert page.status_code == 200 and "Políticas" in page.text and "Preguntas frecuentes" in page.text

    policies = {"r0_a": "cambios", "r0_b": "Cambios dentro de 7 días con boleta.", "r1_a": "factura",
                "r1_b": "Sí emitimos factura; envíanos tu RUC.", "r2_a": "", "r2_b": ""}
    assert "Políticas guardadas." in flash_follow(owner, owner.post("/admin/config/policies", policies))
    assert _business(client).policies == [
        {"topic": "cambios", "text": "Cambios dentro de 7 días con boleta."},
        {"topic": "factura", "text": "Sí emitimos factura; envíanos tu RUC."},
    ]
    edited = policies | {"r0_b": "Cambios dentro de 15 días.", "r1_a": "", "r1_b": ""}  # edit one, delete one
    owner.post("/admin/config/policies", edited)
    assert _business(client).policies == [{"topic": "cambios", "text": "Cambios dentro de 15 días."}]
    bad = owner.post("/admin/config/policies", {"r0_a": "garantía", "r0_b": ""})
    assert bad.status_code == 400 and "Políticas, fila 1: falta «Texto»" in bad.text
    assert _business(client).policies == [{"topic": "cambios", "text": "Cambios dentro de 15 días."}]

    owner.post("/admin/config/faq", {"r0_a": "¿Hacen tortas personalizadas?", "r0_b": "Sí, con 48 horas."})
    assert _business(client).faq == [{"q": "¿Hacen tortas personalizadas?", "a": "Sí, con 48 horas."}]

    form = owner.get("/admin/config/business").text
    import re

    values = {name: value for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form)}
    values |= {"business_name": "Dulce Lima", "timezone": "America/Lima", "currency": "PEN", "currency_symbol": "S/",
               "min_order": "20", "haggling": "No hacemos rebajas 🙏"}
    assert owner.post("/admin/config/business", values).status_code == 303
    biz = _business(client)
    assert biz.min_order == Decimal("20.00") and biz.haggling == "No hacemos rebajas 🙏"
    assert biz.orders_when_closed is False  # the box was not ticked: no orders while closed
    assert 'name="orders_when_closed" >' in owner.get("/admin/config/business").text.replace("  ", " ")
    assert owner.post("/admin/config/business", values | {"orders_when_closed": "on"}).status_code == 303
    assert _business(client).orders_when_closed is True

    assert owner.post("/admin/config/zones", {"name": "San Martín de Porres", "fee": "5", "aliases": "SMP, san martin"})
    clash = owner.post("/admin/config/zones", {"name": "Otra", "fee": "5", "aliases": "smp"})
    assert clash.status_code == 400 and "«smp» ya es un nombre de la zona «San Martín de Porres»" in clash.text
    with runtime_of(client).session() as session:
        zone = session.scalar(select(DeliveryZone).where(DeliveryZone.name == "San Martín de Porres"))
        assert zone.aliases == ["SMP", "san martin"]
        assert session.scalar(select(DeliveryZone).where(DeliveryZone.name == "Otra")) is None
