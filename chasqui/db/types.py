"""Portable column types: the same Python values on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, LargeBinary, Numeric, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_MYSQL = ("mysql", "mariadb")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite and MySQL store the UTC wall time (DATETIME(6) on
    MySQL, microseconds kept). Naive datetimes are refused: they are almost always a bug
    (``datetime.utcnow()``, local time).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: use a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # defensive: SQLite rows written by hand
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON: JSONB on PostgreSQL; Python None is stored as SQL NULL.
JSONType = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
# Large binary blobs (model artifacts): BLOB is only 64 KiB on MySQL.
BlobType = LargeBinary().with_variant(mysql.LONGBLOB(), *_MYSQL)
# Long text (raw webhook bodies): TEXT is only 64 KiB on MySQL.
LongText = Text().with_variant(mysql.LONGTEXT(), *_MYSQL)


def Money() -> Numeric:  # noqa: N802 - reads like a type
    """An amount of money: exact decimal with 2 places."""
    return Numeric(12, 2, asdecimal=True)


def Quantity() -> Numeric:  # noqa: N802 - reads like a type
    """A stock or cart/order quantity: exact decimal with 3 places (1.5 kg, 0.25 l, or 3 units)."""
    return Numeric(12, 3, asdecimal=True)
