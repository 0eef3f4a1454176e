"""Every admin page renders for an owner (no template errors), in Spanish."""

from __future__ import annotations

PAGES = [
    "/admin/config/bot",
    "/admin/config/templates",
    "/admin/config/templates/saludo",
    "/admin/config/business",
    "/admin/config/notifications",
    "/admin/config/api-tokens",
    "/admin/catalog",
    "/admin/catalog/new",
    "/admin/catalog/import",
    "/admin/catalog/promotions",
    "/admin/catalog/promotions/new",
    "/admin/ml",
    "/admin/ml/review",
    "/admin/dashboard",
    "/api/docs",
]


def test_every_admin_page_renders_in_spanish_for_an_owner(login_as) -> None:
    owner = login_as("owner")
    for url in PAGES:
        response = owner.get(url)
        assert response.status_code == 200, (url, response.text[:3000])
        assert 'lang="es"' in response.text
