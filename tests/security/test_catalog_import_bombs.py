"""Finding 2: an .xlsx under 1 MB that unzips or parses into something huge (20 million empty rows,
a row numbered 20,000,000, a shared-strings bomb) is refused with a Spanish message naming the
problem, and the catalog and the audit log stay exactly as they were."""

from __future__ import annotations

import html

import pytest
from fakes import xlsx_bombs
from fakes.admin_panel import audit_count
from fakes.webapp import count
from sqlalchemy import select

from chasqui.db.models import Product
from chasqui.web.admin.catalog_excel import CatalogFileError, parse_catalog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _catalog(client) -> list[tuple[int, str, object, bool]]:
    with client.app.state.chasqui.runtime.session() as session:
        rows = session.execute(select(Product.tenant_id, Product.sku, Product.price, Product.active))
        return sorted(tuple(row) for row in rows)


def _import(panel, data: bytes):
    return panel.post("/admin/catalog/import", {}, files={"file": ("catalogo.xlsx", data, XLSX)})


BOMBS = {
    "20M empty rows": (lambda: xlsx_bombs.empty_rows(20_000_000), "sheet1.xml» tiene 114 MB (máximo 25 MB)"),
    "2M empty rows": (lambda: xlsx_bombs.empty_rows(2_000_000), "comprimido de forma sospechosa"),
    "numbered empty rows": (lambda: xlsx_bombs.numbered_empty_rows(30_000), "demasiadas filas"),
    "row 20,000,000": (lambda: xlsx_bombs.far_row(20_000_000), "demasiadas filas"),
    "declared dimension": (lambda: xlsx_bombs.declared_dimension(b"A1:C20000000"), "declara demasiadas filas"),
    "declared columns": (lambda: xlsx_bombs.declared_dimension(b"A1:XFD3"), "declara demasiadas columnas"),
    "shared strings": (lambda: xlsx_bombs.shared_strings(120_000, 60), "xl/sharedStrings.xml"),
    "many shared strings": (lambda: xlsx_bombs.shared_strings(150_000, 0), "demasiados textos"),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_bomb_is_refused_with_its_reason_and_changes_nothing(client, login_as, kind: str) -> None:
    make, reason = BOMBS[kind]
    data = make()
    assert len(data) < 1024 * 1024, "the attack file is small on disk"
    owner = login_as("owner")
    before, audits = _catalog(client), audit_count(client)
    response = _import(owner, data)
    assert response.status_code == 400
    assert reason in html.unescape(response.text)
    assert _catalog(client) == before
    assert audit_count(client) == audits


def test_a_normal_workbook_still_imports(client, login_as) -> None:
    owner = login_as("owner")
    data = xlsx_bombs.workbook([("sku", "nombre", "precio"), ("NUEVO-1", "Producto nuevo", 12.5)])
    response = _import(owner, data)
    assert response.status_code == 303, response.text[:500]
    assert count(client, Product, Product.sku == "NUEVO-1") == 1


def test_the_parser_itself_stops_at_the_row_limit_empty_rows_included() -> None:
    """Even without the zip checks, the parse counts empty rows and stops at the limit."""
    with pytest.raises(CatalogFileError, match="demasiadas filas"):
        parse_catalog(xlsx_bombs.far_row(20_000_000))
