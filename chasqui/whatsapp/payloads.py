"""Typed, immutable views of the webhook bodies Meta POSTs (WhatsApp Cloud API).

One parsing seam: ``parse_events(body)`` walks EVERY ``entry[].changes[]`` and yields one event per
inbound message, status, echo (``smb_message_echoes``) or other notification (account, template,
call, phone-number, user-preference updates, value-level errors). It never raises: a piece that
does not validate becomes an ``OtherEvent`` / an ``UNKNOWN`` message that keeps its raw dict.

Models are tolerant (``extra="allow"``; ids and timestamps accept strings or numbers), because
Meta adds fields and kinds over time and two wire shapes are live at once (with and without
business-scoped user ids).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)


def _to_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_to_text)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    REQUEST_WELCOME = "request_welcome"
    EDIT = "edit"
    REVOKE = "revoke"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: str) -> MessageType:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


class StatusKind(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    DELETED = "deleted"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: str) -> StatusKind:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


# ---------------------------------------------------------------------------------- pieces
class Metadata(_Model):
    display_phone_number: Text = ""
    phone_number_id: Text = ""


class Profile(_Model):
    name: Text = ""


class ContactInfo(_Model):
    wa_id: Text = ""
    user_id: Text = ""
    profile: Profile | None = None


class ApiError(_Model):
    code: int | Text | None = None
    title: Text = ""
    message: Text = ""
    error_data: dict[str, Any] | None = None

    @property
    def details(self) -> str:
        return str((self.error_data or {}).get("details") or "")

    def describe(self) -> str:
        parts = [str(self.code) if self.code is not None else "", self.title or self.message, self.details]
        return " · ".join(p for p in parts if p)


class TextBody(_Model):
    body: Text = ""


class Media(_Model):
    id: Text = ""
    mime_type: Text = ""
    sha256: Text = ""
    caption: Text = ""
    filename: Text = ""
    url: Text = ""
    voice: bool = False
    animated: bool = False


class Location(_Model):
    latitude: float | None = None
    longitude: float | None = None
    name: Text = ""
    address: Text = ""
    url: Text = ""


class Reply(_Model):
    """A button or list row the customer tapped."""

    id: Text = ""
    title: Text = ""
    description: Text = ""


class FlowReply(_Model):
    response_json: Text = ""
    body: Text = ""
    name: Text = ""


class Interactive(_Model):
    type: Text = ""
    button_reply: Reply | None = None
    list_reply: Reply | None = None
    nfm_reply: FlowReply | None = None


class TemplateButton(_Model):
    payload: Text = ""
    text: Text = ""


class Reaction(_Model):
    message_id: Text = ""
    emoji: Text = ""


class Order(_Model):
    catalog_id: Text = ""
    text: Text = ""
    product_items: list[dict[str, Any]] = Field(default_factory=list)


class System(_Model):
    body: Text = ""
    type: Text = ""
    wa_id: Text = ""


class Context(_Model):
    from_: Text = Field(default="", alias="from")
    id: Text = ""
    forwarded: bool = False
    frequently_forwarded: bool = False


class InboundMessage(_Model):
    """A message from a customer (``value.messages[]``)."""

    id: Text = ""
    from_: Text = Field(default="", alias="from")
    from_user_id: Text = ""
    timestamp: Text = ""
    type: Text = "unknown"
    text: TextBody | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[dict[str, Any]] | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: System | None = None
    referral: dict[str, Any] | None = None
    context: Context | None = None
    edit: dict[str, Any] | None = None
    revoke: dict[str, Any] | None = None
    errors: list[ApiError] = Field(default_factory=list)

    @property
    def kind(self) -> MessageType:
        return MessageType.of(self.type)

    @property
    def media(self) -> Media | None:
        return {
            MessageType.IMAGE: self.image,
            MessageType.VIDEO: self.video,
            MessageType.AUDIO: self.audio,
            MessageType.DOCUMENT: self.document,
            MessageType.STICKER: self.sticker,
        }.get(self.kind)


class Echo(InboundMessage):
    """A message the business sent from the WhatsApp Business app (``smb_message_echoes``)."""

    to: Text = ""


class Status(_Model):
    """A delivery status of a message we sent (``value.statuses[]``)."""

    id: Text = ""
    status: Text = ""
    timestamp: Text = ""
    recipient_id: Text = ""
    errors: list[ApiError] = Field(default_factory=list)
    # Whatever the sender put in the request (Chasqui: "chasqui:<outbox row id>").
    biz_opaque_callback_data: Text = ""

    @property
    def kind(self) -> StatusKind:
        return StatusKind.of(self.status)


M = TypeVar("M", bound=_Model)
MessageT = TypeVar("MessageT", bound=InboundMessage)


# ---------------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Route:
    """Where a change belongs: the business phone number (and its WhatsApp Business Account)."""

    phone_number_id: str = ""
    waba_id: str = ""
    display_phone_number: str = ""


@dataclass(frozen=True)
class InboundEvent:
    route: Route
    message: InboundMessage
    contact_name: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def customer(self) -> str:
        """The customer's number (``from``; BSUID-era bodies may only carry a user id)."""
        return self.message.from_ or self.message.from_user_id


