"""OpenAPI description of ``/api/v1`` (``/api/openapi.json``) and a readable page (``/api/docs``).

The page is rendered on the server from the same OpenAPI document, so it needs no JavaScript
and nothing from a CDN.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response

from chasqui.web.api import v1
from chasqui.web.layout import render

router = APIRouter(prefix="/api", include_in_schema=False)

DESCRIPTION = (
    "API REST de Chasqui para integrar pedidos, conversaciones y productos de **un negocio**.\n\n"
    "Crea un token en el panel (Configuración → API) y envíalo en cada solicitud: "
    "`Authorization: Bearer chq_...`. Un token solo ve los datos de su negocio: cualquier otro id "
    'responde 404. Los montos son textos decimales ("65.00") y las horas, ISO 8601 en UTC.'
)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    return get_openapi(
        title="Chasqui API",
        version="1.0",
        description=DESCRIPTION,
        routes=v1.router.routes,
        servers=[{"url": "/"}],
    )


@router.get("/openapi.json")
def openapi_json() -> Response:
    return JSONResponse(openapi_document())


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else str(schema.get("type", ""))


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, methods in document.get("paths", {}).items():
        for method, spec in methods.items():
            body = (spec.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": spec.get("summary", ""),
                    "description": spec.get("description", ""),
                    "tag": (spec.get("tags") or [""])[0],
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _schema_name(p.get("schema", {})) or "any",
                            "description": p.get("description", ""),
                        }
                        for p in spec.get("parameters", [])
                    ],
                    "body": _schema_name(body),
                    "responses": {
                        code: (
                            _schema_name(r.get("content", {}).get("application/json", {}).get("schema", {}))
                            or r.get("description", "")
                        )
                        for code, r in spec.get("responses", {}).items()
                    },
                }
            )
    return operations


def _schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if name in ("HTTPValidationError", "ValidationError"):
            continue
        required = set(schema.get("required", []))
        fields = []
        for field, spec in schema.get("properties", {}).items():
            kinds = [spec] + spec.get("anyOf", [])
            kind = " | ".join(sorted({_schema_name(k) or "" for k in kinds if _schema_name(k)})) or "any"
            fields.append(
                {"name": field, "type": kind, "required": field in required, "description": spec.get("description", "")}
            )
        result.append({"name": name, "fields": fields})
    return result


@router.get("/docs")
def api_docs(request: Request) -> Response:
    document = openapi_document()
    schemas = _schemas(document)
    context = {
        "user": None,
        "doc": document,
        "operations": _operations(document),
        "schemas": schemas,
        "schema_names": {s["name"] for s in schemas},
    }
    return render(request, "api/docs.html", context)
