"""The operator half of the panel: inbox, escalations, canned responses (and live updates)."""

from fastapi import APIRouter

from chasqui.web import live
from chasqui.web.operator import canned, escalations, inbox

# Every router of the operator pages (the isolation test walks their routes).
ROUTERS = (inbox.router, escalations.router, canned.router, live.router)

router = APIRouter()
for _router in ROUTERS:
    router.include_router(_router)

__all__ = ["ROUTERS", "router"]
