"""Reading panel forms into typed values, with one clear Spanish message per problem.

``FormReader`` never raises: every reader returns a value (or None) and adds a message to
``errors`` when the input is missing, too long, of the wrong type or out of range. A handler
saves only when ``errors`` is empty, so bad input never leaves anything half-saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.datastructures import FormData

PHONE_RE = re.compile(r"^\d{8,15}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def clean_text(value: str) -> str:
    return value.replace("\r\n", "\n").strip()


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def parse_phone(value: str) -> str | None:
    digits = value.strip().lstrip("+").replace(" ", "").replace("-", "")
    return digits if PHONE_RE.fullmatch(digits) else None


def parse_decimal(value: Any, *, places: int = 2) -> Decimal | None:
    """A finite decimal with at most ``places`` decimals (spreadsheet floats rounded), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        number = Decimal(repr(value))
        rounded = number.quantize(Decimal(1).scaleb(-places)) if number.is_finite() else number
        if number.is_finite() and abs(number - rounded) < Decimal("0.000001"):
            number = rounded
    else:
        text = str(value).strip().replace(",", ".") if isinstance(value, str) else str(value)
        if isinstance(value, str) and text.lower().startswith(("s/", "s/.")):
            text = text[2:].lstrip(". ")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    if not number.is_finite() or number.as_tuple().exponent < -places:  # type: ignore[operator]
        return None
    return number


class FormReader:
    """Typed reads of a form; ``errors`` collects Spanish messages, ``raw`` the texts as typed."""

    def __init__(self, form: FormData | Mapping[str, Any]) -> None:
        self.form = form
        self.errors: list[str] = []
        self.raw: dict[str, Any] = {}

    def _get(self, name: str) -> str:
        value = self.form.get(name)
        text = value if isinstance(value, str) else ""
        self.raw[name] = text
        return text

    def _getlist(self, name: str) -> list[str]:
        if isinstance(self.form, FormData):
            values = [v for v in self.form.getlist(name) if isinstance(v, str)]
        else:
            value = self.form.get(name)
            values = list(value) if isinstance(value, list | tuple) else ([value] if isinstance(value, str) else [])
        self.raw[name] = values
        return values

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def text(self, name: str, label: str, *, required: bool = False, max_len: int = 255) -> str:
        value = clean_text(self._get(name))
        if has_control_chars(value):
            self.error(f"{label}: contiene caracteres no válidos.")
            return ""
        if required and not value:
            self.error(f"{label}: es obligatorio.")
        if len(value) > max_len:
            self.error(f"{label}: es demasiado largo (máximo {max_len} caracteres).")
        return value

    def code(self, name: str, label: str, *, required: bool = True) -> str:
        value = self.text(name, label, required=required, max_len=64)
        if value and not CODE_RE.fullmatch(value):
            self.error(f"{label}: usa solo letras, números, «.», «_» o «-» (máximo 64).")
        return value

    def integer(self, name: str, label: str, *, low: int, high: int, default: int | None = None) -> int | None:
        text = self._get(name).strip()
        if not text:
            if default is None:
                self.error(f"{label}: es obligatorio.")
            return default
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            self.error(f"{label}: debe ser un número entero.")
            return None
        value = int(text)
        if not low <= value <= high:
            self.error(f"{label}: debe estar entre {low} y {high}.")
            return None
        return value

    def decimal(
        self,
        name: str,
        label: str,
        *,
        low: Decimal = Decimal(0),
        high: Decimal = Decimal("9999999999.99"),
        places: int = 2,
        required: bool = True,
    ) -> Decimal | None:
        text = self._get(name).strip()
        if not text:
            if required:
                self.error(f"{label}: es obligatorio.")
            return None
        value = parse_decimal(text, places=places)
        if value is None:
            self.error(f"{label}: no es un número válido (máximo {places} decimales).")
            return None
        if not low <= value <= high:
            self.error(f"{label}: debe estar entre {low} y {high}.")
            return None
        return value

    def boolean(self, name: str) -> bool:
        return self._get(name).strip().lower() in ("on", "1", "true", "si", "sí", "yes")

    def choice(self, name: str, label: str, options: Sequence[str], *, required: bool = True) -> str | None:
        value = self._get(name).strip()
        if not value and not required:
            return None
        if value not in options:
            self.error(f"{label}: elige una opción de la lista.")
            return None
        return value

    def lines(self, name: str, label: str, *, max_items: int = 50, max_len: int = 100) -> list[str]:
        text = self._get(name)
        if has_control_chars(text):
            self.error(f"{label}: contiene caracteres no válidos.")
            return []
        items: list[str] = []
        for line in clean_text(text).split("\n"):
            for part in line.split(","):
                part = part.strip()
                if part and part not in items:
                    items.append(part)
        if len(items) > max_items:
            self.error(f"{label}: como máximo {max_items} elementos.")
        for item in items:
            if len(item) > max_len:
                self.error(f"{label}: «{item[:30]}…» es demasiado largo (máximo {max_len} caracteres).")
        return items

    def phones(self, name: str, label: str, *, max_items: int = 20) -> list[str]:
        phones: list[str] = []
        for item in self.lines(name, label, max_items=max_items, max_len=20):
            phone = parse_phone(item)
            if phone is None:
                self.error(
                    f"{label}: «{item}» no es un teléfono válido (solo dígitos con el código de país, "
                    "p. ej. 51987654321)."
                )
            elif phone not in phones:
                phones.append(phone)
        return phones

    def url(self, name: str, label: str, *, max_len: int = 1024) -> str | None:
        value = self.text(name, label, max_len=max_len)
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            self.error(f"{label}: debe ser una dirección web completa (https://...).")
            return None
        return value

    def day(self, name: str, label: str) -> date | None:
        text = self._get(name).strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.error(f"{label}: no es una fecha válida (AAAA-MM-DD).")
            return None

    def texts(self, name: str, label: str, *, max_items: int = 20, max_len: int = 2000) -> list[str]:
        values: list[str] = []
        for raw in self._getlist(name):
            value = clean_text(raw)
            if not value:
                continue
            if has_control_chars(value):
                self.error(f"{label}: contiene caracteres no válidos.")
            elif len(value) > max_len:
                self.error(f"{label}: un texto es demasiado largo (máximo {max_len} caracteres).")
            values.append(value)
        if len(values) > max_items:
            self.error(f"{label}: como máximo {max_items} variantes.")
        return values


