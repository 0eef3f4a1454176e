"""Database layer: engine and sessions (``session``), models (``models``), migrations."""

from chasqui.db.session import init_db, make_engine, session_scope

__all__ = ["init_db", "make_engine", "session_scope"]
