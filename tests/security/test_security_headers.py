"""Finding 9: every response carries the security headers; panel pages contain no inline script
(the CSP forbids it) and logged-in pages are never cached; HSTS only over TLS."""

from __future__ import annotations

import re
from collections.abc import Callable

from fakes.admin_panel import Panel
from fastapi.testclient import TestClient

PANEL_PAGES = (
    "/",
    "/escalations",
    "/canned",
    "/account/password",
    "/admin/dashboard",
    "/admin/catalog",
    "/admin/catalog/promotions",
    "/admin/config/business",
    "/admin/config/bot",
    "/admin/config/templates",
    "/admin/config/notifications",
    "/admin/config/api-tokens",
    "/admin/ml",
    "/api/docs",
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_every_response_has_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/health", "/static/panel.css", "/no-existe"):
        response = client.get(path)
        csp = _directives(response)
        assert csp["script-src"] == "script-src 'self'", path  # no 'unsafe-inline', no eval
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert csp["object-src"] == "object-src 'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers  # plain http


def test_panel_pages_are_never_cached_and_have_no_inline_script(
    client: TestClient, login_as: Callable[..., Panel]
) -> None:
    owner = login_as("owner")
    for path in PANEL_PAGES:
        page = owner.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store", path
        assert not INLINE_SCRIPT.search(page.text), path
        assert not INLINE_HANDLER.search(page.text), path
        assert "javascript:" not in page.text and "<style" not in page.text, path


def test_hsts_over_tls(client: TestClient) -> None:
    secure = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=31536000")
