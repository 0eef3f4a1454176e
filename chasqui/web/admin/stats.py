"""The dashboard's figures for one tenant and a date range.

Queries stay portable across SQLite, PostgreSQL and MariaDB: rows are filtered by a UTC
timestamp range in SQL and grouped by local day and hour in Python (each backend spells date
functions and time zones differently).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import BusinessSettings, Contact, Conversation, Escalation, Message, Order

MAX_RANGE_DAYS = 366
DEFAULT_DAYS = 30
MESSAGE_ROW_LIMIT = 200_000
SOURCE_LABELS = {
    "ml": "Modelo ML",
    "llm": "LLM",
    "rule": "Reglas",
    "fallback": "Respuesta de respaldo",
    "human": "Personas",
    "none": "Sin respuesta",
}
KIND_LABELS = {
    "text": "Texto",
    "image": "Imagen",
    "audio": "Audio",
    "video": "Video",
    "document": "Documento",
    "sticker": "Sticker",
    "location": "Ubicación",
    "contacts": "Contactos",
    "interactive": "Botones / listas",
    "button": "Botón",
    "reaction": "Reacción",
}
_STOPWORDS_TEXT = """
a al algo algun alguna algunas alguno algunos ante antes aqui asi aun bien bueno buenas buenos cada como con
contra cual cuando de del desde donde dos e el ella ellas ello ellos en entre era es esa esas ese eso esos
esta estan estas este esto estos estoy fue ha hay hola la las le les lo los mas me mi mis mucho muy nada ni no
nos nosotros o otra otro para pero poco por porque pues que quien se sea si sin sobre solo son su sus tambien
te tengo ti tiene tu tus un una uno unos usted ustedes va vamos y ya yo q k pe ok oka okey gracias
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"[a-zñ]{3,}")


@dataclass(frozen=True)
class DateRange:
    start: date  # inclusive, local dates
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.start, time.min, tz).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tz).astimezone(UTC)
        return start, end


def parse_range(start: str | None, end: str | None, today: date) -> tuple[DateRange, list[str]]:
    """The range asked for (``desde``/``hasta`` as YYYY-MM-DD), or the last 30 days, with messages
    for anything unusable."""
    problems: list[str] = []

    def parse(text: str | None, label: str) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text.strip()[:10])
        except ValueError:
            problems.append(f"{label}: «{text[:20]}» no es una fecha válida (AAAA-MM-DD).")
            return None

    until = parse(end, "Hasta") or today
    since = parse(start, "Desde") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        problems.append("Desde: debe ser anterior o igual a «Hasta»; se muestran los últimos 30 días.")
        until, since = today, today - timedelta(days=DEFAULT_DAYS - 1)
    if (until - since).days >= MAX_RANGE_DAYS:
        problems.append(f"El rango máximo es de {MAX_RANGE_DAYS} días; se acortó.")
        since = until - timedelta(days=MAX_RANGE_DAYS - 1)
    return DateRange(since, until), problems


@dataclass
class Dashboard:
    range: DateRange
    per_day: list[tuple[str, int, int]] = field(default_factory=list)  # (day, in, out)
    per_hour: list[tuple[int, int]] = field(default_factory=list)  # (hour, inbound)
    kinds: list[tuple[str, int]] = field(default_factory=list)
    intents: list[tuple[str, int]] = field(default_factory=list)
    answered_by: list[tuple[str, int, float]] = field(default_factory=list)  # (label, count, share)
    top_customers: list[dict[str, Any]] = field(default_factory=list)
    words: list[tuple[str, int]] = field(default_factory=list)
    inbound: int = 0
    outbound: int = 0
    conversations: int = 0
    conversations_with_order: int = 0
    orders: int = 0
    orders_by_status: dict[str, int] = field(default_factory=dict)
    revenue: Decimal = Decimal("0.00")
    pending_revenue: Decimal = Decimal("0.00")
    escalations: int = 0
    currency_symbol: str = "S/"

    @property
    def conversion(self) -> float:
        return self.conversations_with_order / self.conversations if self.conversations else 0.0

    @property
    def escalation_rate(self) -> float:
        return self.escalations / self.conversations if self.conversations else 0.0


def tenant_timezone(session: Session, tenant_id: int) -> ZoneInfo:
    name = session.scalar(select(BusinessSettings.timezone).where(BusinessSettings.tenant_id == tenant_id))
    try:
        return ZoneInfo(name or "America/Lima")
    except (KeyError, ValueError):
        return ZoneInfo("America/Lima")


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c) or c == "\u0303")
    plain = unicodedata.normalize("NFC", plain)
    return [w for w in _WORD.findall(plain) if w not in STOPWORDS]


