"""The admin half of the panel: configuration, catalog, ML control, dashboard, exports, API tokens, orders.

``install(app)`` adds the routers and the handler that turns ``PanelDenied`` into a redirect to
the login page or a Spanish error page (403, 404, 413, ...).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool


def install(app: FastAPI) -> None:
    from chasqui.web.admin import catalog, common, config, dashboard, exports, ml, orders, tokens

    async def on_denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, common.PanelDenied)
        # the error page looks up the user in the database: in a worker thread, not on the loop
        return await run_in_threadpool(common.denied_response, request, exc)

    app.add_exception_handler(common.PanelDenied, on_denied)
    for module in (config, tokens, catalog, ml, dashboard, exports, orders):
        app.include_router(module.router)
