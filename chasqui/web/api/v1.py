"""REST API ``/api/v1``: a tenant's orders, conversations and products, with per-tenant tokens.

Every request carries ``Authorization: Bearer chq_...``; the token decides the tenant, and every
query is filtered by it, so an id or SKU of another tenant answers 404 like one that does not
exist. Amounts are decimal strings ("65.00"), times ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from chasqui.conversations.payments import PaymentActionError, reject_payment, verify_payment
from chasqui.db.models import AuditLog, Contact, Conversation, Message, Order, Product, ProductVariant
from chasqui.domain import format_quantity
from chasqui.web.admin.forms import has_control_chars
from chasqui.web.admin.products import apply_row, catalog_problems, product_row, schema_problems
from chasqui.web.api.tokens import TokenOwner, token_owner
from chasqui.web.params import MAX_OFFSET

router = APIRouter(prefix="/api/v1")
bearer = HTTPBearer(auto_error=False, description="Token de API del negocio (Configuración → API)")

NOT_FOUND = "No encontrado"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_PAGE = 200


# ------------------------------------------------------------------ auth


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401, detail="Token de API ausente o no válido", headers={"WWW-Authenticate": "Bearer"}
    )


def api_owner(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> TokenOwner:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized()
    with request.app.state.chasqui.runtime.session() as session:
        owner = token_owner(session, credentials.credentials.strip())
    if owner is None:
        raise _unauthorized()
    return owner


Owner = Annotated[TokenOwner, Depends(api_owner)]


def _session(request: Request) -> Any:
    return request.app.state.chasqui.runtime.session()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _money(value: Decimal | None) -> str:
    return f"{Decimal(value or 0):.2f}"


# ------------------------------------------------------------------ schemas


Quantity = Annotated[
    int | str, Field(description="Entero, o decimal como texto para lo que se vende por peso (\"1.5\")")
]
SoldBy = Literal["unit", "weight", "length", "volume"]
OptionName = Annotated[str, Field(min_length=1, max_length=50)]


class ModifierOut(BaseModel):
    name: str
    price: str | None = Field(default=None, description="Lo que suma a la línea; null: sin costo")


class VariantOut(BaseModel):
    sku: str
    options: dict[str, str] = Field(description='Un valor por opción del producto: {"talla": "38", "color": "negro"}')
    stock: Quantity
    price: str | None = Field(description="Precio propio; null: el del producto")
    active: bool


class ProductOut(BaseModel):
    sku: str
    name: str
    category: str
    price: str = Field(description="Precio (por unidad, o por kg / m / l), decimal como texto")
    stock: Quantity
    unit: str
    description: str
    aliases: list[str]
    image_url: str | None
    active: bool
    sold_by: SoldBy = Field(description="unit, weight (peso), length (longitud) o volume (volumen)")
    min_quantity: str | None = Field(description="Cantidad mínima por pedido, decimal como texto")
    step: str | None = Field(description="Incremento de la cantidad, decimal como texto")
    sold_by_amount: bool = Field(description="Se vende por monto («un sol de pan»)")
    modifiers: list[ModifierOut]
    variant_options: list[str] = Field(description='Opciones de las variantes: ["talla", "color"]')
    variants: list[VariantOut]
    updated_at: str | None


class ProductList(BaseModel):
    total: int
    items: list[ProductOut]


class _ProductFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("image_url", check_fields=False)
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("image_url must start with http:// or https://")
        return value or None

    @field_validator("name", "category", "unit", "description", "aliases", check_fields=False)
    @classmethod
    def _printable(cls, value: str | list[str] | None) -> str | list[str] | None:
        texts = value if isinstance(value, list) else [value or ""]
        if any(has_control_chars(text) for text in texts):
            raise ValueError("contains control characters")
        return value


class ModifierIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(pattern=SKU_PATTERN)
    options: dict[str, Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=dict)
    stock: Decimal = Field(default=Decimal(0), ge=0, le=Decimal("999999999.999"), decimal_places=3)
    price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    active: bool = True


class VariantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stock: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999.999"), decimal_places=3)
    price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    active: bool | None = None


class ProductCreate(_ProductFields):
    sku: str = Field(pattern=SKU_PATTERN)
    name: str = Field(min_length=1, max_length=255)
    category: str = Field(default="", max_length=100)
    price: Decimal = Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    stock: Decimal = Field(
        default=Decimal(0), ge=0, le=Decimal("999999999.999"), decimal_places=3,
        description="Entero si se vende por unidad; hasta 3 decimales por peso, longitud o volumen",
    )
    unit: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=2000)
    aliases: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    image_url: str | None = Field(default=None, max_length=1024)
    active: bool = True
    sold_by: SoldBy = "unit"
    min_quantity: Decimal | None = Field(default=None, le=Decimal("999999999.999"), decimal_places=3)
    step: Decimal | None = Field(default=None, le=Decimal("999999999.999"), decimal_places=3)
    sold_by_amount: bool = False
    modifiers: list[ModifierIn] = Field(default_factory=list, max_length=50)
    variant_options: list[OptionName] = Field(default_factory=list, max_length=4)
    variants: list[VariantIn] = Field(default_factory=list, max_length=200)


class ProductUpdate(_ProductFields):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    category: str | None = Field(default=None, max_length=100)
    price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    stock: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999.999"), decimal_places=3)
    unit: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    aliases: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=50)
    image_url: str | None = Field(default=None, max_length=1024)
    active: bool | None = None
    sold_by: SoldBy | None = None
    min_quantity: Decimal | None = Field(default=None, le=Decimal("999999999.999"), decimal_places=3)
    step: Decimal | None = Field(default=None, le=Decimal("999999999.999"), decimal_places=3)
    sold_by_amount: bool | None = None
    modifiers: list[ModifierIn] | None = Field(default=None, max_length=50)
    variant_options: list[OptionName] | None = Field(default=None, max_length=4)
    variants: list[VariantIn] | None = Field(
        default=None, max_length=200, description="Reemplaza la lista completa de variantes (por SKU)"
    )


class OrderItemOut(BaseModel):
    sku: str
    name: str
    unit_price: str
    quantity: int | str = Field(description="Entero, o decimal como texto para lo que se vende por peso (\"1.5\")")
    line_total: str
    notes: str = Field(default="", description="Notas de la línea («sin ají»)")
    modifiers: list[str] = Field(default_factory=list, description="Modificadores elegidos")


OrderStatus = Literal[
    "pending_payment", "payment_reported", "paid", "preparing", "on_the_way", "delivered", "cancelled"
]


class OrderOut(BaseModel):
    id: int
    number: str
    status: OrderStatus
    conversation_id: int | None
    customer_phone: str | None
    customer_name: str | None
    items: list[OrderItemOut]
    subtotal: str
    discount: str
    delivery_fee: str
    total: str
    fulfillment: str | None
    zone: str | None
    delivery_address: str | None
    delivery: bool = Field(description="true: delivery; false: recojo o sin elegir")
    address: str | None = Field(description="Dirección de entrega (igual que delivery_address)")
    payment_method: str | None
    notes: str | None = Field(description="Notas del pedido («tocar el timbre»)")
    change_for: str | None = Field(description="Billete con que paga en efectivo (para llevar vuelto)")
    created_at: str | None
    confirmed_at: str | None
    paid_at: str | None
    cancelled_at: str | None


class OrderList(BaseModel):
    total: int
    items: list[OrderOut]


class MessageOut(BaseModel):
    id: int
    at: str | None
    direction: Literal["in", "out"]
    sender: str
    type: str
    text: str | None
    status: str | None
    intent: str | None
    confidence: float | None
    source: str | None


class ConversationOut(BaseModel):
    id: int
    state: Literal["bot", "escalated", "paused"]
    customer_phone: str
    customer_name: str | None
    alias: str | None
    labels: list[str]
    unread: int
    last_message_at: str | None
    created_at: str | None


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationList(BaseModel):
    total: int
    items: list[ConversationOut]


def _product_out(p: Product) -> ProductOut:
    return ProductOut(
        sku=p.sku,
        name=p.name,
        category=p.category,
        price=_money(p.price),
        stock=_quantity(p.stock),
        unit=p.unit,
        description=p.description,
        aliases=list(p.aliases or []),
        image_url=p.image_url,
        active=p.active,
        sold_by=p.sold_by or "unit",  # type: ignore[arg-type]
        min_quantity=format_quantity(p.min_quantity) if p.min_quantity is not None else None,
        step=format_quantity(p.step) if p.step is not None else None,
        sold_by_amount=bool(p.sold_by_amount),
        modifiers=[
            ModifierOut(name=str(m["name"]), price=_money(Decimal(str(m["price"]))) if m.get("price") else None)
            if isinstance(m, dict) else ModifierOut(name=str(m))
            for m in p.modifiers or []
        ],
        variant_options=list(p.variant_options or []),
        variants=[
            VariantOut(
                sku=v.sku,
                options={str(k): str(val) for k, val in (v.options or {}).items()},
                stock=_quantity(v.stock),
                price=_money(v.price) if v.price is not None else None,
                active=v.active,
            )
            for v in p.variants
        ],
        updated_at=_iso(p.updated_at),
    )


def _quantity(value: Decimal | int) -> int | str:
    """2 (a whole quantity) or "1.5" (a measured one), as in ``chasqui simulate --json``."""
    text = format_quantity(Decimal(value))
    return int(text) if text.lstrip("-").isdigit() else text


def _order_out(o: Order, contact: Contact | None) -> OrderOut:
    return OrderOut(
        id=o.id,
        number=o.number,
        status=o.status,
        conversation_id=o.conversation_id,  # type: ignore[arg-type]
        customer_phone=contact.phone if contact else None,
        customer_name=(contact.alias or contact.name) if contact else None,
        items=[
            OrderItemOut(
                sku=i.sku,
                name=i.name,
                unit_price=_money(i.unit_price),
                quantity=_quantity(i.quantity),
                line_total=_money(i.line_total),
                notes=i.notes or "",
                modifiers=[str(m) for m in i.modifiers or []],
            )
            for i in o.items
        ],
        subtotal=_money(o.subtotal),
        discount=_money(o.discount),
        delivery_fee=_money(o.delivery_fee),
        total=_money(o.total),
        fulfillment=o.fulfillment,
        zone=o.zone,
        delivery_address=o.delivery_address,
        delivery=o.fulfillment == "delivery",
        address=o.delivery_address,
        payment_method=o.payment_method,
        notes=o.notes,
        change_for=_money(o.change_for) if o.change_for is not None else None,
        created_at=_iso(o.created_at),
        confirmed_at=_iso(o.confirmed_at),
        paid_at=_iso(o.paid_at),
        cancelled_at=_iso(o.cancelled_at),
    )


def _conversation_fields(c: Conversation, contact: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "state": c.state,
        "customer_phone": contact.phone,
        "customer_name": contact.name,
        "alias": contact.alias,
        "labels": list(contact.labels or []),
        "unread": c.unread_count or 0,
        "last_message_at": _iso(c.last_message_at),
        "created_at": _iso(c.created_at),
    }


# ------------------------------------------------------------------ products


def _product(session: Session, tenant_id: int, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.tenant_id == tenant_id, Product.sku == sku))
    if product is None:
        raise HTTPException(404, NOT_FOUND)
    return product


@router.get("/products", response_model=ProductList, tags=["productos"], summary="Lista los productos")
def list_products(
    request: Request,
    owner: Owner,
    active: bool | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ProductList:
    with _session(request) as session:
        query = select(Product).where(Product.tenant_id == owner.tenant_id)
        if active is not None:
            query = query.where(Product.active.is_(active))
        if category is not None:
            query = query.where(Product.category == category)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Product.position, Product.id).limit(limit).offset(offset))
        return ProductList(total=total, items=[_product_out(p) for p in rows])


@router.get(
    "/products/{sku}",
    response_model=ProductOut,
    tags=["productos"],
    summary="Un producto por SKU",
    responses={404: {"description": "No existe en este negocio"}},
)
def get_product(request: Request, owner: Owner, sku: str) -> ProductOut:
    with _session(request) as session:
        return _product_out(_product(session, owner.tenant_id, sku))


def _audit(session: Session, owner: TokenOwner, action: str, **detail: Any) -> None:
    session.add(
        AuditLog(
            tenant_id=owner.tenant_id, user_id=None, action=action, detail={"api_token_id": owner.token_id, **detail}
        )
    )


@router.post(
    "/products",
    response_model=ProductOut,
    status_code=201,
    tags=["productos"],
    summary="Crea un producto",
    responses={409: {"description": "Ya existe un producto con ese SKU"}},
)
def create_product(request: Request, owner: Owner, body: ProductCreate, response: Response) -> ProductOut:
    values = _row_values(body.model_dump())
    with _session(request) as session:
        taken = session.scalar(select(Product.id).where(Product.tenant_id == owner.tenant_id, Product.sku == body.sku))
        if taken is not None:
            raise HTTPException(409, f"Ya existe un producto con el SKU {body.sku}")
        _check_catalog(session, owner.tenant_id, None, values)
        position = (
            int(session.scalar(select(func.max(Product.position)).where(Product.tenant_id == owner.tenant_id)) or 0) + 1
        )
        columns = {k: v for k, v in values.items() if k != "variants"}
        product = Product(tenant_id=owner.tenant_id, position=position, **columns)
        session.add(product)
        apply_row(session, product, {"variants": values["variants"]})
        _audit(session, owner, "api.product.create", sku=body.sku)
        session.flush()
        response.headers["Location"] = f"/api/v1/products/{product.sku}"
        return _product_out(product)


def _row_values(data: dict[str, Any]) -> dict[str, Any]:
    """A request body as a catalog row (modifiers in the tenant file's shape)."""
    if data.get("modifiers") is not None:
        data["modifiers"] = [
            {"name": m["name"], "price": f"{m['price']:.2f}"} if m.get("price") is not None else m["name"]
            for m in data["modifiers"]
        ]
    return data


def _check_catalog(session: Session, tenant_id: int, product: Product | None, values: dict[str, Any]) -> None:
    """The tenant file's checks on the whole catalog with this change; 422 listing the problems in Spanish."""
    products = list(
        session.scalars(select(Product).where(Product.tenant_id == tenant_id).order_by(Product.position, Product.id))
    )
    before = [product_row(p) for p in products]
    after = [dict(row) for row in before]
    index = next((i for i, p in enumerate(products) if product is not None and p.id == product.id), None)
    full = values if index is None else before[index] | values
    if index is None:
        after.append(full)
    else:
        after[index] = full
    problems = schema_problems(full) or [p.message for p in catalog_problems(before, after)]
    if problems:
        raise HTTPException(422, problems)


@router.patch(
    "/products/{sku}",
    response_model=ProductOut,
    tags=["productos"],
    summary="Actualiza un producto (solo los campos enviados)",
    description="``stock`` acepta decimales para lo que se vende por peso, longitud o volumen; ``variants`` "
    "reemplaza la lista de variantes. Un cambio que deja el catálogo inválido (SKU repetido, variante sin "
    "una opción, alias que es el nombre de otro producto…) responde 422 con los problemas, sin cambiar nada.",
    responses={404: {"description": "No existe en este negocio"}, 422: {"description": "Datos no válidos"}},
)
def update_product(request: Request, owner: Owner, sku: str, body: ProductUpdate) -> ProductOut:
    values = _row_values(body.model_dump(exclude_unset=True))
    for field in (
        "name", "price", "stock", "active", "aliases", "category", "unit", "description", "sold_by",
        "sold_by_amount", "modifiers", "variant_options", "variants",
    ):
        if field in values and values[field] is None:
            raise HTTPException(422, f"{field}: no puede ser null")
    with _session(request) as session:
        product = _product(session, owner.tenant_id, sku)
        _check_catalog(session, owner.tenant_id, product, values)
        changed = apply_row(session, product, values)
        if changed:
            _audit(session, owner, "api.product.update", sku=sku, fields=sorted(changed))
        session.flush()
        return _product_out(product)


@router.patch(
    "/variants/{sku}",
    response_model=ProductOut,
    tags=["productos"],
    summary="Actualiza el stock, precio o estado de una variante (por su SKU)",
    responses={404: {"description": "No existe en este negocio"}, 422: {"description": "Datos no válidos"}},
)
def update_variant(request: Request, owner: Owner, sku: str, body: VariantUpdate) -> ProductOut:
    values = body.model_dump(exclude_unset=True)
    if values.get("stock", 0) is None or values.get("active", True) is None:
        raise HTTPException(422, "stock/active: no puede ser null")
    with _session(request) as session:
        variant = session.scalar(
            select(ProductVariant).where(ProductVariant.tenant_id == owner.tenant_id, ProductVariant.sku == sku)
        )
        if variant is None:
            raise HTTPException(404, NOT_FOUND)
        product = variant.product
        row = product_row(product)
        row["variants"] = [v | values if v["sku"] == sku else v for v in row["variants"]]
        _check_catalog(session, owner.tenant_id, product, {"variants": row["variants"]})
        changed = apply_row(session, product, {"variants": row["variants"]})
        if changed:
            _audit(session, owner, "api.variant.update", sku=sku, fields=sorted(values))
        session.flush()
        return _product_out(product)


# ------------------------------------------------------------------ orders


@router.get("/orders", response_model=OrderList, tags=["pedidos"], summary="Lista los pedidos (recientes primero)")
def list_orders(
    request: Request,
    owner: Owner,
    status: OrderStatus | None = None,
    since: datetime | None = Query(default=None, description="Creados desde (ISO 8601)"),
    until: datetime | None = Query(default=None, description="Creados antes de (ISO 8601)"),
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> OrderList:
    with _session(request) as session:
        query = select(Order).where(Order.tenant_id == owner.tenant_id)
        if status:
            query = query.where(Order.status == status)
        if since:
            query = query.where(Order.created_at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
        if until:
            query = query.where(Order.created_at < (until if until.tzinfo else until.replace(tzinfo=UTC)))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        orders = session.scalars(
            query.options(selectinload(Order.items))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        contacts = _contacts(session, owner.tenant_id, {o.contact_id for o in orders if o.contact_id})
        return OrderList(total=total, items=[_order_out(o, contacts.get(o.contact_id or -1)) for o in orders])


def _contacts(session: Session, tenant_id: int, ids: set[int]) -> dict[int, Contact]:
    if not ids:
        return {}
    rows = session.scalars(select(Contact).where(Contact.tenant_id == tenant_id, Contact.id.in_(ids)))
    return {c.id: c for c in rows}


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    tags=["pedidos"],
    summary="Un pedido",
    responses={404: {"description": "No existe en este negocio"}},
)
def get_order(request: Request, owner: Owner, order_id: int) -> OrderOut:
    with _session(request) as session:
        order = session.get(Order, order_id)
        if order is None or order.tenant_id != owner.tenant_id:
            raise HTTPException(404, NOT_FOUND)
        contact = session.get(Contact, order.contact_id) if order.contact_id else None
        return _order_out(order, contact)


def _payment_action(request: Request, owner: TokenOwner, order_id: int, action: Any) -> OrderOut:
    with _session(request) as session:
        order = session.get(Order, order_id)
        if order is None or order.tenant_id != owner.tenant_id:
            raise HTTPException(404, NOT_FOUND)
        try:
            action(session, order, datetime.now(UTC), by={"api_token_id": owner.token_id})
        except PaymentActionError as exc:
            raise HTTPException(409, str(exc)) from None
        contact = session.get(Contact, order.contact_id) if order.contact_id else None
        return _order_out(order, contact)


@router.post(
    "/orders/{order_id}/verify-payment",
    response_model=OrderOut,
    tags=["pedidos"],
    summary="Verifica el pago de un pedido (queda pagado; el cliente recibe un aviso)",
    responses={404: {"description": "No existe en este negocio"}, 409: {"description": "No hay pago por verificar"}},
)
def verify_order_payment(request: Request, owner: Owner, order_id: int) -> OrderOut:
    return _payment_action(request, owner, order_id, verify_payment)


@router.post(
    "/orders/{order_id}/reject-payment",
    response_model=OrderOut,
    tags=["pedidos"],
    summary="Rechaza el pago reportado (vuelve a pendiente de pago; el cliente recibe un aviso)",
    responses={404: {"description": "No existe en este negocio"}, 409: {"description": "No tiene un pago reportado"}},
)
def reject_order_payment(request: Request, owner: Owner, order_id: int) -> OrderOut:
    return _payment_action(request, owner, order_id, reject_payment)


# ------------------------------------------------------------------ conversations


@router.get(
    "/conversations",
    response_model=ConversationList,
    tags=["conversaciones"],
    summary="Lista las conversaciones (actividad reciente primero)",
)
def list_conversations(
    request: Request,
    owner: Owner,
    state: Literal["bot", "escalated", "paused"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ConversationList:
    with _session(request) as session:
        query = (
            select(Conversation, Contact)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Conversation.tenant_id == owner.tenant_id)
        )
        if state:
            query = query.where(Conversation.state == state)
        total = (
            session.scalar(
                select(func.count(Conversation.id)).where(
                    Conversation.tenant_id == owner.tenant_id, *([Conversation.state == state] if state else [])
                )
            )
            or 0
        )
        rows = session.execute(
            query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit).offset(offset)
        ).all()
        return ConversationList(
            total=total, items=[ConversationOut(**_conversation_fields(c, contact)) for c, contact in rows]
        )


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationDetail,
    tags=["conversaciones"],
    summary="Una conversación con sus mensajes (los últimos `messages` en orden)",
    responses={404: {"description": "No existe en este negocio"}},
)
def get_conversation(
    request: Request,
    owner: Owner,
    conversation_id: int,
    messages: Annotated[int, Query(ge=0, le=1000)] = 200,
) -> ConversationDetail:
    with _session(request) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant_id != owner.tenant_id:
            raise HTTPException(404, NOT_FOUND)
        contact = session.get(Contact, conversation.contact_id)
        assert contact is not None
        rows = list(
            session.scalars(
                select(Message)
                .where(Message.tenant_id == owner.tenant_id, Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(messages)
            )
        )[::-1]
        return ConversationDetail(
            **_conversation_fields(conversation, contact),
            messages=[
                MessageOut(
                    id=m.id,
                    at=_iso(m.created_at),
                    direction=m.direction,
                    sender=m.sender,  # type: ignore[arg-type]
                    type=m.type,
                    text=m.text,
                    status=m.status,
                    intent=m.intent,
                    confidence=m.confidence,
                    source=m.source,
                )
                for m in rows
            ],
        )
