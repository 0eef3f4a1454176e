"""Tenant import and export: the YAML/JSON tenant file ⇄ the database.

``import_tenant`` creates or updates a tenant by slug. It is idempotent: rows are updated in
place, products / payment methods / zones / promotions / templates missing from the file are
removed, nothing is duplicated, and re-importing an unchanged file writes nothing. The whole
file is validated before the first write, and all writes happen in the caller's transaction
(``session_scope``), so a bad file changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chasqui import crypto
from chasqui.db.models import (
    BotSettings,
    BusinessSettings,
    DeliveryZone,
    NotificationSettings,
    PaymentMethod,
    Product,
    ProductVariant,
    Promotion,
    ReplyTemplate,
    Tenant,
)
from chasqui.tenants.schema import TenantFile, TenantFileError, parse_tenant_data
from chasqui.tenants.snapshot import UnknownTenantError, get_tenant, stored_templates, whatsapp_account
from chasqui.tenants.template_defaults import default_templates

__all__ = [
    "TenantFileError",
    "UnknownTenantError",
    "default_templates",
    "dump_tenant_yaml",
    "export_tenant",
    "import_tenant",
    "import_tenant_file",
    "load_tenant_file",
]


# ------------------------------------------------------------------ reading files


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


MAX_FILE_BYTES = 5 * 1024 * 1024  # a tenant file (catalog included) is far smaller
MAX_DEPTH = 32  # the schema nests about 5 levels
MAX_NODES = 200_000  # values after YAML aliases are expanded ("billion laughs" stops here)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise TenantFileError([f"{path}: file not found"])
    if path.is_dir():
        raise TenantFileError([f"{path}: is a folder, not a tenant file"])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TenantFileError([f"{path}: file too large ({size:,} bytes; at most {MAX_FILE_BYTES:,})"])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TenantFileError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise TenantFileError([f"{path}: cannot read ({exc.strerror})"]) from None


def _parse_text(path: Path, text: str) -> Any:
    try:
        data = _parse_unchecked(path, text)
    except RecursionError:
        raise TenantFileError([f"{path}: nested too deeply (at most {MAX_DEPTH} levels)"]) from None
    _check_shape(path, data)
    return data


def _check_shape(path: Path, data: Any) -> None:
    """Refuse data nested more than ``MAX_DEPTH`` levels or holding more than ``MAX_NODES`` values
    once YAML aliases are expanded (the walk stops at the first excess, so it is cheap)."""
    stack, nodes = [(data, 1)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise TenantFileError([f"{path}: nested too deeply (at most {MAX_DEPTH} levels)"])
        if nodes > MAX_NODES:
            raise TenantFileError([f"{path}: too many values (at most {MAX_NODES:,}, YAML aliases expanded)"])
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _parse_unchecked(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise TenantFileError(
                [f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})"]
            ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise TenantFileError([f"{path}: {where}invalid YAML ({what})"]) from None
    except yaml.YAMLError as exc:
        raise TenantFileError([f"{path}: invalid YAML ({exc})"]) from None


def load_tenant_file(path: str | Path) -> TenantFile:
    """Read and validate a tenant file (.yaml, .yml or .json). Raises ``TenantFileError``."""
    path = Path(path)
    return parse_tenant_data(_parse_text(path, _read_text(path)))


def _as_tenant_file(source: str | Path | Mapping[str, Any] | TenantFile) -> TenantFile:
    if isinstance(source, TenantFile):
        return source if source.slug else parse_tenant_data(source.model_dump(mode="json"))
    if isinstance(source, Mapping):
        return parse_tenant_data(dict(source))
    return load_tenant_file(source)


# ------------------------------------------------------------------ reply templates


def merged_templates(overrides: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Defaults with the tenant file's ``reply_templates`` replacing whole keys."""
    merged = default_templates()
    merged.update({key: list(variants) for key, variants in overrides.items()})
    return merged


# ------------------------------------------------------------------ import

Row = TypeVar("Row")


