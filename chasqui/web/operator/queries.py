"""Read side of the inbox: the conversation list with its filters, and how each message is shown."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from chasqui.db.models import BusinessSettings, Contact, Conversation, Message, User

PAGE_SIZE = 100
MAX_SEARCH = 100
# "Tomar control": paused until a date no conversation reaches (the engine pauses while now < it).
TAKEOVER_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
_TAKEOVER_FROM = datetime(9000, 1, 1, tzinfo=UTC)

STATE_LABELS = {
    "bot": "Bot activo",
    "escalated": "Derivada a humano",
    "paused": "Pausada (operador)",
    "takeover": "Control humano",
}
FILTER_STATES = ("bot", "escalated", "paused")
SENDER_LABELS = {"customer": "Cliente", "bot": "Bot", "operator": "Operador", "system": "Sistema"}
STATUS_MARKS = {
    "queued": "enviando…",
    "sending": "enviando…",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓ leído",
    "played": "✓✓ reproducido",
    "failed": "⚠ no enviado",
    "local": "solo en el panel",  # attachments recorded before they were sent through WhatsApp
}
SILENT_KINDS = frozenset({"reaction", "edit", "revoke", "system", "request_welcome", "call_permission_reply"})


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def tenant_timezone(session: Session, tenant_id: int) -> ZoneInfo:
    name = session.scalar(select(BusinessSettings.timezone).where(BusinessSettings.tenant_id == tenant_id))
    try:
        return ZoneInfo(name or "America/Lima")
    except (KeyError, ValueError):
        return ZoneInfo("America/Lima")


def local_time(value: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """``14:05`` today, ``ayer 14:05``, else ``03/11 14:05``."""
    if value is None:
        return ""
    local = aware(value).astimezone(tz)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.date() == today - timedelta(days=1):
        return local.strftime("ayer %H:%M")
    return local.strftime("%d/%m %H:%M")


def age(since: datetime | None, now: datetime) -> str:
    """How long ago, in Spanish: ``hace 5 min``, ``hace 2 h 10 min``, ``hace 3 días``."""
    if since is None:
        return ""
    seconds = max(int((now - aware(since)).total_seconds()), 0)
    if seconds < 60:
        return "hace menos de 1 min"
    minutes = seconds // 60
    if minutes < 60:
        return f"hace {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"hace {hours} h" + (f" {minutes} min" if minutes else "")
    days = hours // 24
    return "hace 1 día" if days == 1 else f"hace {days} días"


def is_takeover(conversation: Conversation) -> bool:
    until = aware(conversation.paused_until)
    return conversation.state == "paused" and until is not None and until >= _TAKEOVER_FROM


def effective_state(conversation: Conversation, now: datetime) -> str:
    """bot | escalated | paused | takeover, as the bot sees it now (an expired pause is the bot)."""
    if conversation.state == "paused":
        until = aware(conversation.paused_until)
        if until is None or until <= now:
            return "bot"
        return "takeover" if until >= _TAKEOVER_FROM else "paused"
    return conversation.state


def message_label(message: Message | None) -> str:
    """One line for a message: its text, else its media summary, else its kind."""
    if message is None:
        return ""
    if message.text:
        return message.text
    media: dict[str, Any] = message.media or {}
    return str(media.get("summary") or f"[{message.type}]")


# -- labels ---------------------------------------------------------------------------------------
LABEL_MAX = 32
LABELS_MAX = 10
_LABEL_RE = re.compile(r"^[\w áéíóúüñÁÉÍÓÚÜÑ.+-]+$")


def parse_labels(raw: str) -> list[str]:
    """``"VIP, mayorista ,vip"`` → ``["vip", "mayorista"]``; ``ValueError`` (Spanish) on bad input."""
    labels: list[str] = []
    for part in raw.split(","):
        label = " ".join(part.split()).lower()
        if not label:
            continue
        if len(label) > LABEL_MAX:
            raise ValueError(f"Cada etiqueta puede tener hasta {LABEL_MAX} caracteres.")
        if not _LABEL_RE.fullmatch(label):
            raise ValueError("Las etiquetas solo pueden tener letras, números, espacios, '.', '+' o '-'.")
        if label not in labels:
            labels.append(label)
    if len(labels) > LABELS_MAX:
        raise ValueError(f"Se permiten hasta {LABELS_MAX} etiquetas por cliente.")
    return labels


def tenant_labels(session: Session, tenant_id: int) -> list[str]:
    found: set[str] = set()
    for labels in session.scalars(select(Contact.labels).where(Contact.tenant_id == tenant_id)):
        found.update(str(label) for label in labels or [])
    return sorted(found)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _label_condition(label: str) -> Any:
    """``contacts.labels`` (a JSON list) holds ``label``: a LIKE on its text, which works the same on
    SQLite (stored with \\u escapes), PostgreSQL and MySQL (stored as UTF-8)."""
    as_text = cast(Contact.labels, String)
    patterns = {json.dumps(label), json.dumps(label, ensure_ascii=False)}
    return or_(*(as_text.like(f"%{_escape_like(p)}%", escape="\\") for p in patterns))


# -- the conversation list ------------------------------------------------------------------------
@dataclass(frozen=True)
class InboxFilters:
    state: str = ""
    label: str = ""
    unread: bool = False
    mine: bool = False
    q: str = ""

    @classmethod
    def parse(cls, state: str = "", label: str = "", unread: str = "", mine: str = "", q: str = "") -> InboxFilters:
        return cls(
            state=state if state in FILTER_STATES else "",
            label=" ".join(label.split()).lower()[:LABEL_MAX],
            unread=unread in ("1", "on", "true"),
            mine=mine in ("1", "on", "true"),
            q=" ".join(q.split())[:MAX_SEARCH],
        )

    @property
    def active(self) -> bool:
        return bool(self.state or self.label or self.unread or self.mine or self.q)

    def query(self) -> str:
        """The filters as a query string (empty values left out)."""
        values = {"state": self.state, "label": self.label, "unread": "1" if self.unread else "",
                  "mine": "1" if self.mine else "", "q": self.q}
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True)
class ConversationRow:
    id: int
    customer: str
    phone: str
    state: str
    state_label: str
    last_text: str
    last_at: str
    last_from_customer: bool
    unread: int
    labels: list[str] = field(default_factory=list)
    assignee: str = ""


def _state_condition(state: str, now: datetime) -> Any:
    if state == "escalated":
        return Conversation.state == "escalated"
    if state == "paused":
        return and_(Conversation.state == "paused", Conversation.paused_until > now)
    return or_(
        Conversation.state == "bot",
        and_(
            Conversation.state == "paused",
            or_(Conversation.paused_until.is_(None), Conversation.paused_until <= now),
        ),
    )


def _search_condition(tenant_id: int, q: str) -> Any:
    pattern = f"%{_escape_like(q.lower())}%"
    digits = re.sub(r"\D", "", q)
    searched = aliased(Message)  # the list also joins the last message: keep them apart
    in_messages = (
        exists()
        .where(
            searched.tenant_id == tenant_id,
            searched.conversation_id == Conversation.id,
            func.lower(searched.text).like(pattern, escape="\\"),
        )
        .correlate(Conversation)
    )
    conditions = [
        func.lower(Contact.name).like(pattern, escape="\\"),
        func.lower(Contact.alias).like(pattern, escape="\\"),
        in_messages,
    ]
    if digits:
        conditions.append(Contact.phone.like(f"%{digits}%"))
    return or_(*conditions)


def conversation_rows(
    session: Session, tenant_id: int, filters: InboxFilters | None = None, *, user_id: int | None = None,
    now: datetime | None = None, limit: int = PAGE_SIZE,
) -> list[ConversationRow]:
    """The tenant's conversations matching ``filters``, latest activity first, with their last message."""
    filters = filters or InboxFilters()
    now = now or datetime.now(UTC)
    tz = tenant_timezone(session, tenant_id)
    last = (
        select(Message.conversation_id, func.max(Message.id).label("message_id"))
        .where(Message.tenant_id == tenant_id)
        .group_by(Message.conversation_id)
        .subquery()
    )
    query = (
        select(Conversation, Contact, Message, User.email, User.name)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(last, last.c.conversation_id == Conversation.id)
        .outerjoin(Message, Message.id == last.c.message_id)
        .outerjoin(User, User.id == Conversation.assignee_user_id)
        .where(Conversation.tenant_id == tenant_id, Contact.tenant_id == tenant_id)
    )
    if filters.state:
        query = query.where(_state_condition(filters.state, now))
    if filters.unread:
        query = query.where(Conversation.unread_count > 0)
    if filters.mine and user_id is not None:
        query = query.where(Conversation.assignee_user_id == user_id)
    if filters.label:
        query = query.where(_label_condition(filters.label))
    if filters.q:
        query = query.where(_search_condition(tenant_id, filters.q))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit)
    rows = []
    for conversation, contact, message, assignee_email, assignee_name in session.execute(query).all():
        state = effective_state(conversation, now)
        rows.append(
            ConversationRow(
                id=conversation.id,
                customer=display_name(contact),
                phone=contact.phone,
                state=state,
                state_label=STATE_LABELS.get(state, state),
                last_text=message_label(message)[:140],
                last_at=local_time(conversation.last_message_at, tz, now),
                last_from_customer=message is not None and message.direction == "in",
                unread=conversation.unread_count or 0,
                labels=list(contact.labels or []),
                assignee=(assignee_name or assignee_email or "") if conversation.assignee_user_id else "",
            )
        )
    return rows


