"""Business hours from the tenant's settings."""

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


def local_now(business: Business, now: datetime) -> datetime:
    try:
        return now.astimezone(ZoneInfo(business.timezone))
    except (KeyError, ValueError):
        return now


def is_open(business: Business, now: datetime) -> bool:
    if not business.hours:
        return True
    local = local_now(business, now)
    span = _span(business.hours.get(DAYS[local.weekday()], ""))
    return bool(span and span[0] <= local.time() < span[1])


def next_opening(business: Business, now: datetime) -> str:
    """'mañana 09:00', 'hoy 10:00' or 'el lunes 09:00' (empty when no hours are set)."""
    local = local_now(business, now)
    for offset in range(8):
        day = local + timedelta(days=offset)
        span = _span(business.hours.get(DAYS[day.weekday()], ""))
        if not span or (offset == 0 and local.time() >= span[0]):
            continue
        when = "hoy" if offset == 0 else "mañana" if offset == 1 else f"el {DAY_NAMES[DAYS[day.weekday()]]}"
        return f"{when} a las {span[0]:%H:%M}"
    return ""


def describe_hours(business: Business) -> str:
    parts = []
    for day in DAYS:
        value = business.hours.get(day)
        parts.append(f"{DAY_NAMES[day]} {value.replace('-', ' a ')}" if value else f"{DAY_NAMES[day]} cerrado")
    return ", ".join(parts)


def hours_today(business: Business, now: datetime) -> str:
    local = local_now(business, now)
    value = business.hours.get(DAYS[local.weekday()])
    return f"hoy atendemos {value.replace('-', ' a ')}" if value else "hoy no abrimos"


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
        value = business.hours.get(day)
        name = DAY_NAMES[day]
        parts.append(f"el {name} atendemos de {value.replace('-', ' a ')}" if value else f"el {name} no abrimos")
    return "; ".join(parts)