def _assign(row: Any, values: Mapping[str, Any]) -> None:
    """Set only what differs, so an unchanged file issues no UPDATE."""
    for attr, value in values.items():
        if getattr(row, attr) != value:
            setattr(row, attr, value)


def _sync(
    session: Session,
    model: type[Row],
    tenant_id: int,
    key: Callable[[Row], Any],
    wanted: Iterable[tuple[Any, dict[str, Any]]],
) -> None:
    """Make the tenant's rows of ``model`` equal to ``wanted`` (key → column values)."""
    existing = {
        key(row): row
        for row in session.scalars(select(model).where(model.tenant_id == tenant_id))  # type: ignore[attr-defined]
    }
    for row_key, values in wanted:
        row = existing.pop(row_key, None)
        if row is None:
            session.add(model(tenant_id=tenant_id, **values))
        else:
            _assign(row, values)
    for row in existing.values():
        session.delete(row)


def _secret(current: str | None, wanted: str, secret_key: str | None) -> str | None:
    """Encrypt ``wanted``; keep the stored ciphertext when it already holds that value."""
    if not wanted:
        return None
    if current:
        try:
            if crypto.decrypt(current, secret_key) == wanted:
                return current
        except crypto.DecryptionError:
            pass
    return crypto.encrypt(wanted, secret_key)


def _check_conflicts(session: Session, data: TenantFile, tenant: Tenant | None) -> None:
    if data.whatsapp is None:
        return
    other = session.scalar(select(Tenant).where(Tenant.phone_number_id == data.whatsapp.phone_number_id))
    if other is not None and (tenant is None or other.id != tenant.id):
        raise TenantFileError([f"whatsapp.phone_number_id: already used by tenant {other.slug!r}"])


def _apply_tenant(tenant: Tenant, data: TenantFile, secret_key: str | None) -> None:
    wa = data.whatsapp
    _assign(
        tenant,
        {
            "name": data.business.name,
            "phone_number_id": wa.phone_number_id if wa else None,
            "display_phone_number": (wa.display_phone_number or None) if wa else None,
            "waba_id": (wa.waba_id or None) if wa else None,
        },
    )
    _assign(
        tenant,
        {
            "access_token_encrypted": _secret(
                tenant.access_token_encrypted, wa.access_token if wa else "", secret_key
            ),
            "app_secret_encrypted": _secret(
                tenant.app_secret_encrypted, wa.app_secret if wa else "", secret_key
            ),
            "verify_token_encrypted": _secret(
                tenant.verify_token_encrypted, wa.verify_token if wa else "", secret_key
            ),
            "verify_token_hash": crypto.keyed_hash(wa.verify_token, secret_key) if wa and wa.verify_token else None,
        },
    )


def _apply_settings(tenant: Tenant, data: TenantFile) -> None:
    biz, bot = data.business, data.bot
    if tenant.business is None:
        tenant.business = BusinessSettings()
    _assign(
        tenant.business,
        {
            "description": biz.description,
            "country": biz.country,
            "language": biz.language,
            "timezone": biz.timezone,
            "currency": biz.currency,
            "currency_symbol": biz.currency_symbol,
            "address": biz.address,
            "hours": dict(biz.hours),
            "delivery_enabled": biz.delivery.enabled,
            "pickup_address": biz.delivery.pickup_address,
            "free_delivery_over": biz.delivery.free_over,
            "min_order": biz.delivery.min_order,
            "orders_when_closed": biz.orders_when_closed,
            "policies": [p.model_dump(mode="json") for p in biz.policies],
            "haggling": biz.haggling,
            "faq": [f.model_dump(mode="json") for f in data.knowledge.faq],
            "documents": list(data.knowledge.documents),
        },
    )
    if tenant.bot is None:
        tenant.bot = BotSettings()
    _assign(
        tenant.bot,
        {
            "name": bot.name,
            "personality": bot.personality,
            "greeting": bot.greeting,
            "mode": bot.mode,
            "confidence_threshold": bot.confidence_threshold,
            "context_messages": bot.context_messages,
            "escalation_keywords": list(bot.escalation_keywords),
            "intervention_enabled": bot.intervention.enabled,
            "intervention_timeout_seconds": bot.intervention.timeout_seconds,
            "operator_numbers": list(bot.intervention.operator_numbers),
            "roles": [r.model_dump(mode="json") for r in data.roles] or None,
            "flows": data.flows.model_dump(mode="json", exclude_defaults=True) if data.flows else None,
        },
    )
    if tenant.notifications is None:
        tenant.notifications = NotificationSettings()
    _assign(
        tenant.notifications,
        {
            "notify_sales": data.notifications.notify_sales,
            "notify_escalations": data.notifications.notify_escalations,
            "numbers": list(data.notifications.numbers),
            "template_name": data.notifications.template_name,
            "template_language": data.notifications.template_language,
        },
    )


