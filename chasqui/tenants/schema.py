"""The tenant file (``chasqui tenant import FILE``): pydantic models of tenant.example.yaml.

``parse_tenant_data(dict)`` validates a whole file and raises ``TenantFileError`` listing every
problem, one line each, as ``<path>: <message>`` (``catalog[3].price: not a decimal``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chasqui.dialogue.placeholders import template_problems

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HOURS_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
CLOSED = "closed"
SOLD_BY = ("unit", "weight", "length", "volume")


class TenantFileError(ValueError):
    """A tenant file cannot be used. ``problems`` holds one ``<path>: <message>`` line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ------------------------------------------------------------------ scalar types


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise PydanticCustomError("decimal", "not a decimal")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise PydanticCustomError("decimal", "not a decimal") from None
    else:
        raise PydanticCustomError("decimal", "not a decimal")
    if not number.is_finite():
        raise PydanticCustomError("decimal", "not a decimal")
    return number


def _money(value: Any) -> Decimal:
    number = _to_decimal(value)
    if number < 0:
        raise PydanticCustomError("money", "must not be negative")
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise PydanticCustomError("money", "at most 2 decimal places")
    if number >= Decimal("10000000000"):
        raise PydanticCustomError("money", "too large")
    return number


def _ratio(value: Any) -> Decimal:
    number = _to_decimal(value)
    if not Decimal(0) <= number <= Decimal(1):
        raise PydanticCustomError("ratio", "must be between 0 and 1")
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise PydanticCustomError("ratio", "at most 2 decimal places")
    return number


def _percent(value: Any) -> Decimal:
    number = _to_decimal(value)
    if not Decimal(0) < number <= Decimal(100):
        raise PydanticCustomError("percent", "must be more than 0 and at most 100")
    return number