@dataclass(frozen=True)
class StatusEvent:
    route: Route
    status: Status
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class EchoEvent:
    route: Route
    echo: Echo
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class OtherEvent:
    """Anything else (account/template/call/phone-number updates, value-level errors, ...): kept."""

    route: Route
    field: str
    value: Any = field(repr=False)


Event = InboundEvent | StatusEvent | EchoEvent | OtherEvent


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _validate(model: type[M], raw: dict[str, Any]) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        log.warning("webhook: %s does not validate (%s errors); kept raw", model.__name__, exc.error_count())
        return None


def _fallback_message(model: type[MessageT], raw: dict[str, Any]) -> MessageT:
    """A message that did not validate: keep its id, sender and raw dict, type UNKNOWN."""
    return model.model_construct(
        id=_to_text(raw.get("id")) if isinstance(raw.get("id"), str | int) else "",
        from_=_to_text(raw.get("from")) if isinstance(raw.get("from"), str | int) else "",
        from_user_id="",
        timestamp="",
        type=MessageType.UNKNOWN.value,
        errors=[],
        to=_to_text(raw.get("to")) if isinstance(raw.get("to"), str | int) else "",
    )


def _contact_names(value: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for raw in _dicts(value.get("contacts")):
        contact = _validate(ContactInfo, raw)
        if contact is None or contact.profile is None or not contact.profile.name:
            continue
        for key in (contact.wa_id, contact.user_id):
            if key:
                names[key] = contact.profile.name
    return names


def _route(entry: dict[str, Any], value: dict[str, Any]) -> Route:
    metadata = _validate(Metadata, value["metadata"]) if isinstance(value.get("metadata"), dict) else None
    waba_id = entry.get("id")
    display = metadata.display_phone_number if metadata else value.get("display_phone_number")
    return Route(
        phone_number_id=metadata.phone_number_id if metadata else "",
        waba_id=str(waba_id) if isinstance(waba_id, str | int) else "",
        display_phone_number=str(display) if isinstance(display, str | int) else "",
    )


# Fields whose value carries messages, statuses or echoes; every other field is kept as it is.
MESSAGE_FIELDS = ("messages", "smb_message_echoes", "")


def _change_events(route: Route, field_name: str, value: Any) -> Iterator[Event]:
    if not isinstance(value, dict) or field_name not in MESSAGE_FIELDS:
        yield OtherEvent(route, field_name, value)
        return
    names = _contact_names(value)
    handled = False
    for raw in _dicts(value.get("messages")):
        handled = True
        message = _validate(InboundMessage, raw) or _fallback_message(InboundMessage, raw)
        sender = message.from_ or message.from_user_id
        yield InboundEvent(route, message, names.get(sender) or None, raw)
    for raw in _dicts(value.get("statuses")):
        handled = True
        status = _validate(Status, raw)
        if status is None:
            yield OtherEvent(route, f"{field_name}.statuses", raw)
        else:
            yield StatusEvent(route, status, raw)
    for raw in _dicts(value.get("message_echoes")):
        handled = True
        echo = _validate(Echo, raw) or _fallback_message(Echo, raw)
        yield EchoEvent(route, echo, raw)
    if value.get("errors"):
        handled = True
        yield OtherEvent(route, f"{field_name}.errors", value.get("errors"))
    if not handled:
        yield OtherEvent(route, field_name, value)


def parse_events(body: Any) -> list[Event]:
    """Every event of a webhook body, in order. Never raises; unknown shapes become ``OtherEvent``."""
    events: list[Event] = []
    if not isinstance(body, dict):
        return [OtherEvent(Route(), "body", body)]
    for entry in _dicts(body.get("entry")):
        for change in _dicts(entry.get("changes")):
            field_name = change.get("field")
            field_name = field_name if isinstance(field_name, str) else ""
            value = change.get("value")
            route = _route(entry, value if isinstance(value, dict) else {})
            events.extend(_change_events(route, field_name, value))
    return events


def routes_of(body: Any) -> list[Route]:
    """The distinct routes a body mentions (one per change), in order."""
    seen: list[Route] = []
    if not isinstance(body, dict):
        return seen
    for entry in _dicts(body.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            route = _route(entry, value if isinstance(value, dict) else {})
            if route not in seen:
                seen.append(route)
    return seen