def _apply_collections(session: Session, tenant_id: int, data: TenantFile) -> None:
    _sync(
        session,
        PaymentMethod,
        tenant_id,
        lambda r: r.code,
        (
            (
                m.code,
                {"code": m.code, "name": m.name, "details": m.details, "enabled": m.enabled, "position": i},
            )
            for i, m in enumerate(data.business.payment_methods)
        ),
    )
    _sync(
        session,
        DeliveryZone,
        tenant_id,
        lambda r: r.name,
        (
            (z.name, {"name": z.name, "fee": z.fee, "eta": z.eta, "aliases": list(z.aliases), "position": i})
            for i, z in enumerate(data.business.delivery.zones)
        ),
    )
    _sync(
        session,
        Product,
        tenant_id,
        lambda r: r.sku,
        ((p.sku, _product_values(p, i)) for i, p in enumerate(data.catalog)),
    )
    session.flush()  # products exist (ids) and removed ones took their variants with them
    product_ids = dict(session.execute(select(Product.sku, Product.id).where(Product.tenant_id == tenant_id)).all())
    _sync(
        session,
        ProductVariant,
        tenant_id,
        lambda r: r.sku,
        (
            (v.sku, _variant_values(v, product_ids[p.sku], i))
            for p in data.catalog
            for i, v in enumerate(p.variants)
        ),
    )
    _sync(
        session,
        Promotion,
        tenant_id,
        lambda r: r.code,
        ((p.code, _promotion_values(p, i)) for i, p in enumerate(data.promotions)),
    )
    templates = merged_templates(data.reply_templates)
    _sync(
        session,
        ReplyTemplate,
        tenant_id,
        lambda r: (r.key, r.variant),
        (
            ((key, n), {"key": key, "variant": n, "text": text})
            for key, variants in templates.items()
            for n, text in enumerate(variants)
        ),
    )


def _product_values(p: Any, position: int) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "name": p.name,
        "category": p.category,
        "price": p.price,
        "stock": p.stock,
        "unit": p.unit,
        "description": p.description,
        "aliases": list(p.aliases),
        "image_url": p.image_url,
        "active": p.active,
        "position": position,
        "sold_by": p.sold_by,
        "min_quantity": p.min_quantity,
        "step": p.step,
        "sold_by_amount": p.sold_by_amount,
        "modifiers": [m.model_dump(mode="json") for m in p.modifiers],
        "variant_options": list(p.variant_options),
    }


def _variant_values(v: Any, product_id: int, position: int) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "sku": v.sku,
        "options": dict(v.options),
        "stock": v.stock,
        "price": v.price,
        "active": v.active,
        "position": position,
    }


def _promotion_values(p: Any, position: int) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "description": p.description,
        "sku": p.sku,
        "rule": p.rule.model_dump(mode="json"),
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "active": p.active,
        "position": position,
    }