def _digits_text(value: Any) -> Any:
    """YAML reads unquoted ids and phone numbers as integers: accept them as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _phone(value: str) -> str:
    digits = value.strip().lstrip("+").replace(" ", "")
    if not re.fullmatch(r"\d{8,15}", digits):
        raise PydanticCustomError("phone", "not a phone number (E.164 digits, e.g. 51987654321)")
    return digits


def _code(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value):
        raise PydanticCustomError("code", "use letters, digits, '.', '_' or '-' (at most 64)")
    return value


def _serialize_decimal(value: Decimal) -> str:
    return str(value)


def _quantity(value: Any) -> Decimal:
    """A stock or quantity: a whole number, or a decimal (products sold by weight, length, volume)."""
    try:
        number = _to_decimal(value)
    except PydanticCustomError:
        raise PydanticCustomError("int_parsing", "must be a whole number") from None
    if number.as_tuple().exponent < -3:  # type: ignore[operator]
        raise PydanticCustomError("quantity", "at most 3 decimal places")
    if number >= Decimal("1000000000"):
        raise PydanticCustomError("quantity", "too large")
    return number


def _serialize_quantity(value: Decimal) -> int | str:
    """Whole numbers stay numbers (``stock: 12``); others are decimal strings (``"0.25"``)."""
    if value == value.to_integral_value():
        return int(value)
    return format(value.normalize(), "f")


Money = Annotated[Decimal, BeforeValidator(_money), PlainSerializer(_serialize_decimal, return_type=str)]
Ratio = Annotated[Decimal, BeforeValidator(_ratio), PlainSerializer(_serialize_decimal, return_type=str)]
Percent = Annotated[Decimal, BeforeValidator(_percent), PlainSerializer(_serialize_decimal, return_type=str)]
Phone = Annotated[str, BeforeValidator(_digits_text), AfterValidator(_phone)]
Code = Annotated[str, BeforeValidator(_digits_text), AfterValidator(_code)]
IdText = Annotated[str, BeforeValidator(_digits_text)]
Name = Annotated[str, Field(min_length=1, max_length=255)]
Quantity = Annotated[
    Decimal, BeforeValidator(_quantity), PlainSerializer(_serialize_quantity, return_type=int | str)
]
Stock = Annotated[Quantity, Field(ge=0)]
Text = Annotated[str, BeforeValidator(_digits_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# ------------------------------------------------------------------ sections


class PaymentMethodEntry(_Model):
    code: Code
    name: Name
    details: str = ""
    enabled: bool = True


class ZoneEntry(_Model):
    name: Name
    fee: Money
    eta: str = Field(default="", max_length=100)
    aliases: list[Annotated[Text, Field(min_length=1, max_length=255)]] = []  # "SMP", "san martin"


class DeliverySection(_Model):
    enabled: bool = False
    pickup_address: str = ""
    zones: list[ZoneEntry] = []
    free_over: Money | None = None
    min_order: Money | None = None  # no delivery below this subtotal


class PolicyEntry(_Model):
    topic: Name
    text: Annotated[str, Field(min_length=1)]


class BusinessSection(_Model):
    name: Name
    description: str = ""
    country: str = Field(default="PE", pattern=r"^[A-Z]{2}$")
    language: str = Field(default="es-PE", max_length=16)
    timezone: str = "America/Lima"
    currency: str = Field(default="PEN", pattern=r"^[A-Z]{3}$")
    currency_symbol: str = Field(default="S/", max_length=8)
    address: str = ""
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], str] = {}
    payment_methods: list[PaymentMethodEntry] = []
    delivery: DeliverySection = DeliverySection()
    policies: list[PolicyEntry] = []  # answered when asked, in the shop's words
    haggling: str | None = None  # the shop's own answer to "¿me lo dejas en...?" (None: polite default)
    orders_when_closed: bool = True  # take orders outside opening hours, for when the shop opens

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            if not available_timezones():  # no time zone database on this machine: cannot check
                return value
            raise PydanticCustomError("timezone", "unknown time zone {tz}", {"tz": repr(value)}) from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours_ranges(cls, value: dict[str, str]) -> dict[str, str]:
        for day, span in value.items():
            # "closed", one range, or split shifts "07:00-14:00,16:00-20:00"
            if span.strip().lower() == CLOSED:
                value = {**value, day: CLOSED}
                continue
            if not all(HOURS_RE.fullmatch(part.strip()) for part in span.split(",")):
                raise PydanticCustomError(
                    "hours", "{day}: {span} is not a range like 09:00-20:00", {"day": day, "span": repr(span)}
                )
        return dict(sorted(value.items(), key=lambda item: WEEKDAYS.index(item[0])))


class InterventionSection(_Model):
    enabled: bool = True
    timeout_seconds: int = Field(default=120, ge=30, le=600)
    operator_numbers: list[Phone] = []


class BotSection(_Model):
    name: str = Field(default="Asistente", min_length=1, max_length=100)
    personality: str = ""
    greeting: str = ""
    mode: str = Field(default="sales", pattern=r"^[a-z_]{1,32}$")
    confidence_threshold: Ratio = Decimal("0.80")
    context_messages: int = Field(default=5, ge=0, le=50)
    escalation_keywords: list[str] = []
    intervention: InterventionSection = InterventionSection()


class VariantEntry(_Model):
    """A sellable variant: its own SKU and stock, one value per product option (``talla: "38"``).

    In the file the option values sit beside ``sku`` and ``stock``; here they are gathered in
    ``options`` and written back the same way."""

    sku: Code
    stock: Stock = Decimal(0)
    price: Money | None = None
    active: bool = True
    options: dict[str, Annotated[Text, Field(min_length=1, max_length=100)]] = {}

    @model_validator(mode="before")
    @classmethod
    def _gather_options(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "options" in data:
            return data
        fixed = {"sku", "stock", "price", "active"}
        options = {k: v for k, v in data.items() if k not in fixed}
        return {**{k: v for k, v in data.items() if k in fixed}, "options": options}

    @model_serializer(mode="wrap")
    def _flatten(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        options = data.pop("options", {}) or {}
        flat = {"sku": data.pop("sku")}
        flat.update(options)
        flat.update({k: v for k, v in data.items() if v is not None})
        return flat


class ModifierEntry(_Model):
    """A modifier: a plain note ("sin ají") or one that costs extra (price added to the line)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    price: Money | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @model_serializer(mode="wrap")
    def _as_text(self, handler: Any) -> Any:
        data = handler(self)
        return data["name"] if data.get("price") is None else data


