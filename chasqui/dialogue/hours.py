"""Business hours from the tenant's settings.

A day's value is one range ``"09:00-20:00"``, split shifts ``"07:00-14:00,16:00-20:00"`` or ``"closed"``;
a day not listed is closed (when no day is listed at all, the shop is always open)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chasqui.domain import Business

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "lunes", "tue": "martes", "wed": "miércoles", "thu": "jueves",
    "fri": "viernes", "sat": "sábado", "sun": "domingo",
}


def _span(value: str) -> tuple[time, time] | None:
    try:
        start, end = (part.strip() for part in value.split("-", 1))
        closing = time.max if end in ("24:00", "24:00:00") else time.fromisoformat(end)
        return time.fromisoformat(start), closing
    except ValueError:
        return None


def spans(value: str | None) -> list[tuple[time, time]]:
    """The shifts of a day's value, in order; ``[]`` when closed (``"closed"``, empty or unreadable)."""
    if not value or value.strip().lower() == "closed":
        return []
    found = [span for part in value.split(",") if (span := _span(part))]
    return sorted(found)


def day_spans(business: Business, day: str) -> list[tuple[time, time]]:
    """The shifts of ``day`` ("mon".."sun")."""
    return spans(business.hours.get(day))


def is_closed_day(business: Business, day: str) -> bool:
    """The shop does not open at all on ``day`` (only when it has hours at all)."""
    return bool(business.hours) and not day_spans(business, day)


def _spoken(value: str | None) -> str:
    """``"07:00-14:00,16:00-20:00"`` → ``"07:00 a 14:00 y 16:00 a 20:00"``; ``""`` when closed."""
    return " y ".join(f"{a:%H:%M} a {'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in spans(value))


def local_now(business: Business, now: datetime) -> datetime:
    try:
        return now.astimezone(ZoneInfo(business.timezone))
    except (KeyError, ValueError):
        return now


def is_open(business: Business, now: datetime) -> bool:
    if not business.hours:
        return True
    local = local_now(business, now)
    return any(start <= local.time() < end for start, end in day_spans(business, DAYS[local.weekday()]))


def next_opening(business: Business, now: datetime) -> str:
    """'mañana 09:00', 'hoy 10:00' or 'el lunes 09:00' (empty when no hours are set)."""
    local = local_now(business, now)
    for offset in range(8):
        day = local + timedelta(days=offset)
        for start, _end in day_spans(business, DAYS[day.weekday()]):
            if offset == 0 and local.time() >= start:
                continue
            when = "hoy" if offset == 0 else "mañana" if offset == 1 else f"el {DAY_NAMES[DAYS[day.weekday()]]}"
            return f"{when} a las {start:%H:%M}"
    return ""


def describe_hours(business: Business) -> str:
    parts = []
    for day in DAYS:
        value = _spoken(business.hours.get(day))
        parts.append(f"{DAY_NAMES[day]} {value}" if value else f"{DAY_NAMES[day]} cerrado")
    return ", ".join(parts)


def hours_today(business: Business, now: datetime) -> str:
    local = local_now(business, now)
    value = _spoken(business.hours.get(DAYS[local.weekday()]))
    return f"hoy atendemos {value}" if value else "hoy no abrimos"


_DAY_WORDS = {
    "lunes": "mon", "martes": "tue", "miercoles": "wed", "jueves": "thu", "viernes": "fri",
    "sabado": "sat", "sabados": "sat", "domingo": "sun", "domingos": "sun",
}


def days_in(folded: str) -> list[str]:
    """Day keys named in a folded text ("y los domingos" -> ["sun"])."""
    found = [_DAY_WORDS[w] for w in folded.split() if w in _DAY_WORDS]
    return list(dict.fromkeys(found))


def describe_days(business: Business, days: list[str]) -> str:
    parts = []
    for day in days:
        value = _spoken(business.hours.get(day))
        name = DAY_NAMES[day]
        parts.append(f"el {name} atendemos de {value}" if value else f"el {name} no abrimos")
    return "; ".join(parts)