def display_name(contact: Contact) -> str:
    return contact.alias or contact.name or f"+{contact.phone}"


# -- one message as the panel shows it ---------------------------------------------------------------
@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str
    sender: str
    sender_label: str
    # text | image | video | audio | document | sticker | location | contacts | order | interactive | event | other
    kind: str
    text: str
    at: str
    status: str
    status_mark: str
    intent: str
    confidence: str
    source: str
    media: dict[str, Any]
    media_url: str = ""  # a stored file the panel can show (operator attachments)
    map_url: str = ""
    caption: str = ""
    lines: list[str] = field(default_factory=list)  # contacts, order items, errors


_MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})


def _kind_of(message: Message, media: dict[str, Any]) -> str:
    kind = message.type or "text"
    if kind in SILENT_KINDS:
        return "event"
    if kind in _MEDIA_KINDS or kind in ("location", "contacts", "order"):
        return kind
    if kind in ("interactive", "button", "nfm_reply"):
        return "interactive"
    if kind == "text":
        return "text"
    return "other" if media or not message.text else "text"


def _lines(kind: str, media: dict[str, Any]) -> list[str]:
    if kind == "contacts":
        lines = []
        for card in media.get("contacts") or []:
            if not isinstance(card, dict):
                continue
            name = (card.get("name") or {}).get("formatted_name", "") if isinstance(card.get("name"), dict) else ""
            phones = ", ".join(
                str(p.get("phone") or p.get("wa_id") or "") for p in card.get("phones") or [] if isinstance(p, dict)
            )
            lines.append(" · ".join(part for part in (name, phones) if part))
        return [line for line in lines if line]
    if kind == "order":
        lines = []
        for item in media.get("items") or []:
            if isinstance(item, dict):
                price = item.get("item_price")
                lines.append(
                    f"{item.get('quantity', 1)} × {item.get('product_retailer_id', '?')}"
                    + (f" ({item.get('currency', '')} {price})" if price is not None else "")
                )
        return lines
    if kind == "other" and media.get("errors"):
        return [str(media["errors"])]
    return []