class ProductEntry(_Model):
    sku: Code
    name: Name
    category: str = Field(default="", max_length=100)
    price: Money
    stock: Stock = Decimal(0)
    unit: str = Field(default="", max_length=100)
    description: str = ""
    aliases: list[str] = []
    image_url: str | None = Field(default=None, max_length=1024)
    active: bool = True
    # version 2 (CONTRACT §8)
    sold_by: Literal["unit", "weight", "length", "volume"] = "unit"
    min_quantity: Quantity | None = None
    step: Quantity | None = None
    sold_by_amount: bool = False  # "un sol de pan": a money amount buys whole units (or a weight)
    variant_options: list[Annotated[Text, Field(min_length=1, max_length=50)]] = []
    variants: list[VariantEntry] = []
    modifiers: list[ModifierEntry] = []


class BuyXGetYRule(_Model):
    type: Literal["buy_x_get_y"]
    buy: int = Field(ge=2)
    pay: int = Field(ge=0)


class BundleRule(_Model):
    type: Literal["bundle"]
    skus: list[Code] = Field(min_length=2)
    price: Money


class PercentRule(_Model):
    type: Literal["percent"]
    percent: Percent


Rule = Annotated[BuyXGetYRule | BundleRule | PercentRule, Field(discriminator="type")]
RULE_TYPES = ("buy_x_get_y", "bundle", "percent")


class PromotionEntry(_Model):
    code: Code
    name: Name
    description: str = ""
    sku: Code | None = None
    rule: Rule
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True


class NotificationsSection(_Model):
    notify_sales: bool = True
    notify_escalations: bool = True
    numbers: list[Phone] = []
    # The approved WhatsApp template (one body variable: the notice) for staff numbers that have not
    # written in the last 24 h; without one, such a notice is sent as text and fails visibly.
    template_name: str = Field("", max_length=512, pattern=r"^[a-z0-9_]*$")
    template_language: str = Field("es", min_length=2, max_length=16, pattern=r"^[A-Za-z_]+$")


class WhatsAppSection(_Model):
    phone_number_id: IdText = Field(pattern=r"^\d{1,64}$")
    display_phone_number: IdText = ""
    waba_id: IdText = ""
    access_token: str = ""
    app_secret: str = ""
    verify_token: str = ""


def _template_variants(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


TemplateVariants = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_template_variants)]


class FaqEntry(_Model):
    q: Annotated[str, Field(min_length=1)]
    a: Annotated[str, Field(min_length=1)]


class KnowledgeSection(_Model):
    faq: list[FaqEntry] = []
    documents: list[Annotated[str, Field(min_length=1, max_length=1024)]] = []  # paths beside the file


LABEL_MAX = 32  # an inbox label (chasqui.web.operator.queries): a role's name becomes one
_LABEL_RE = re.compile(r"^[\w áéíóúüñÁÉÍÓÚÜÑ.+-]+$")


def _label_text(value: str) -> str:
    if not _LABEL_RE.fullmatch(value):
        raise PydanticCustomError("label", "use letters, digits, spaces, '.', '+' or '-'")
    return value


RoleName = Annotated[str, Field(min_length=1, max_length=LABEL_MAX), AfterValidator(_label_text)]
Keyword = Annotated[Text, Field(min_length=1, max_length=100)]