def build_dashboard(session: Session, tenant_id: int, period: DateRange) -> Dashboard:
    tz = tenant_timezone(session, tenant_id)
    start, end = period.utc_bounds(tz)
    board = Dashboard(range=period)
    board.currency_symbol = (
        session.scalar(select(BusinessSettings.currency_symbol).where(BusinessSettings.tenant_id == tenant_id)) or "S/"
    )
    _messages(session, tenant_id, start, end, tz, board)
    _orders(session, tenant_id, start, end, board)
    board.escalations = int(
        session.scalar(
            select(func.count(Escalation.id)).where(
                Escalation.tenant_id == tenant_id, Escalation.opened_at >= start, Escalation.opened_at < end
            )
        )
        or 0
    )
    return board


def _messages(session: Session, tenant_id: int, start: datetime, end: datetime, tz: ZoneInfo, board: Dashboard) -> None:
    rows = session.execute(
        select(
            Message.created_at,
            Message.direction,
            Message.sender,
            Message.type,
            Message.source,
            Message.intent,
            Message.conversation_id,
            Message.text,
        )
        .where(Message.tenant_id == tenant_id, Message.created_at >= start, Message.created_at < end)
        .order_by(Message.id)
        .limit(MESSAGE_ROW_LIMIT)
    ).all()
    per_day_in: Counter[date] = Counter()
    per_day_out: Counter[date] = Counter()
    per_hour: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    words: Counter[str] = Counter()
    customers: Counter[int] = Counter()
    conversations: set[int] = set()
    for created_at, direction, sender, kind, source, intent, conversation_id, text in rows:
        local = created_at.astimezone(tz)
        if direction == "in":
            board.inbound += 1
            per_day_in[local.date()] += 1
            per_hour[local.hour] += 1
            kinds[kind or "text"] += 1
            if intent:
                intents[intent] += 1
            customers[conversation_id] += 1
            conversations.add(conversation_id)
            if text:
                words.update(_words(text))
        else:
            board.outbound += 1
            per_day_out[local.date()] += 1
            if sender == "operator":
                answered["human"] += 1
            elif sender == "bot":
                answered[source or "none"] += 1
    board.per_day = [(d.isoformat(), per_day_in[d], per_day_out[d]) for d in board.range.days]
    board.per_hour = [(hour, per_hour[hour]) for hour in range(24)]
    board.kinds = [(KIND_LABELS.get(k, k), n) for k, n in kinds.most_common()]
    board.intents = intents.most_common()
    total = sum(answered.values())
    board.answered_by = [
        (SOURCE_LABELS.get(key, key), count, count / total if total else 0.0) for key, count in answered.most_common()
    ]
    board.words = words.most_common(25)
    board.conversations = len(conversations)
    board.top_customers = _top_customers(session, tenant_id, customers.most_common(10))
    board.conversations_with_order = _conversations_with_order(session, tenant_id, start, end, conversations)


def _top_customers(session: Session, tenant_id: int, top: list[tuple[int, int]]) -> list[dict[str, Any]]:
    if not top:
        return []
    ids = [conversation_id for conversation_id, _ in top]
    rows = session.execute(
        select(Conversation.id, Contact.name, Contact.alias, Contact.phone)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.tenant_id == tenant_id, Conversation.id.in_(ids))
    ).all()
    people = {cid: (alias or name or phone, phone) for cid, name, alias, phone in rows}
    return [
        {
            "conversation_id": cid,
            "name": people.get(cid, ("?", ""))[0],
            "phone": people.get(cid, ("", ""))[1],
            "messages": count,
        }
        for cid, count in top
    ]


def _conversations_with_order(
    session: Session, tenant_id: int, start: datetime, end: datetime, conversations: set[int]
) -> int:
    if not conversations:
        return 0
    ordered = set(
        session.scalars(
            select(Order.conversation_id).where(
                Order.tenant_id == tenant_id,
                Order.created_at >= start,
                Order.created_at < end,
                Order.conversation_id.is_not(None),
            )
        )
    )
    return len(ordered & conversations)


def _orders(session: Session, tenant_id: int, start: datetime, end: datetime, board: Dashboard) -> None:
    rows = session.execute(
        select(Order.status, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.tenant_id == tenant_id, Order.created_at >= start, Order.created_at < end)
        .group_by(Order.status)
    ).all()
    for status, count, total in rows:
        board.orders_by_status[status] = int(count)
        board.orders += int(count)
        amount = Decimal(str(total)).quantize(Decimal("0.01"))
        if status == "paid":
            board.revenue += amount
        elif status in ("pending_payment", "payment_reported"):  # reported payments are not verified yet
            board.pending_revenue += amount
