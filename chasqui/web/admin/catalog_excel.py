"""The catalog as an Excel workbook (openpyxl): export, and import with a row-by-row error report.

The import reads every row and validates all of them first (``parse_catalog``); only a file
without a single problem is applied, in one transaction, so a bad file changes nothing.
Columns are matched by their header (any case, accents optional); ``sku``, ``nombre`` and
``precio`` are required, the rest optional.

Catalog version 2: one row per variant. A product's first row holds its columns (nombre, precio,
vendido_por, modificadores…) and, for a product with variants, its first variant
(``variante_sku``, ``variante`` as ``talla=38; color=negro``, ``variante_stock``,
``variante_precio``, ``variante_activo``); each next row with the same ``sku`` adds one variant and
may leave the product's columns empty (a filled one must say the same as the first row). A second
sheet, «Instrucciones», explains every column; the import reads only the first sheet.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from chasqui.db.models import Product
from chasqui.web.admin.forms import FormReader
from chasqui.web.admin.products import (
    MAX_PRICE,
    MAX_QUANTITY,
    PRODUCT_LABELS,
    catalog_problems,
    modifiers_text,
    quantity_text,
    read_product,
    schema_problems,
)

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
    "sold_by": "vendido_por",
    "min_quantity": "cantidad_minima",
    "step": "incremento",
    "sold_by_amount": "por_monto",
    "modifiers": "modificadores",
    "variant_sku": "variante_sku",
    "variant": "variante",
    "variant_stock": "variante_stock",
    "variant_price": "variante_precio",
    "variant_active": "variante_activo",
}
PRODUCT_COLUMNS = tuple(COLUMNS)[:15]
VARIANT_COLUMNS = ("variant_sku", "variant", "variant_stock", "variant_price", "variant_active")
INSTRUCTIONS: list[tuple[str, str]] = [
    ("sku", "Código del producto (letras, números, . _ -). Obligatorio. Se repite en cada fila de sus variantes."),
    ("nombre", "Nombre del producto. Obligatorio en la primera fila del producto."),
    ("categoria", "Categoría (opcional)."),
    ("precio", "Precio por unidad, o por kg / m / l si se vende por peso, longitud o volumen. Obligatorio."),
    ("stock", "Stock del producto: entero si se vende por unidad; con decimales (12.5) si es por peso."),
    ("unidad", "kg, g, m, l… o una descripción («torta entera»)."),
    ("descripcion", "Descripción (opcional)."),
    ("alias", "Otros nombres con que lo piden, separados por comas. No pueden ser el nombre de otro producto."),
    ("imagen_url", "Dirección web de la imagen (https://…)."),
    ("activo", "sí / no (vacío: sí)."),
    ("vendido_por", "unidad, peso, longitud o volumen (vacío: unidad)."),
    ("cantidad_minima", "Cantidad mínima por pedido (p. ej. 0.25 kg). Mayor que 0. Opcional."),
    ("incremento", "De cuánto en cuánto se vende (p. ej. 0.25). Mayor que 0. Opcional."),
    ("por_monto", "sí si se vende por monto («un sol de pan»); vacío: no."),
    ("modificadores", "Separados por «;», con precio si cuestan extra: sin ají; extra pescado=8.00"),
    ("variante_sku", "SKU de la variante (una fila por variante). Vacío: el producto no tiene variantes."),
    ("variante", "Un valor por opción: talla=38; color=negro. Todas las variantes con las mismas opciones."),
    ("variante_stock", "Stock de la variante."),
    ("variante_precio", "Precio de la variante si es distinto del producto (vacío: el del producto)."),
    ("variante_activo", "sí / no (vacío: sí)."),
]
HOW_TO = (
    "Una fila por producto; un producto con variantes lleva una fila por variante con el mismo sku (los demás "
    "datos del producto solo en su primera fila). Solo se importa la primera hoja."
)
SOLD_BY_WORDS = {
    "": "unit", "unidad": "unit", "unit": "unit", "peso": "weight", "weight": "weight", "longitud": "length",
    "length": "length", "volumen": "volume", "volume": "volume",
}
SOLD_BY_SPANISH = {"unit": "unidad", "weight": "peso", "length": "longitud", "volume": "volumen"}
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
    "vendido_por": "sold_by",
    "se_vende_por": "sold_by",
    "cantidad_minima": "min_quantity",
    "minimo": "min_quantity",
    "incremento": "step",
    "paso": "step",
    "por_monto": "sold_by_amount",
    "modificadores": "modifiers",
    "variante_sku": "variant_sku",
    "variante": "variant",
    "opciones": "variant",
    "variante_stock": "variant_stock",
    "variante_precio": "variant_price",
    "variante_activo": "variant_active",
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
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per product, variants under "variants"
    problems: list[str] = field(default_factory=list)  # "Fila 4: Precio: ..."
    ignored_columns: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the sheet row of each product (rows[i])
    variant_lines: list[list[int]] = field(default_factory=list)  # the sheet row of each of its variants


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


def _active_text(value: Any, *, empty: str = "on") -> str:
    text = _cell_text(value).strip().lower()
    if not text:
        return empty  # an empty cell: the product is active
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
    groups: dict[str, _Group] = {}
    order: list[_Group] = []
    count = 0
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
        count += 1
        if count > MAX_ROWS:
            raise CatalogFileError(f"El archivo tiene demasiadas filas: el máximo es {MAX_ROWS} productos.")
        record = {key: values[i] if i < len(values) else None for i, key in enumerate(header) if key}
        _parse_row(number, record, result, groups, order)
    if header is None:
        raise CatalogFileError("El archivo está vacío: la primera fila debe tener los títulos (sku, nombre, precio…).")
    for group in order:
        _finish(group, result)
    return result


@dataclass
class _Group:
    """One product's rows: the first holds the product, each one may hold a variant."""

    line: int
    values: dict[str, Any]
    texts: dict[str, str]
    ok: bool
    variants: list[dict[str, Any]] = field(default_factory=list)
    variant_lines: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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


