"""Declarative base, constraint naming and table options shared by every model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chasqui.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# utf8mb4 (emoji in messages) and a binary collation, so that uniqueness and comparisons are
# case- and accent-sensitive on MySQL/MariaDB exactly as on SQLite and PostgreSQL.
MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __table_args__ = MYSQL_TABLE_OPTIONS


def tenant_fk(nullable: bool = False, unique: bool = False) -> Mapped[int]:
    """``tenant_id``: indexed (or unique, for one-row-per-tenant tables), deleted with its tenant."""
    return mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"),
        index=not unique,
        unique=unique or None,
        nullable=nullable,
    )


def created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


def check_in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK constraint ``column IN (...)``, named ``ck_<table>_<column>``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=column)
