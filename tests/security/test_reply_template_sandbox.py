"""Issue 18, finding 12: reply templates are filled by a whitelist renderer, not ``str.format``.

``{customer.__class__.__mro__}`` must not leak internals, ``{0}`` must not make the bot skip its
reply, ``{customer:x>100000}`` must not queue a 100k-character text; saving any of them (or an
unknown variable) is refused by the panel and by the tenant import, naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from fakes.webapp import ROOT, runtime_of
from sqlalchemy import select, update

from chasqui.db.models import ReplyTemplate, Tenant
from chasqui.tenants.schema import TenantFileError, parse_tenant_data

ATTACKS = ["Hola {customer.__class__.__mro__}", "Hola {0}", "Hola {customer:x>100000}",
           "Hola {customer!r}", "Hola {customer[0]}"]


def _store_greeting(client, text: str) -> None:
    """A greeting already in the database (saved before the check existed)."""
    with runtime_of(client).session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == "dulce-lima"))
        session.execute(update(ReplyTemplate).where(ReplyTemplate.tenant_id == tenant_id,
                                                    ReplyTemplate.key == "saludo").values(text=text))


IN_HOURS = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in Lima: no "closed now" note


def _bot_says(client, text: str, phone: str) -> list[str]:
    runtime = runtime_of(client)
    with runtime.session() as session:
        outcome = runtime.service(session, "dulce-lima").customer_message(
            session, phone, text, IN_HOURS, name="Lucía Pérez")
        return list(outcome.decision.replies)


@pytest.mark.parametrize("template", ATTACKS)
def test_a_stored_hostile_template_renders_safely(client, template: str) -> None:
    _store_greeting(client, template)
    replies = _bot_says(client, "hola", phone="51987100001")
    assert replies and replies[0].startswith("Hola")  # the bot answers: no message skipped
    assert all(len(reply) <= 4096 for reply in replies)
    assert not any(word in " ".join(replies) for word in ("class", "object", "mro", "'Lucía"))


@pytest.mark.parametrize("template", [*ATTACKS, "Hola {contraseña}", "Hola {customer"])
def test_the_panel_refuses_to_save_them_naming_the_variant(client, login_as, template: str) -> None:
    owner = login_as("owner")
    response = owner.post("/admin/config/templates/saludo", {"variant": ["¡Hola!", template]})
    assert response.status_code == 400 and "Variante 2:" in response.text, response.text[:500]
    ok = owner.post("/admin/config/templates/saludo", {"variant": ["¡Hola{customer_part}! Soy {bot_name} {{:"
                                                                     "}}"]})
    assert ok.status_code == 303
    assert _bot_says(client, "hola", phone="51987100002") == ["¡Hola, Lucía! Soy Sofía {:}"]


@pytest.mark.parametrize("template", [*ATTACKS, "Hola {precio}"])
def test_the_tenant_import_refuses_them_naming_the_field(template: str) -> None:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["reply_templates"] = {"despedida": ["Chau", template]}
    with pytest.raises(TenantFileError) as error:
        parse_tenant_data(data)
    assert "reply_templates.despedida[1]" in str(error.value), str(error.value)