def import_tenant(
    session: Session,
    source: str | Path | Mapping[str, Any] | TenantFile,
    *,
    secret_key: str | None = None,
) -> Tenant:
    """Create or update the tenant described by ``source`` (a file path, a dict or a TenantFile).

    Raises ``TenantFileError`` before writing anything when the file is not valid. Flushes but
    does not commit: run it inside ``session_scope`` (or commit yourself).
    """
    data = _as_tenant_file(source)
    assert data.slug is not None
    merged_templates(data.reply_templates)  # a broken defaults file fails before any write
    tenant = session.scalar(select(Tenant).where(Tenant.slug == data.slug))
    _check_conflicts(session, data, tenant)
    if tenant is None:
        tenant = Tenant(slug=data.slug, name=data.business.name)
        session.add(tenant)
    _apply_tenant(tenant, data, secret_key)
    _apply_settings(tenant, data)
    session.flush()
    _apply_collections(session, tenant.id, data)
    session.flush()
    return tenant


def import_tenant_file(engine: Engine, source: str | Path | Mapping[str, Any]) -> str:
    """Import in its own transaction (for the CLI); returns the tenant's slug."""
    from chasqui.db.session import session_scope

    with session_scope(engine) as session:
        return import_tenant(session, source).slug


# ------------------------------------------------------------------ export


def export_tenant(session: Session, slug: str | int, *, secret_key: str | None = None) -> dict[str, Any]:
    """The tenant as a tenant-file dict (same shape as tenant.example.yaml; secrets decrypted).

    ``reply_templates`` lists only the keys that differ from the defaults.
    """
    tenant = get_tenant(session, slug)
    tid = tenant.id
    biz = tenant.business or BusinessSettings()
    bot = tenant.bot or BotSettings()
    notes = tenant.notifications or NotificationSettings()

    def rows(model: Any) -> list[Any]:
        query = select(model).where(model.tenant_id == tid).order_by(model.position, model.id)
        return list(session.scalars(query))

    variants: dict[int, list[ProductVariant]] = {}
    for variant in rows(ProductVariant):
        variants.setdefault(variant.product_id, []).append(variant)

    data: dict[str, Any] = {
        "slug": tenant.slug,
        "business": {
            "name": tenant.name,
            "description": biz.description or "",
            "country": biz.country or "PE",
            "language": biz.language or "es-PE",
            "timezone": biz.timezone or "America/Lima",
            "currency": biz.currency or "PEN",
            "currency_symbol": biz.currency_symbol or "S/",
            "address": biz.address or "",
            "hours": dict(biz.hours or {}),
            "payment_methods": [
                {"code": m.code, "name": m.name, "details": m.details, "enabled": m.enabled}
                for m in rows(PaymentMethod)
            ],
            "delivery": {
                "enabled": bool(biz.delivery_enabled),
                "pickup_address": biz.pickup_address or "",
                "zones": [
                    {"name": z.name, "fee": z.fee, "eta": z.eta, **({"aliases": z.aliases} if z.aliases else {})}
                    for z in rows(DeliveryZone)
                ],
                "free_over": biz.free_delivery_over,
                "min_order": biz.min_order,
            },
            **({"policies": list(biz.policies)} if biz.policies else {}),
            "haggling": biz.haggling,
            **({} if biz.orders_when_closed else {"orders_when_closed": False}),
        },
        "bot": {
            "name": bot.name or "Asistente",
            "personality": bot.personality or "",
            "greeting": bot.greeting or "",
            "mode": bot.mode or "sales",
            "confidence_threshold": bot.confidence_threshold
            if bot.confidence_threshold is not None
            else "0.80",
            "context_messages": bot.context_messages if bot.context_messages is not None else 5,
            "escalation_keywords": list(bot.escalation_keywords or []),
            "intervention": {
                "enabled": True if bot.intervention_enabled is None else bot.intervention_enabled,
                "timeout_seconds": bot.intervention_timeout_seconds or 120,
                "operator_numbers": list(bot.operator_numbers or []),
            },
        },
        "catalog": [
            {
                "sku": p.sku,
                "name": p.name,
                "category": p.category,
                "price": p.price,
                "stock": p.stock,
                "unit": p.unit,
                "description": p.description,
                "aliases": list(p.aliases or []),
                "image_url": p.image_url,
                "active": p.active,
                **_export_catalog_v2(p, variants.get(p.id, [])),
            }
            for p in rows(Product)
        ],
        "promotions": [
            {
                "code": p.code,
                "name": p.name,
                "description": p.description,
                "sku": p.sku,
                "rule": dict(p.rule or {}),
                "valid_from": p.valid_from,
                "valid_to": p.valid_to,
                "active": p.active,
            }
            for p in rows(Promotion)
        ],
        "notifications": {
            "notify_sales": True if notes.notify_sales is None else notes.notify_sales,
            "notify_escalations": True if notes.notify_escalations is None else notes.notify_escalations,
            "numbers": list(notes.numbers or []),
            "template_name": notes.template_name or "",
            "template_language": notes.template_language or "es",
        },
        "whatsapp": _export_whatsapp(tenant, secret_key),
        "reply_templates": _template_overrides(session, tid),
    }
    if bot.flows:
        data["flows"] = dict(bot.flows)
    if bot.roles:
        data["roles"] = list(bot.roles)
    if biz.faq or biz.documents:
        data["knowledge"] = {"faq": list(biz.faq or []), "documents": list(biz.documents or [])}
    # Validate what we produce, then dump with decimals and dates as strings.
    exported = TenantFile.model_validate(data).model_dump(mode="json", exclude_none=True)
    if not exported.get("reply_templates"):
        exported.pop("reply_templates", None)
    _drop_v2_defaults(exported)
    if "flows" in exported:
        exported["flows"] = dict(bot.flows or {})  # as imported: only the keys the file gave
    knowledge = exported.get("knowledge") or {}
    for key in ("faq", "documents"):
        if not knowledge.get(key):
            knowledge.pop(key, None)
    if not knowledge:
        exported.pop("knowledge", None)
    return exported


