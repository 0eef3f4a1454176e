"""Plain, immutable data the engine works on.

The dialogue engine and the NLU never touch the database: the caller loads a
``TenantSnapshot`` (see ``chasqui.tenants.snapshot``) and a ``ConversationState`` and
hands them in. Everything about a business lives in these objects, read from the DB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# A cart, order or stock quantity: an int for whole units, a Decimal for products sold by weight,
# length or volume (1.5 kg). Never a float.
Quantity = int | Decimal


def as_quantity(value: int | Decimal | str, measured: bool = False) -> Quantity:
    """``Decimal("2.000")`` → ``2`` (whole units); ``Decimal("1.500")`` → ``Decimal("1.5")``. A measured
    product's quantity stays a Decimal even when whole (``Decimal("2")``)."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        whole = number.quantize(Decimal(1))
        return whole if measured else int(whole)
    return number.normalize()


def format_quantity(value: Quantity) -> str:
    """``2`` → ``"2"``, ``Decimal("1.5")`` → ``"1.5"``, ``Decimal("50")`` → ``"50"`` (never ``5E+1``)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


@dataclass(frozen=True)
class Variant:
    """A sellable variant of a product: its own SKU and stock, one value per option."""

    sku: str
    options: dict[str, str] = field(default_factory=dict, hash=False)  # {"talla": "38", "color": "negro"}
    stock: Quantity = 0
    price: Decimal | None = None  # None: the product's price
    active: bool = True

    @property
    def label(self) -> str:
        """``"38, negro"``: the option values, in the product's option order."""
        return ", ".join(self.options.values())


@dataclass(frozen=True)
class Modifier:
    """"sin ají" (free) or "extra pescado" (+ 8.00 per unit of the line)."""

    name: str
    price: Decimal = Decimal("0")


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str = ""
    price: Decimal = Decimal("0")
    stock: Quantity = 0  # with variants: the sum of the active variants' stock
    unit: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    image_url: str | None = None
    active: bool = True
    # catalog version 2
    variants: tuple[Variant, ...] = ()
    variant_options: tuple[str, ...] = ()  # ("talla", "color")
    sold_by: str = "unit"  # unit | weight | length | volume
    min_quantity: Decimal | None = None
    step: Decimal | None = None
    sold_by_amount: bool = False  # "un sol de pan": see chasqui.dialogue.pricing.units_for_amount
    modifiers: tuple[Modifier, ...] = ()

    @property
    def measured(self) -> bool:
        """Sold by weight, length or volume: decimal quantities (1.5 kg)."""
        return self.sold_by != "unit"

    def variant(self, sku: str) -> Variant | None:
        return next((v for v in self.variants if v.sku == sku), None)


@dataclass(frozen=True)
class Sellable:
    """What a cart line's SKU sells: a product, or one of its variants, at its effective price."""

    product: Product
    variant: Variant | None
    price: Decimal

    @property
    def sku(self) -> str:
        return self.variant.sku if self.variant else self.product.sku

    @property
    def name(self) -> str:
        """``"Jugo de papaya (grande)"`` for a variant, else the product's name."""
        return f"{self.product.name} ({self.variant.label})" if self.variant else self.product.name

    @property
    def stock(self) -> Quantity:
        return self.variant.stock if self.variant else self.product.stock

    @property
    def active(self) -> bool:
        return self.product.active and (self.variant is None or self.variant.active)


@dataclass(frozen=True)
class CartLine:
    """One line of a cart: a SKU (product or variant), a quantity, free notes and chosen modifiers.
    Two lines of one SKU may coexist when their notes or modifiers differ."""

    sku: str
    quantity: Quantity
    notes: str = ""
    modifiers: tuple[str, ...] = ()  # modifier names of the product ("sin ají", "extra pescado")


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
    aliases: tuple[str, ...] = ()  # "SMP", "san martin"


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
    # mon..sun -> "09:00-20:00", split shifts "07:00-14:00,16:00-20:00", or "closed" (a day not listed
    # is closed too); read them with chasqui.dialogue.hours
    hours: dict[str, str] = field(default_factory=dict)
    delivery_enabled: bool = False
    pickup_address: str = ""
    free_delivery_over: Decimal | None = None
    min_order: Decimal | None = None  # no delivery below this subtotal
    orders_when_closed: bool = True  # outside opening hours an order is taken for later (False: not taken)
    policies: tuple[Policy, ...] = ()
    haggling: str | None = None  # the shop's answer to haggling (None: a polite default)
    faq: tuple[Faq, ...] = ()


@dataclass(frozen=True)
class Policy:
    topic: str  # "cambios", "factura"
    text: str


@dataclass(frozen=True)
class Faq:
    q: str
    a: str


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
    roles: tuple[Role, ...] = ()  # chat roles: a keyword in a customer message labels the chat
    flow: Any = None  # chasqui.dialogue.flows.Flow: the step flow in front of the sales assistant


@dataclass(frozen=True)
class Role:
    name: str
    keywords: tuple[str, ...]


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
        """The product with this SKU (a variant's SKU is not a product: see ``sellable``)."""
        return next((p for p in self.products if p.sku == sku), None)

    def sellable(self, sku: str) -> Sellable | None:
        """What a cart SKU sells: the product, or the variant with its product, at its effective price
        (the variant's own price, else the product's). None: unknown SKU."""
        for product in self.products:
            if product.sku == sku:
                return Sellable(product, None, product.price)
            variant = product.variant(sku)
            if variant is not None:
                return Sellable(product, variant, product.price if variant.price is None else variant.price)
        return None

    def product_of(self, sku: str) -> Product | None:
        """The product of a product or variant SKU."""
        line = self.sellable(sku)
        return line.product if line else None

    def quantity(self, sku: str, value: int | Decimal | str) -> Quantity:
        """A stored quantity as the cart holds it: an int for whole units, a Decimal for products sold
        by weight, length or volume (``as_quantity``)."""
        product = self.product_of(sku)
        return as_quantity(value, measured=bool(product and product.measured))