def _parse_row(
    number: int, record: dict[str, Any], result: ParsedCatalog, groups: dict[str, _Group], order: list[_Group]
) -> None:
    texts = {key: _cell_text(value).strip() for key, value in record.items()}
    sku = texts.get("sku", "")
    group = groups.get(sku) if sku else None
    problems: list[str] = []
    if group is not None:
        if not texts.get("variant_sku") or not group.variants:
            problems.append(f"SKU: «{sku}» está repetido (también en la fila {group.line}).")
        for key in PRODUCT_COLUMNS:
            if key == "sku" or not texts.get(key) or texts[key] == group.texts.get(key, ""):
                continue
            problems.append(
                f"{PRODUCT_LABELS[key]}: dice otra cosa que la fila {group.line} del mismo producto "
                "(déjalo vacío o igual)."
            )
    else:
        form = {key: text for key, text in texts.items() if key not in ("active", "sold_by", "sold_by_amount")}
        form["active"] = _active_text(record.get("active"))
        form["sold_by_amount"] = "on" if _active_text(record.get("sold_by_amount"), empty="") == "on" else ""
        sold_by = SOLD_BY_WORDS.get(_key(texts.get("sold_by", "")))
        form["sold_by"] = sold_by or "?"
        reader = FormReader(form)
        values = read_product(reader)
        if form["active"] == "?":
            reader.error("Activo: escribe «sí» o «no».")
        if _active_text(record.get("sold_by_amount"), empty="") == "?":
            reader.error("Por monto: escribe «sí» o «no».")
        if sold_by is None:
            reader.error("Vendido por: escribe unidad, peso, longitud o volumen.")
        values["variants"] = []
        group = _Group(number, values, texts, not reader.errors)
        problems += reader.errors
        if sku and not any(error.startswith("SKU") for error in reader.errors):
            groups[sku] = group
        order.append(group)
    if texts.get("variant_sku") or texts.get("variant") or texts.get("variant_stock") or texts.get("variant_price"):
        variant = _read_variant(number, record, texts, problems)
        if variant is not None and group is not None:
            group.variants.append(variant)
            group.variant_lines.append(number)
    result.problems.extend(f"Fila {number}: {problem}" for problem in problems)
    if group is not None and problems:
        group.ok = False


