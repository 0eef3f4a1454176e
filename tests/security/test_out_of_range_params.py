"""Finding 13: out-of-range ids, offsets, limits and dates never give a 500. Every route of the
API and the panel is walked with such values (as a logged-in owner, and with an API token): the
answer is 400/404/422 (or a redirect), never a server error."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.db.models import Tenant
from chasqui.web.api.tokens import create_token

ODD_INTS = ["99999999999999999999", "-1", str(2**31), "abc"]
ODD_QUERY = {
    "int": ["99999999999999999999", "-5", str(10**9), str(2**63)],
    "date": ["2026-13-45", "0000-00-00", "9999-12-31T23:59:59+14:00", "-1"],
}
SKIPPED = ("/events", "/logout")  # an event stream; ending the session would log the walker out


def _flatten(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path (FastAPI keeps included routers as nested entries)."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            found.extend(_flatten(route.original_router.routes, prefix + route.include_context.prefix))
    return found


def _routes(client: TestClient) -> list[tuple[str, str, APIRoute]]:
    return [
        (method, path, route)
        for path, route in _flatten(client.app.routes)
        if not path.startswith(SKIPPED)
        for method in sorted(route.methods or ())
    ]


def _urls(path: str, route: APIRoute) -> list[str]:
    names = [p.name for p in route.dependant.path_params]
    if not names:
        return [path]
    urls = []
    for value in ODD_INTS:
        url = path
        for name in names:
            url = url.replace("{" + name + "}", value)
        urls.append(url)
    return urls


def _queries(route: APIRoute) -> list[dict[str, str]]:
    params = [p for p in route.dependant.query_params]
    queries: list[dict[str, str]] = [{}]
    for param in params:
        kind = "date" if "date" in str(param.field_info.annotation) or param.name in ("since", "until") else "int"
        queries.extend({param.name: value} for value in ODD_QUERY[kind])
    if not params:  # undeclared names a page might still read from request.query_params
        queries.extend({name: value} for name, value in itertools.product(
            ("page", "offset", "limit", "date", "since", "conversation", "id"), ("99999999999999999999", "2026-13-45")
        ))
    return queries


def _walk(client: TestClient, headers: dict[str, str], data: dict[str, str], prefix: str) -> list[str]:
    failures = []
    for method, path, route in _routes(client):
        if not path.startswith(prefix):
            continue
        for url, query in itertools.product(_urls(path, route), _queries(route)):
            response = client.request(method, url, params=query, headers=headers,
                                      data=data if method == "POST" else None)
            if response.status_code >= 500:
                failures.append(f"{method} {url} {query} -> {response.status_code}")
    return failures


@pytest.fixture
def walker(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=False)


def test_panel_routes_never_answer_500_to_odd_ids_offsets_and_dates(client, login_as, walker) -> None:
    owner = login_as("owner")
    walker.cookies = owner.client.cookies
    headers = {"x-csrf-token": owner.csrf, "origin": "http://testserver"}
    failures = _walk(walker, headers, {"csrf_token": owner.csrf}, "/")
    assert not failures, "\n".join(failures[:40])


def test_api_never_answers_500_to_odd_ids_offsets_limits_and_dates(client, walker) -> None:
    with client.app.state.chasqui.runtime.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == "dulce-lima"))
        _row, token = create_token(session, tenant_id, "walker", None)
    failures = _walk(walker, {"authorization": f"Bearer {token}"}, {}, "/api/")
    assert not failures, "\n".join(failures[:40])
