"""The catalog as an Excel workbook (openpyxl): export, and import with a row-by-row error report.

The import reads every row and validates all of them first (``parse_catalog``); only a file
without a single problem is applied, in one transaction, so a bad file changes nothing.
Columns are matched by their header (any case, accents optional); ``sku``, ``nombre`` and
``precio`` are required, the rest optional.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from chasqui.db.models import Product
from chasqui.web.admin.forms import FormReader
from chasqui.web.admin.products import read_product

SHEET_TITLE = "Catálogo"
# column key -> header written on export
COLUMNS: dict[str, str] = {
    "sku": "sku",
    "name": "nombre",
    "category": "categoria",
    "price": "precio",
    "stock": "stock",
    "unit": "unidad",
    "description": "descripcion",
    "aliases": "alias",
    "image_url": "imagen_url",
    "active": "activo",
}
HEADER_SYNONYMS: dict[str, str] = {
    "sku": "sku",
    "codigo": "sku",
    "nombre": "name",
    "producto": "name",
    "categoria": "category",
    "precio": "price",
    "stock": "stock",
    "unidad": "unit",
    "descripcion": "description",
    "alias": "aliases",
    "aliases": "aliases",
    "imagen": "image_url",
    "imagen_url": "image_url",
    "url_imagen": "image_url",
    "activo": "active",
}
REQUIRED = ("sku", "name", "price")
MAX_ROWS = 5000
MAX_COLUMNS = 50
MAX_SHEET_ROWS = 20_000  # every row read, empty ones included (also checked on the zip: catalog_guard)
FORMULA_PREFIXES = ("=", "+", "-", "@")
YES = {"si", "sí", "s", "yes", "y", "true", "verdadero", "1", "x", "activo"}
NO = {"no", "n", "false", "falso", "0", "inactivo"}


class CatalogFileError(ValueError):
    """The file cannot be read as a catalog at all (not an .xlsx, no header, too many rows)."""


@dataclass
class ParsedCatalog:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "Fila 4: Precio: ..."
    ignored_columns: list[str] = field(default_factory=list)


def _key(header: Any) -> str:
    text = unicodedata.normalize("NFKD", str(header or "")).encode("ascii", "ignore").decode("ascii")
    return text.strip().lower().replace(" ", "_")


def _cell_text(value: Any) -> str:
    """A cell as the text a form field would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 6))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _active_text(value: Any) -> str:
    text = _cell_text(value).strip().lower()
    if not text:
        return "on"  # an empty cell: the product is active
    if text in YES:
        return "on"
    if text in NO:
        return ""
    return "?"


def parse_catalog(data: bytes) -> ParsedCatalog:
    """Read and validate every row of an .xlsx catalog. Raises ``CatalogFileError`` for a file
    that is not a readable workbook; row problems are collected, not raised."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, EOFError) as exc:
        raise CatalogFileError("El archivo no es un Excel válido (.xlsx).") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors for broken files
        raise CatalogFileError("El archivo no es un Excel válido (.xlsx).") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise CatalogFileError("El archivo no tiene hojas.")
        try:
            rows = sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_SHEET_ROWS + 1, values_only=True)
            return _parse_rows(rows)
        except CatalogFileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise CatalogFileError("El archivo no es un Excel válido (.xlsx).") from exc
    finally:
        workbook.close()


def _parse_rows(rows: Any) -> ParsedCatalog:
    result = ParsedCatalog()
    header: list[str | None] | None = None
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows, start=1):
        if number > MAX_SHEET_ROWS:  # empty rows count too: 20 million of them are no catalog
            raise CatalogFileError(
                f"La hoja tiene demasiadas filas (contando las vacías): el máximo es {MAX_SHEET_ROWS}."
            )
        values = list(cells or ())[:MAX_COLUMNS]
        if all(_cell_text(v).strip() == "" for v in values):
            continue
        if header is None:
            header = _read_header(values, result)
            continue
        if len(result.rows) + len(result.problems) >= MAX_ROWS:
            raise CatalogFileError(f"El archivo tiene demasiadas filas: el máximo es {MAX_ROWS} productos.")
        record = {key: values[i] if i < len(values) else None for i, key in enumerate(header) if key}
        _parse_row(number, record, result, seen)
    if header is None:
        raise CatalogFileError("El archivo está vacío: la primera fila debe tener los títulos (sku, nombre, precio…).")
    return result


def _read_header(values: list[Any], result: ParsedCatalog) -> list[str | None]:
    header: list[str | None] = []
    for value in values:
        key = HEADER_SYNONYMS.get(_key(value))
        if key is None or key in header:
            if _cell_text(value).strip():
                result.ignored_columns.append(_cell_text(value).strip()[:40])
            header.append(None)
        else:
            header.append(key)
    missing = [COLUMNS[key] for key in REQUIRED if key not in header]
    if missing:
        raise CatalogFileError(
            "Faltan columnas obligatorias en la primera fila: "
            + ", ".join(missing)
            + ". Descarga el catálogo en Excel para ver el formato."
        )
    return header


def _parse_row(number: int, record: dict[str, Any], result: ParsedCatalog, seen: dict[str, int]) -> None:
    form = {key: _cell_text(value) for key, value in record.items() if key != "active"}
    form["active"] = _active_text(record.get("active"))
    reader = FormReader(form)
    values = read_product(reader)
    if form["active"] == "?":
        reader.error("Activo: escribe «sí» o «no».")
    sku = values.get("sku") or ""
    if sku and sku in seen:
        reader.error(f"SKU: «{sku}» está repetido (también en la fila {seen[sku]}).")
    elif sku:
        seen[sku] = number
    if reader.errors:
        result.problems.extend(f"Fila {number}: {problem}" for problem in reader.errors)
    else:
        result.rows.append(values)


def export_catalog(products: list[Product]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(list(COLUMNS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for product in products:
        sheet.append(
            [
                product.sku,
                product.name,
                product.category,
                product.price,
                product.stock,
                product.unit,
                product.description,
                ", ".join(product.aliases or []),
                product.image_url or "",
                "sí" if product.active else "no",
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
                cell.data_type = TYPE_STRING  # never a formula
    for letter, width in zip("ABCDEFGHIJ", (14, 32, 18, 10, 8, 14, 40, 30, 30, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