def _read_variant(number: int, record: dict[str, Any], texts: dict[str, str], problems: list[str]) -> dict[str, Any]:
    options: dict[str, str] = {}
    for part in texts.get("variant", "").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            problems.append("Variante: escribe cada opción como «talla=38; color=negro».")
            continue
        options[name.strip()] = value.strip()
    form = {
        "sku": texts.get("variant_sku", ""),
        "stock": texts.get("variant_stock", ""),
        "price": texts.get("variant_price", ""),
        "active": _active_text(record.get("variant_active")),
    }
    reader = FormReader(form)
    sku = reader.code("sku", "Variante SKU")
    stock = reader.decimal("stock", "Variante stock", high=MAX_QUANTITY, places=3, required=False) or Decimal(0)
    price = reader.decimal("price", "Variante precio", high=MAX_PRICE, required=False)
    if form["active"] == "?":
        reader.error("Variante activo: escribe «sí» o «no».")
    problems.extend(reader.errors)
    return {"sku": sku, "options": options, "stock": stock, "price": price, "active": form["active"] != ""}


def _finish(group: _Group, result: ParsedCatalog) -> None:
    """A product's variants gathered: its options (in the order first written) and the schema checks."""
    values = group.values
    options: list[str] = []
    for variant in group.variants:
        options += [name for name in variant["options"] if name not in options]
    values["variants"] = group.variants
    values["variant_options"] = options[:8]
    if not group.ok:
        return
    problems = [f"Fila {group.line}: {p}" for p in schema_problems(values | {"variants": []})]
    for line, variant in zip(group.variant_lines, group.variants, strict=True):
        for problem in schema_problems(values | {"variants": [variant]}):
            if problem.startswith("Variante 1"):
                problems.append(f"Fila {line}: Variante" + problem.split(",", 1)[0][len("Variante 1"):] + ","
                                + problem.split(",", 1)[1])
            elif f"Fila {group.line}: {problem}" not in problems:
                problems.append(f"Fila {line}: {problem}")
    if not problems:  # the tenant file's checks on this product alone (across products: after the parse)
        for found in catalog_problems([], [values]):
            line = group.line
            if found.variant is not None and found.variant < len(group.variant_lines):
                line = group.variant_lines[found.variant]
            problems.append(f"Fila {line}: {found.message}")
    if problems:
        result.problems.extend(problems)
        return
    result.rows.append(values)
    result.lines.append(group.line)
    result.variant_lines.append(group.variant_lines)


def _cell(value: Any) -> Any:
    return value if value is not None else ""


def export_catalog(products: list[Product]) -> bytes:
    """One row per product, or one per variant (the product's columns on its first row only)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(list(COLUMNS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for product in products:
        parent = [
            product.sku,
            product.name,
            product.category,
            product.price,
            _number(product.stock),
            product.unit,
            product.description,
            ", ".join(product.aliases or []),
            product.image_url or "",
            "sí" if product.active else "no",
            SOLD_BY_SPANISH.get(product.sold_by or "unit", "unidad"),
            _number(product.min_quantity),
            _number(product.step),
            "sí" if product.sold_by_amount else "",
            modifiers_text(product.modifiers),
        ]
        variants = list(product.variants)
        if not variants:
            sheet.append([*parent, "", "", "", "", ""])
        for position, variant in enumerate(variants):
            options = "; ".join(f"{k}={v}" for k, v in (variant.options or {}).items())
            row = parent if position == 0 else [product.sku] + [""] * (len(parent) - 1)
            active = "sí" if variant.active else "no"
            sheet.append([*row, variant.sku, options, _number(variant.stock), _cell(variant.price), active])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
                cell.data_type = TYPE_STRING  # never a formula
    widths = (14, 32, 18, 10, 8, 14, 40, 30, 30, 8, 12, 14, 11, 10, 36, 18, 28, 14, 14, 14)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    help_sheet = workbook.create_sheet("Instrucciones")
    help_sheet.append(["columna", "qué va"])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    help_sheet.append(["", HOW_TO])
    for name, text in INSTRUCTIONS:
        help_sheet.append([name, text])
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(value: Decimal | None) -> Any:
    """A quantity as Excel shows it: 6 (not 6.000), 0.25; None as an empty cell."""
    if value is None:
        return ""
    text = quantity_text(value)
    return int(text) if text.lstrip("-").isdigit() else float(text)
