"""Configuration pages: saved changes reach the bot on its next message; bad input saves nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fakes.admin_panel import audit_count, flash_follow
from fakes.webapp import runtime_of
from sqlalchemy import select

from chasqui.db.models import (
    AuditLog,
    BotSettings,
    BusinessSettings,
    DeliveryZone,
    NotificationSettings,
    PaymentMethod,
    ReplyTemplate,
    Tenant,
)

ALL_DAY = {f"hours_{d}": "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BOT_FORM = {
    "name": "Chasquicito",
    "personality": "Amable y breve.",
    "greeting": "¡Hola! Soy Chasquicito de Dulce Lima 🎂",
    "prompt": "",
    "confidence_threshold": "0.70",
    "context_messages": "8",
    "escalation_keywords": "estafa\nabogado",
    "intervention_enabled": "on",
    "intervention_timeout_seconds": "300",
    "operator_numbers": "+51 987 000 111\n51987000222",
    **ALL_DAY,
}


def _bot(client, slug: str = "dulce-lima") -> BotSettings:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        return session.scalar(select(BotSettings).where(BotSettings.tenant_id == tenant.id))


def _bot_says(client, text: str, phone: str = "51987555000") -> list[str]:
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(session, phone, text, datetime.now(UTC))
        return list(outcome.decision.replies)


def test_bot_settings_and_templates_are_saved_audited_and_used_by_the_next_message(client, login_as) -> None:
    owner = login_as("owner")
    page = flash_follow(owner, owner.post("/admin/config/bot", BOT_FORM))
    assert "Configuración del bot guardada." in page and "Chasquicito" in page

    bot = _bot(client)
    assert (bot.name, bot.confidence_threshold, bot.context_messages) == ("Chasquicito", Decimal("0.70"), 8)
    assert bot.escalation_keywords == ["estafa", "abogado"]
    assert bot.intervention_timeout_seconds == 300 and bot.operator_numbers == ["51987000111", "51987000222"]
    with runtime_of(client).session() as session:
        action = session.scalar(select(AuditLog).where(AuditLog.action == "config.bot"))
        assert action is not None and action.user_id is not None
        assert action.detail["changes"]["name"][1] == "Chasquicito"

    response = owner.post(
        "/admin/config/templates/saludo", {"variant": ["¡Hola! Aquí {bot_name}, ¿qué se te antoja?", ""]}
    )
    assert response.status_code == 303
    assert _bot_says(client, "hola") == ["¡Hola! Aquí Chasquicito, ¿qué se te antoja?"]

    # an escalation keyword added in the panel hands the very next message to a person
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(
            session, "51987555001", "esto es una estafa", datetime.now(UTC)
        )
        assert outcome.state == "escalated"


def test_bad_bot_input_shows_every_problem_in_spanish_and_saves_nothing(client, login_as) -> None:
    owner = login_as("owner")
    before = _bot(client)
    audits = audit_count(client)
    bad = BOT_FORM | {
        "name": "   ",
        "personality": "x" * 2001,
        "confidence_threshold": "alto",
        "context_messages": "muchos",
        "intervention_timeout_seconds": "10",
        "operator_numbers": "123",
        "hours_mon": "9am a 6pm",
        "greeting": "hola\x00",
    }
    response = owner.post("/admin/config/bot", bad)
    assert response.status_code == 400
    for message in (
        "No se guardó nada",
        "Nombre del bot: es obligatorio.",
        "Personalidad: es demasiado largo (máximo 2000 caracteres).",
        "Umbral de confianza: no es un número válido",
        "Mensajes de contexto: debe ser un número entero.",
        "Tiempo de intervención (segundos): debe estar entre 30 y 600.",
        "«123» no es un teléfono válido",
        "Horario del lunes: escribe un rango como 09:00-20:00",
        "Saludo: contiene caracteres no válidos.",
    ):
        assert message in response.text, message
    assert 'value="alto"' in response.text  # what the user typed stays in the form
    after = _bot(client)
    assert (after.name, after.personality, after.intervention_timeout_seconds) == (
        before.name,
        before.personality,
        before.intervention_timeout_seconds,
    )
    assert audit_count(client) == audits
    assert owner.post("/admin/config/bot", BOT_FORM | {"confidence_threshold": "1.5"}).status_code == 400


def test_a_huge_form_is_refused_with_413_and_a_clear_message(client, login_as) -> None:
    owner = login_as("owner")
    response = owner.post("/admin/config/bot", BOT_FORM | {"personality": "x" * 2_000_000})
    assert response.status_code == 413
    assert "demasiado grande" in response.text
    assert _bot(client).personality != "x" * 2_000_000


def test_template_variants_validation_unknown_key_and_reset(client, login_as) -> None:
    owner = login_as("owner")
    response = owner.post("/admin/config/templates/despedida", {"variant": ["", "  "]})
    assert response.status_code == 400 and "escribe al menos una variante" in response.text
    response = owner.post("/admin/config/templates/despedida", {"variant": ["Chau {customer_part"]})
    assert response.status_code == 400 and "llaves no están balanceadas" in response.text
    assert owner.get("/admin/config/templates/no_existe").status_code == 404

    assert owner.post("/admin/config/templates/despedida", {"variant": ["¡Chau!", "¡Nos vemos!"]}).status_code == 303
    with runtime_of(client).session() as session:
        texts = session.scalars(
            select(ReplyTemplate.text)
            .where(ReplyTemplate.key == "despedida")
            .order_by(ReplyTemplate.variant)
            .join(Tenant, Tenant.id == ReplyTemplate.tenant_id)
            .where(Tenant.slug == "dulce-lima")
        ).all()
    assert texts == ["¡Chau!", "¡Nos vemos!"]
    assert "personalizada" in owner.get("/admin/config/templates").text

    assert owner.post("/admin/config/templates/despedida/reset").status_code == 303
    assert "¡Nos vemos!" not in owner.get("/admin/config/templates/despedida").text
    assert audit_count(client, "config.template.reset") == 1


def test_a_key_the_tenant_never_stored_shows_and_answers_with_the_default(client, login_as) -> None:
    """A tenant imported before a template key existed: the panel lists the default text (not as
    customized), the form starts from it, and the bot says it."""
    from chasqui.tenants.template_defaults import default_templates

    default = default_templates()["pago_pendiente"][0]
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        session.query(ReplyTemplate).filter(
            ReplyTemplate.tenant_id == tenant.id, ReplyTemplate.key == "pago_pendiente"
        ).delete(synchronize_session=False)
        session.commit()
    owner = login_as("owner")
    listing = owner.get("/admin/config/templates").text
    row = listing[listing.index("<code>pago_pendiente</code>") :].split("</tr>", 1)[0]
    assert "personalizada" not in row
    assert ">0<" not in row  # the default's variants are counted, not an empty key
    form = owner.get("/admin/config/templates/pago_pendiente")
    assert form.status_code == 200
    assert form.text.count(default.split("{", 1)[0].strip()[:20]) >= 2  # in the form and in the defaults


def test_business_data_payment_methods_and_zones(client, login_as) -> None:
    owner = login_as("owner")
    form = {
        "business_name": "Dulce Lima Pastelería",
        "description": "Tortas y postres",
        "address": "Av. Larco 123",
        "timezone": "America/Lima",
        "currency": "PEN",
        "currency_symbol": "S/",
        "delivery_enabled": "on",
        "pickup_address": "Av. Larco 123",
        "free_delivery_over": "150",
    }
    assert owner.post("/admin/config/business", form).status_code == 303
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        business = session.scalar(select(BusinessSettings).where(BusinessSettings.tenant_id == tenant.id))
        assert tenant.name == "Dulce Lima Pastelería" and business.free_delivery_over == Decimal("150.00")

    bad = owner.post(
        "/admin/config/business", form | {"timezone": "Marte/Olympus", "currency": "XXX", "business_name": ""}
    )
    assert bad.status_code == 400
    assert "Zona horaria: no existe" in bad.text and "Moneda: elige una opción" in bad.text
    assert "Nombre del negocio: es obligatorio." in bad.text

    created = owner.post(
        "/admin/config/payments", {"code": "tunki", "name": "Tunki", "details": "al 999", "enabled": "on"}
    )
    assert created.status_code == 303
    duplicate = owner.post("/admin/config/payments", {"code": "tunki", "name": "Otro"})
    assert duplicate.status_code == 400 and "ya existe un medio de pago «tunki»" in duplicate.text
    with runtime_of(client).session() as session:
        method = session.scalar(select(PaymentMethod).where(PaymentMethod.code == "tunki"))
    assert owner.post(f"/admin/config/payments/{method.id}", {"code": "tunki", "name": "Tunki BCP"}).status_code == 303
    with runtime_of(client).session() as session:
        method = session.get(PaymentMethod, method.id)
        assert method.name == "Tunki BCP" and method.enabled is False
    snapshot_methods = _snapshot(client).payment_methods
    assert any(m.name == "Tunki BCP" for m in snapshot_methods)
    assert owner.post(f"/admin/config/payments/{method.id}/delete").status_code == 303
    assert not any(m.code == "tunki" for m in _snapshot(client).payment_methods)

    bad_zone = owner.post("/admin/config/zones", {"name": "Chorrillos", "fee": "ocho"})
    assert bad_zone.status_code == 400 and "Costo de envío: no es un número válido" in bad_zone.text
    assert owner.post("/admin/config/zones", {"name": "Chorrillos", "fee": "12.50", "eta": "1 h"}).status_code == 303
    assert any(z.name == "Chorrillos" and z.fee == Decimal("12.50") for z in _snapshot(client).delivery_zones)
    taken = owner.post("/admin/config/zones", {"name": "Chorrillos", "fee": "3"})
    assert taken.status_code == 400 and "ya existe la zona «Chorrillos»" in taken.text
    with runtime_of(client).session() as session:
        zone = session.scalar(select(DeliveryZone).where(DeliveryZone.name == "Chorrillos"))
    assert owner.post(f"/admin/config/zones/{zone.id}", {"name": "Chorrillos", "fee": "9"}).status_code == 303
    assert any(z.name == "Chorrillos" and z.fee == Decimal("9") for z in _snapshot(client).delivery_zones)
    assert owner.post(f"/admin/config/zones/{zone.id}/delete").status_code == 303
    assert not any(z.name == "Chorrillos" for z in _snapshot(client).delivery_zones)


def _snapshot(client):
    runtime = runtime_of(client)
    with runtime.session() as session:
        return runtime.snapshot(session, "dulce-lima")


def test_notifications(client, login_as) -> None:
    owner = login_as("admin")
    bad = owner.post("/admin/config/notifications", {"notify_sales": "on", "numbers": "51911222333\nabc"})
    assert bad.status_code == 400 and "«abc» no es un teléfono válido" in bad.text
    ok = owner.post("/admin/config/notifications", {"notify_sales": "on", "numbers": "51911222333\n51911222444"})
    assert ok.status_code == 303
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "dulce-lima"))
        row = session.scalar(select(NotificationSettings).where(NotificationSettings.tenant_id == tenant.id))
        assert row.numbers == ["51911222333", "51911222444"] and row.notify_escalations is False
    assert _snapshot(client).notifications.numbers == ("51911222333", "51911222444")


def test_the_template_for_staff_outside_the_24h_window(client, login_as) -> None:
    owner = login_as("admin")
    form = {"notify_sales": "on", "numbers": "51911222333"}
    bad = owner.post("/admin/config/notifications", form | {"template_name": "aviso equipo", "template_language": "es"})
    assert bad.status_code == 400 and "solo minúsculas" in bad.text
    good = {"template_name": "Aviso_Equipo", "template_language": "es_PE"}
    ok = owner.post("/admin/config/notifications", form | good)
    assert ok.status_code == 303
    notes = _snapshot(client).notifications
    assert (notes.template_name, notes.template_language) == ("aviso_equipo", "es_PE")
    assert 'value="aviso_equipo"' in owner.get("/admin/config/notifications").text


def test_a_stale_or_missing_csrf_token_is_refused(client, login_as) -> None:
    owner = login_as("owner")
    response = owner.client.post("/admin/config/bot", data=BOT_FORM | {"csrf_token": "falso"})
    assert response.status_code == 400 and "El formulario expiró" in response.text
    assert _bot(client).name != "Chasquicito"


def _hours(client, slug: str = "dulce-lima") -> dict:
    with runtime_of(client).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        return dict(session.scalar(select(BusinessSettings).where(BusinessSettings.tenant_id == tenant.id)).hours)


def test_split_shifts_and_closed_days_are_edited_in_the_panel_and_the_bot_says_them(client, login_as) -> None:
    owner = login_as("owner")
    form = BOT_FORM | {"hours_mon": "cerrado", "hours_tue": "07:00-13:00, 16:00-20:00"}
    flash_follow(owner, owner.post("/admin/config/bot", form))
    hours = _hours(client)
    assert hours["mon"] == "closed" and hours["tue"] == "07:00-13:00,16:00-20:00"
    page = owner.get("/admin/config/bot").text
    assert 'value="cerrado"' in page and 'value="07:00-13:00,16:00-20:00"' in page
    said = " ".join(_bot_says(client, "¿a qué hora atienden el martes? ¿y el lunes abren?", phone="51987555002"))
    assert "07:00" in said and "16:00" in said

    overlapping = BOT_FORM | {"hours_tue": "07:00-13:00,12:00-20:00"}
    response = owner.post("/admin/config/bot", overlapping)
    assert response.status_code == 400 and "turnos partidos" in response.text
    assert _hours(client)["tue"] == "07:00-13:00,16:00-20:00"  # nothing saved
