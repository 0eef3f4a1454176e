"""Compatibility names for code written against the first, minimal panel module.

The panel now lives in ``chasqui.web.operator`` (inbox, escalations, canned responses),
``chasqui.web.access`` (tenant-scoped lookups, CSRF) and ``chasqui.web.layout`` (templates).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from chasqui.web.access import access_conversation
from chasqui.web.auth import PanelUser, load_panel_user
from chasqui.web.operator.inbox import router
from chasqui.web.operator.queries import (
    PAGE_SIZE,
    STATE_LABELS,
    ConversationRow,
    conversation_rows,
    message_label,
    tenant_timezone,
)

_timezone = tenant_timezone


def _user_or_redirect(session: Session, request: Request) -> PanelUser | Response:
    user = load_panel_user(session, request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return user


__all__ = [
    "PAGE_SIZE",
    "STATE_LABELS",
    "ConversationRow",
    "access_conversation",
    "conversation_rows",
    "message_label",
    "router",
]
