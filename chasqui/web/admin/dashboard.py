"""The dashboard page (owner/admin): messages, customers, intents, who answered, sales, escalations."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chasqui.web.admin.common import admin_access, page
from chasqui.web.admin.stats import Dashboard, build_dashboard, parse_range, tenant_timezone
from chasqui.web.layout import vendor_url

router = APIRouter(prefix="/admin")

CHART_FILES = ("chart.umd.min.js", "chart.umd.js")


def chart_script() -> str | None:
    return next((url for url in (vendor_url(name) for name in CHART_FILES) if url), None)


def chart_data(board: Dashboard) -> dict[str, Any]:
    return {
        "per_day": {
            "labels": [day[5:] for day, _, _ in board.per_day],
            "inbound": [n for _, n, _ in board.per_day],
            "outbound": [n for _, _, n in board.per_day],
        },
        "per_hour": {"labels": [f"{h:02d}h" for h, _ in board.per_hour], "values": [n for _, n in board.per_hour]},
        "kinds": {"labels": [k for k, _ in board.kinds], "values": [n for _, n in board.kinds]},
        "intents": {"labels": [k for k, _ in board.intents[:12]], "values": [n for _, n in board.intents[:12]]},
        "answered": {"labels": [k for k, _, _ in board.answered_by], "values": [n for _, n, _ in board.answered_by]},
    }


@router.get("/dashboard")
def dashboard(request: Request, desde: str | None = None, hasta: str | None = None) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "dashboard")
        tz = tenant_timezone(session, access.tenant_id)
        period, problems = parse_range(desde, hasta, datetime.now(tz).date())
        board = build_dashboard(session, access.tenant_id, period)
    context = {
        "board": board,
        "problems": problems,
        "chart_src": chart_script(),
        "chart_json": json.dumps(chart_data(board), ensure_ascii=False).replace("<", "\\u003c"),
        "desde": period.start.isoformat(),
        "hasta": period.end.isoformat(),
    }
    return page(request, "admin/dashboard.html", access, "dashboard", context)