_V2_DEFAULTS = {"sold_by": "unit", "sold_by_amount": False, "variant_options": [], "variants": [], "modifiers": []}


def _drop_v2_defaults(exported: dict[str, Any]) -> None:
    """Version-2 keys left at their defaults are not written (a version-1 tenant exports as before)."""
    business = exported.get("business") or {}
    if not business.get("policies"):
        business.pop("policies", None)
    for zone in (business.get("delivery") or {}).get("zones") or []:
        if not zone.get("aliases"):
            zone.pop("aliases", None)
    for product in exported.get("catalog") or []:
        for key, default in _V2_DEFAULTS.items():
            if key in product and product[key] == default:
                del product[key]


def _export_catalog_v2(p: Product, variants: list[ProductVariant]) -> dict[str, Any]:
    """A product's version-2 keys, only where they differ from the defaults (a version-1 catalog
    exports as before)."""
    out: dict[str, Any] = {}
    if p.sold_by and p.sold_by != "unit":
        out["sold_by"] = p.sold_by
    if p.min_quantity is not None:
        out["min_quantity"] = p.min_quantity
    if p.step is not None:
        out["step"] = p.step
    if p.sold_by_amount:
        out["sold_by_amount"] = True
    if p.variant_options:
        out["variant_options"] = list(p.variant_options)
    if variants:
        out["variants"] = [
            {"sku": v.sku, "options": dict(v.options or {}), "stock": v.stock, "price": v.price, "active": v.active}
            for v in variants
        ]
    if p.modifiers:
        out["modifiers"] = list(p.modifiers)
    return out


def _export_whatsapp(tenant: Tenant, secret_key: str | None) -> dict[str, Any] | None:
    account = whatsapp_account(tenant, secret_key)
    if account is None:
        return None
    return {
        "phone_number_id": account.phone_number_id,
        "display_phone_number": tenant.display_phone_number or "",
        "waba_id": tenant.waba_id or "",
        "access_token": account.access_token,
        "app_secret": account.app_secret,
        "verify_token": account.verify_token,
    }


def _template_overrides(session: Session, tenant_id: int) -> dict[str, list[str]]:
    stored = stored_templates(session, tenant_id)
    defaults = default_templates()
    return {key: variants for key, variants in stored.items() if defaults.get(key) != variants}


def dump_tenant_yaml(data: Mapping[str, Any]) -> str:
    """A tenant-file dict as YAML text (UTF-8, keys in file order)."""
    return yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False, width=110)