class RoleEntry(_Model):
    """A chat role: a customer message holding one of its keywords (whole words, accent- and
    case-insensitive) labels the conversation with the role's name."""

    name: RoleName
    keywords: list[Keyword] = Field(min_length=1)


ButtonTitles = list[Annotated[Text, Field(min_length=1, max_length=20)]]
RowTitles = list[Annotated[Text, Field(min_length=1, max_length=24)]]


class FlowReply(_Model):
    text: str = ""
    buttons: ButtonTitles = Field(default=[], max_length=3)
    list: RowTitles = Field(default=[], max_length=10)  # noqa: A003 - the file's key
    image: str | None = Field(default=None, min_length=1, max_length=1024)
    document: str | None = Field(default=None, min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _one_extra(self) -> FlowReply:
        given = [k for k in ("buttons", "list", "image", "document") if getattr(self, k)]
        if len(given) > 1:
            raise PydanticCustomError(
                "reply", "at most one of buttons, list, image, document (got {keys})", {"keys": ", ".join(given)}
            )
        if not self.text and not self.image and not self.document:
            raise PydanticCustomError("reply", "needs a text (or an image or document)")
        return self


class FlowRule(_Model):
    input: Annotated[Text, Field(min_length=1, max_length=200)] | list[
        Annotated[Text, Field(min_length=1, max_length=200)]
    ]
    reply: FlowReply | None = None
    next: str | None = Field(default=None, min_length=1, max_length=64)
    next_now: bool = False
    action: Literal["human", "restart"] | None = None
    role: RoleName | None = None
    capture: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")]] = []
    calc: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = {}


class GlobalCommand(_Model):
    keywords: list[Keyword] = Field(min_length=1)
    action: Literal["human", "restart"]
    reply: FlowReply | None = None


class FlowsSection(_Model):
    """A step machine in front of (or instead of) the sales assistant (CONTRACT §8)."""

    initial_step: str = Field(min_length=1, max_length=64)
    session_timeout_minutes: int | None = Field(default=None, ge=1, le=100_000)
    handoff_step: str | None = Field(default=None, min_length=1, max_length=64)
    global_commands: list[GlobalCommand] = []
    steps: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[list[FlowRule], Field(min_length=1)]] = (
        Field(min_length=1)
    )


