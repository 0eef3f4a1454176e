"""Turn a situation key and DB data into the bot's words, from the tenant's reply templates."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from chasqui.dialogue.cues import first_name
from chasqui.dialogue.placeholders import cap, render
from chasqui.domain import TenantSnapshot


def fmt_money(tenant: TenantSnapshot, amount: Decimal) -> str:
    return f"{tenant.business.currency_symbol} {Decimal(amount):.2f}".strip()


def join_es(items: Sequence[str], conj: str = "y") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


class Composer:
    """Picks a template variant (rotating with the turn number) and fills it."""

    def __init__(self, tenant: TenantSnapshot, turn: int, customer_name: str | None = None) -> None:
        self.tenant = tenant
        self.turn = turn
        first = first_name(customer_name)
        self.base = {
            "bot_name": tenant.bot.name,
            "business": tenant.business.name,
            "greeting": tenant.bot.greeting,
            "customer": customer_name or "",
            "customer_part": f", {first}" if first else "",
            "pickup_address": tenant.business.pickup_address or tenant.business.address,
            "address": tenant.business.address,
        }

    def has(self, key: str) -> bool:
        return bool(self.tenant.templates.get(key))

    def say(self, key: str, variant: int | None = None, **values: object) -> str:
        """The text of ``key``: the given variant, else one rotating with the turn number."""
        variants = self.tenant.templates.get(key) or ()
        if not variants:
            return ""
        index = variant if variant is not None else self.turn + len(key)
        template = variants[index % len(variants)]
        data = {**self.base, **{k: str(v) for k, v in values.items()}}
        return cap(" ".join(render(template, data).split()))
