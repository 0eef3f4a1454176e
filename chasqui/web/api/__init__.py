"""The REST API (``/api/v1``) and its OpenAPI documentation (``/api/docs``)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from chasqui.web.api import docs, v1

    app.include_router(v1.router)
    app.include_router(docs.router)