class TenantFile(_Model):
    """A whole tenant file. ``slug`` is always set after validation (derived from the name)."""

    slug: str | None = None
    business: BusinessSection
    bot: BotSection = BotSection()
    catalog: list[ProductEntry] = []
    promotions: list[PromotionEntry] = []
    notifications: NotificationsSection = NotificationsSection()
    whatsapp: WhatsAppSection | None = None
    reply_templates: dict[str, TemplateVariants] = {}
    knowledge: KnowledgeSection = KnowledgeSection()
    flows: FlowsSection | None = None
    roles: list[RoleEntry] = []

    @field_validator("slug")
    @classmethod
    def _slug_shape(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 100 or not SLUG_RE.fullmatch(value)):
            raise PydanticCustomError(
                "slug", "use lower-case letters, digits and single dashes (e.g. dulce-lima)"
            )
        return value

    @field_validator("reply_templates")
    @classmethod
    def _template_keys(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key in value:
            if not re.fullmatch(r"[a-z0-9_.]{1,100}", key):
                raise PydanticCustomError(
                    "template_key", "{key} is not a template key (a-z, 0-9, '_', '.')", {"key": repr(key)}
                )
        for key, variants in value.items():
            for number, text in enumerate(variants):
                if problems := template_problems(key, text):
                    raise PydanticCustomError(
                        "template_placeholder", "{field}: {problem}",
                        {"field": f"reply_templates.{key}[{number}]", "problem": "; ".join(problems)},
                    )
        return value


# ------------------------------------------------------------------ validation


def slugify(text: str) -> str:
    """``"Pastelería Dulce Lima"`` → ``"pasteleria-dulce-lima"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100].rstrip("-") or "tenant"


def format_path(loc: Iterable[Any]) -> str:
    """``("catalog", 3, "price")`` → ``catalog[3].price``."""
    path = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif previous == "rule" and part in RULE_TYPES:
            pass  # the discriminator tag pydantic adds to the location
        else:
            path += f".{part}" if path else str(part)
        previous = part
    return path or "(file)"


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "date_type": "not a date (YYYY-MM-DD)",
    "date_parsing": "not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "not a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "not a date (YYYY-MM-DD)",
    "union_tag_not_found": "needs a 'type' (one of: " + ", ".join(RULE_TYPES) + ")",
    "string_too_short": "must not be empty",
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return f"unknown rule type {tag!r} (one of: {', '.join(RULE_TYPES)})"
    if kind == "literal_error" and error["loc"][-1] == "[key]" and "hours" in error["loc"]:
        return "unknown day (use " + ", ".join(WEEKDAYS) + ")"
    ctx = error.get("ctx", {})
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx.get(name)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} items"
    if kind == "string_too_long":
        return f"too long (at most {ctx.get('max_length')} characters)"
    if kind == "string_pattern_mismatch":
        return "has the wrong format"
    message = str(error["msg"])
    return message[0].lower() + message[1:] if message else kind


def _loc(error: Any) -> tuple[Any, ...]:
    loc = tuple(error["loc"])
    # A wrong key of a mapping (e.g. a weekday) is reported at "[key]"; show "hours.xyz".
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    return loc


def problems_from_validation(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        line = f"{format_path(_loc(error))}: {_message(error)}"
        if line not in lines:
            lines.append(line)
    return lines


def _duplicates(values: Sequence[str], path: str, field: str) -> list[str]:
    seen: dict[str, int] = {}
    problems: list[str] = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(f"{path}[{index}].{field}: duplicate {value!r} (also {path}[{seen[value]}])")
        else:
            seen[value] = index
    return problems


def cross_check(tenant: TenantFile) -> list[str]:
    """Checks across sections: unique keys, promotions that name existing products, dates."""
    skus = [p.sku for p in tenant.catalog]
    problems = _duplicates(skus, "catalog", "sku")
    problems += _duplicates(
        [m.code for m in tenant.business.payment_methods], "business.payment_methods", "code"
    )
    problems += _duplicates(
        [z.name for z in tenant.business.delivery.zones], "business.delivery.zones", "name"
    )
    problems += _duplicates([p.code for p in tenant.promotions], "promotions", "code")
    problems += _catalog_v2_problems(tenant)
    problems += _duplicates([fold_name(r.name) for r in tenant.roles], "roles", "name")
    if tenant.flows is not None:
        from chasqui.dialogue.flows import flow_problems

        problems += flow_problems(tenant.flows.model_dump(mode="json"))
    known = set(skus) | {v.sku for p in tenant.catalog for v in p.variants}
    for index, promo in enumerate(tenant.promotions):
        path = f"promotions[{index}]"
        if promo.sku is not None and promo.sku not in known:
            problems.append(f"{path}.sku: {promo.sku!r} is not in the catalog")
        if isinstance(promo.rule, BuyXGetYRule):
            if promo.rule.pay >= promo.rule.buy:
                problems.append(f"{path}.rule.pay: must be less than buy")
            if promo.sku is None:
                problems.append(f"{path}.sku: required for a buy_x_get_y rule")
        if isinstance(promo.rule, BundleRule):
            for position, sku in enumerate(promo.rule.skus):
                if sku not in known:
                    problems.append(f"{path}.rule.skus[{position}]: {sku!r} is not in the catalog")
        if promo.valid_from and promo.valid_to and promo.valid_from > promo.valid_to:
            problems.append(f"{path}.valid_to: is before valid_from")
    return problems


def fold_name(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a product name or alias."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.lower().split())


def _catalog_v2_problems(tenant: TenantFile) -> list[str]:
    """Variants, sold-by rules, SKUs unique across products and variants, aliases that would steal
    another product's name."""
    problems: list[str] = []
    seen_sku: dict[str, str] = {}
    for index, product in enumerate(tenant.catalog):
        seen_sku.setdefault(product.sku, f"catalog[{index}]")
    names: dict[str, tuple[int, str]] = {}  # folded name or alias -> (product index, path)
    for index, product in enumerate(tenant.catalog):
        path = f"catalog[{index}]"
        names.setdefault(fold_name(product.name), (index, f"{path}.name"))
    for index, product in enumerate(tenant.catalog):
        path = f"catalog[{index}]"
        for position, variant in enumerate(product.variants):
            vpath = f"{path}.variants[{position}]"
            if variant.sku in seen_sku:
                problems.append(f"{vpath}.sku: duplicate {variant.sku!r} (also {seen_sku[variant.sku]})")
            else:
                seen_sku[variant.sku] = vpath
            for option in product.variant_options:
                if option not in variant.options:
                    problems.append(f"{vpath}.{option}: required (a value for each of variant_options)")
            for option in variant.options:
                if option not in product.variant_options:
                    problems.append(f"{vpath}.{option}: unknown field (not in {path}.variant_options)")
        if product.variant_options and not product.variants:
            problems.append(f"{path}.variants: required when variant_options are given")
        if product.variants and not product.variant_options:
            problems.append(f"{path}.variant_options: required when variants are given (e.g. [talla, color])")
        for position, option in enumerate(product.variant_options):
            if product.variants and not any(option in v.options for v in product.variants):
                problems.append(f"{path}.variant_options[{position}]: {option!r} is used by no variant")
        problems += [
            f"{path}.variant_options[{i}]: duplicate {o!r}"
            for i, o in enumerate(product.variant_options) if o in product.variant_options[:i]
        ]
        combos: dict[tuple[tuple[str, str], ...], int] = {}
        for position, variant in enumerate(product.variants):
            combo = tuple(sorted((k, fold_name(v)) for k, v in variant.options.items()))
            if combo in combos:
                problems.append(
                    f"{path}.variants[{position}]: same options as {path}.variants[{combos[combo]}]"
                )
            combos.setdefault(combo, position)
        measured = product.sold_by != "unit"
        for field in ("min_quantity", "step"):
            value = getattr(product, field)
            if value is None:
                continue
            if value <= 0:
                problems.append(f"{path}.{field}: must be more than 0")
            elif not measured and value != value.to_integral_value():
                problems.append(f"{path}.{field}: must be a whole number (sold by unit)")
        quantities = [(f"{path}.stock", product.stock)] + [
            (f"{path}.variants[{i}].stock", v.stock) for i, v in enumerate(product.variants)
        ]
        if not measured:
            for where, stock in quantities:
                if stock != stock.to_integral_value():
                    problems.append(f"{where}: must be a whole number (sold by unit)")
        for position, alias in enumerate(product.aliases):
            key = fold_name(alias)
            owner = names.get(key)
            if owner is not None and owner[0] != index:
                problems.append(
                    f"{path}.aliases[{position}]: {alias!r} is also {owner[1]} "
                    f"({tenant.catalog[owner[0]].name!r})"
                )
            elif owner is None and key:
                names[key] = (index, f"{path}.aliases[{position}]")
    return problems


def parse_tenant_data(data: Any) -> TenantFile:
    """Validate the content of a tenant file (already parsed from YAML/JSON)."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise TenantFileError(
            [f"(file): expected a mapping of sections (business, catalog, ...), got {kind}"]
        )
    try:
        tenant = TenantFile.model_validate(data)
    except ValidationError as exc:
        raise TenantFileError(problems_from_validation(exc)) from None
    problems = cross_check(tenant)
    if problems:
        raise TenantFileError(problems)
    if tenant.slug is None:
        tenant = tenant.model_copy(update={"slug": slugify(tenant.business.name)})
    return tenant
