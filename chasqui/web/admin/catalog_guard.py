"""Checks on an uploaded .xlsx before openpyxl opens it: a zip or XML bomb is refused up front.

An .xlsx is a zip of XML parts. A file under 1 MB can declare hundreds of megabytes of XML (20
million empty rows, a shared-strings table of repeated text), which openpyxl would parse row by row
or hold in memory. ``inspect_workbook(data)`` reads only the zip directory and streams the first
sheet and the shared strings through a counter, and raises ``CatalogFileError`` (a Spanish message
naming what is wrong) when a part is too large uncompressed or compressed too well, or the sheet
declares or holds too many rows (empty ones included) or columns.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator

from chasqui.web.admin.catalog_excel import MAX_SHEET_ROWS, CatalogFileError

MAX_ENTRIES = 200
MAX_PART_BYTES = 25 * 1024 * 1024  # uncompressed size of any one part
MAX_TOTAL_BYTES = 60 * 1024 * 1024  # uncompressed size of all parts together
MAX_RATIO = 100  # uncompressed / compressed, for parts over RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024
MAX_SHARED_STRINGS = 100_000
MAX_SHEET_COLUMNS = 200
CHUNK = 256 * 1024
INVALID = "El archivo no es un Excel válido (.xlsx)."

_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr=\"(\d+)\"")
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\sref=\"([A-Z]*)(\d*)(?::([A-Z]+)(\d+))?\"")
_SHEET_TARGET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\b[^>]*?\sr:id=\"([^\"]+)\"")
_RELATIONSHIP = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\b([^>]*)>")
_OVERLAP = 512  # bytes carried to the next chunk, so a tag split between two chunks is seen once


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CatalogFileError(INVALID) from exc


def _check_sizes(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise CatalogFileError(f"El archivo tiene demasiadas partes internas ({len(entries)}; máximo {MAX_ENTRIES}).")
    total = 0
    for entry in entries:
        name = entry.filename[:80]
        if entry.file_size > MAX_PART_BYTES:
            raise CatalogFileError(
                f"El archivo ocupa demasiado al descomprimirlo: la parte «{name}» tiene {_mb(entry.file_size)} "
                f"(máximo {_mb(MAX_PART_BYTES)})."
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise CatalogFileError(
                f"El archivo está comprimido de forma sospechosa: la parte «{name}» crece {ratio:.0f} veces "
                f"al descomprimirla (máximo {MAX_RATIO}). Guárdalo de nuevo desde Excel."
            )
        total += entry.file_size
    if total > MAX_TOTAL_BYTES:
        raise CatalogFileError(
            f"El archivo ocupa demasiado al descomprimirlo: {_mb(total)} en total (máximo {_mb(MAX_TOTAL_BYTES)})."
        )


def _matches(archive: zipfile.ZipFile, name: str, pattern: re.Pattern[bytes]) -> Iterator[re.Match[bytes]]:
    """Every match of ``pattern`` in the part, read in chunks (never the whole part in memory)."""
    pending = b""
    with archive.open(name) as part:
        while True:
            chunk = part.read(CHUNK)
            buffer = pending + chunk
            cut = len(buffer) - _OVERLAP if chunk else len(buffer)
            for match in pattern.finditer(buffer):
                if match.start() < cut:
                    yield match
            if not chunk:
                return
            pending = buffer[max(cut, 0):]


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The part holding the workbook's first sheet (the one the import reads)."""
    names = set(archive.namelist())
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError as exc:
        raise CatalogFileError(INVALID) from exc
    first = _SHEET_TARGET.search(workbook)
    if first is None:
        raise CatalogFileError("El archivo no tiene hojas.")
    for attributes in _RELATIONSHIP.findall(rels):
        if re.search(rb'\sId="' + re.escape(first.group(1)) + rb'"', b" " + attributes):
            target = re.search(rb'\sTarget="([^"]+)"', b" " + attributes)
            if target is not None:
                path = target.group(1).decode("utf-8", "replace")
                path = path.lstrip("/") if path.startswith("/") else posixpath.normpath(f"xl/{path}")
                if path in names:
                    return path
    raise CatalogFileError(INVALID)


def _check_sheet(archive: zipfile.ZipFile, name: str) -> None:
    with archive.open(name) as part:
        head = part.read(64 * 1024)
    dimension = _DIMENSION.search(head)
    if dimension is not None:
        last_column, last_row = dimension.group(3) or dimension.group(1), dimension.group(4) or dimension.group(2)
        if last_row and int(last_row) > MAX_SHEET_ROWS:
            raise CatalogFileError(
                f"La hoja declara demasiadas filas ({int(last_row)}, contando las vacías); "
                f"el máximo es {MAX_SHEET_ROWS}. Borra las filas vacías del final y vuelve a guardarlo."
            )
        if last_column and _column_number(last_column) > MAX_SHEET_COLUMNS:
            raise CatalogFileError(f"La hoja declara demasiadas columnas (máximo {MAX_SHEET_COLUMNS}).")
    for rows, match in enumerate(_matches(archive, name, _ROW), start=1):
        number = _ROW_NUMBER.match(match.string, match.start())
        if rows > MAX_SHEET_ROWS or (number is not None and int(number.group(1)) > MAX_SHEET_ROWS):
            raise CatalogFileError(
                f"La hoja tiene demasiadas filas (contando las vacías): el máximo es {MAX_SHEET_ROWS}. "
                "Borra las filas vacías del final y vuelve a guardarlo."
            )


def _check_shared_strings(archive: zipfile.ZipFile) -> None:
    try:
        entry = archive.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return
    if entry.file_size > MAX_SHARED_STRINGS_BYTES:
        raise CatalogFileError(
            f"El archivo tiene demasiado texto: la tabla de textos compartidos ocupa {_mb(entry.file_size)} "
            f"(máximo {_mb(MAX_SHARED_STRINGS_BYTES)})."
        )
    if sum(1 for _ in _matches(archive, entry.filename, _SHARED_STRING)) > MAX_SHARED_STRINGS:
        raise CatalogFileError(
            f"El archivo tiene demasiados textos distintos (máximo {MAX_SHARED_STRINGS} en la tabla compartida)."
        )


def inspect_workbook(data: bytes) -> None:
    """Raise ``CatalogFileError`` unless ``data`` is a zip whose parts stay within the limits above."""
    archive = _open_zip(data)
    try:
        _check_sizes(archive)
        _check_shared_strings(archive)
        _check_sheet(archive, _first_sheet(archive))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise CatalogFileError(INVALID) from exc
    finally:
        archive.close()