# ------------------------------------------------------------------ pydantic errors in Spanish

_KIND_MESSAGES = {
    "missing": "es obligatorio",
    "string_type": "debe ser texto",
    "int_type": "debe ser un número entero",
    "int_parsing": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "bool_type": "debe ser sí o no",
    "bool_parsing": "debe ser sí o no",
    "list_type": "debe ser una lista",
    "date_type": "no es una fecha válida (AAAA-MM-DD)",
    "date_parsing": "no es una fecha válida (AAAA-MM-DD)",
    "date_from_datetime_parsing": "no es una fecha válida (AAAA-MM-DD)",
    "date_from_datetime_inexact": "no es una fecha válida (AAAA-MM-DD)",
    "string_too_short": "no puede estar vacío",
    "string_pattern_mismatch": "tiene un formato no válido",
    "extra_forbidden": "campo desconocido",
    "decimal": "no es un número válido",
    "money": "no es un monto válido (no negativo, máximo 2 decimales)",
    "percent": "debe ser mayor que 0 y como máximo 100",
    "code": "usa solo letras, números, «.», «_» o «-» (máximo 64)",
    "phone": "no es un teléfono válido",
}


def _spanish(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in ("money", "decimal") and "negative" in str(error.get("msg", "")):
        return "no puede ser negativo"
    if kind in _KIND_MESSAGES:
        return _KIND_MESSAGES[kind]
    if kind == "string_too_long":
        return f"es demasiado largo (máximo {ctx.get('max_length')} caracteres)"
    if kind in ("greater_than_equal", "greater_than"):
        return f"debe ser como mínimo {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"debe ser como máximo {ctx.get('le', ctx.get('lt'))}"
    if kind == "too_short":
        return f"necesita al menos {ctx.get('min_length')} elementos"
    return "no es válido"


def spanish_problems(exc: ValidationError, labels: Mapping[str, str]) -> list[str]:
    """One ``<campo>: <mensaje>`` line per pydantic error, fields named by ``labels``."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        parts = [
            str(p) for p in error["loc"] if not isinstance(p, int) and p not in ("buy_x_get_y", "bundle", "percent")
        ]
        field = parts[-1] if parts else ""
        label = labels.get(field, field or "Dato")
        line = f"{label}: {_spanish(error)}."
        if line not in lines:
            lines.append(line)
    return lines