def _web_link(value: Any) -> str:
    """A media link the panel may show (a product photo sent by its catalog URL): http(s) only."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else ""


def _map_url(media: dict[str, Any]) -> str:
    lat, lon = media.get("latitude"), media.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return ""
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def message_view(message: Message, tz: ZoneInfo, now: datetime) -> MessageView:
    media: dict[str, Any] = dict(message.media or {})
    kind = _kind_of(message, media)
    text = message.text or ""
    caption = ""
    if kind in _MEDIA_KINDS:
        caption, text = text, str(media.get("summary") or kind)
    elif kind in ("location", "contacts", "order", "other") or (kind == "interactive" and not text):
        text = str(media.get("summary") or text or f"[{message.type}]")
    elif kind == "event":
        text = text or str(media.get("summary") or message.type)
    confidence = f"{message.confidence:.2f}" if message.confidence is not None else ""
    return MessageView(
        id=message.id,
        direction=message.direction,
        sender=message.sender,
        sender_label=SENDER_LABELS.get(message.sender, message.sender),
        kind=kind,
        text=text,
        at=local_time(message.created_at, tz, now),
        status=message.status or "",
        status_mark=STATUS_MARKS.get(message.status or "", message.status or ""),
        intent=message.intent or "",
        confidence=confidence,
        source=message.source or "",
        media=media,
        media_url=f"/media/{message.id}" if media.get("path") else _web_link(media.get("link")),
        map_url=_map_url(media) if kind == "location" else "",
        caption=caption,
        lines=_lines(kind, media),
    )


def history(session: Session, conversation: Conversation, tz: ZoneInfo, now: datetime, limit: int = 300
            ) -> list[MessageView]:
    rows = session.scalars(
        select(Message)
        .where(Message.tenant_id == conversation.tenant_id, Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return [message_view(m, tz, now) for m in reversed(rows)]
