"""Plain, immutable data the engine works on.

The dialogue engine and the NLU never touch the database: the caller loads a
``TenantSnapshot`` (see ``chasqui.tenants.snapshot``) and a ``ConversationState`` and
hands them in. Everything about a business lives in these objects, read from the DB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str = ""
    price: Decimal = Decimal("0")
    stock: int = 0
    unit: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    image_url: str | None = None
    active: bool = True


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    name: str
    details: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class DeliveryZone:
    name: str
    fee: Decimal
    eta: str = ""


@dataclass(frozen=True)
class Promotion:
    code: str
    name: str
    description: str = ""
    sku: str | None = None
    # {"type": "buy_x_get_y", "buy": 2, "pay": 1} | {"type": "bundle", "skus": [...], "price": "17.00"}
    # | {"type": "percent", "percent": "10"} (sku optional)
    rule: dict = field(default_factory=dict)
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True


@dataclass(frozen=True)
class Business:
    name: str
    description: str = ""
    country: str = "PE"
    language: str = "es-PE"
    timezone: str = "America/Lima"
    currency: str = "PEN"
    currency_symbol: str = "S/"
    address: str = ""
    hours: dict[str, str] = field(default_factory=dict)  # mon..sun -> "09:00-20:00"
    delivery_enabled: bool = False
    pickup_address: str = ""
    free_delivery_over: Decimal | None = None


@dataclass(frozen=True)
class BotConfig:
    name: str = "Asistente"
    personality: str = ""
    greeting: str = ""
    mode: str = "sales"
    confidence_threshold: Decimal = Decimal("0.80")
    context_messages: int = 5
    escalation_keywords: tuple[str, ...] = ()
    intervention_enabled: bool = True
    intervention_timeout_seconds: int = 120
    operator_numbers: tuple[str, ...] = ()
    prompt: str = ""  # extra instructions for the LLM teacher (bot_settings.prompt)


@dataclass(frozen=True)
class NotificationConfig:
    notify_sales: bool = True
    notify_escalations: bool = True
    numbers: tuple[str, ...] = ()
    template_name: str = ""  # approved template for staff outside the 24 h window ("" = none)
    template_language: str = "es"


@dataclass(frozen=True)
class TenantSnapshot:
    id: int
    slug: str
    business: Business
    bot: BotConfig
    products: tuple[Product, ...] = ()
    payment_methods: tuple[PaymentMethod, ...] = ()
    delivery_zones: tuple[DeliveryZone, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    notifications: NotificationConfig = NotificationConfig()
    # situation key -> variants (Spanish, from the reply_templates table)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def product(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)
