"""Hostile .xlsx files for the catalog import tests: small on disk, huge once unzipped or parsed.

Each is a real workbook (made with openpyxl) whose first sheet or shared-strings part is replaced
by generated XML, written through a deflate stream so the test never holds the big XML in memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c><c r="B1" t="inlineStr"><is><t>nombre</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>precio</t></is></c></row>'
)


def workbook(rows: Iterable[list[object]] = (("sku", "nombre", "precio"), ("BOMBA-1", "Producto", 10))) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _replace(parts: dict[str, Iterable[bytes]]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename in parts:
                continue
            target.writestr(info.filename, source.read(info.filename))
        for name, chunks in parts.items():
            with target.open(name, "w", force_zip64=True) as handle:
                for chunk in chunks:
                    handle.write(chunk)
    return out.getvalue()


def _sheet(body: Iterable[bytes], dimension: bytes = b"") -> Iterator[bytes]:
    yield _HEAD + dimension + b"<sheetData>" + _HEADER_ROW
    yield from body
    yield b"</sheetData></worksheet>"


def empty_rows(count: int) -> bytes:
    """A header, one product and then ``count`` empty ``<row/>`` elements (no row numbers)."""
    block = b"<row/>" * 100_000

    def body() -> Iterator[bytes]:
        yield b'<row><c t="inlineStr"><is><t>B-1</t></is></c><c t="inlineStr"><is><t>Uno</t></is></c>'
        yield b"<c><v>5</v></c></row>"
        for _ in range(count // 100_000):
            yield block
        yield b"<row/>" * (count % 100_000)

    return _replace({SHEET: _sheet(body())})


def numbered_empty_rows(count: int) -> bytes:
    """``count`` empty rows, each with its own number (compresses only ~10x: passes the ratio check)."""
    return _replace({SHEET: _sheet(b'<row r="%d"/>' % n for n in range(2, count + 2))})


def far_row(number: int) -> bytes:
    """One product row numbered ``number``: openpyxl fills every row before it."""
    row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>LEJOS</t></is></c></row>' % (number, number)
    return _replace({SHEET: _sheet([row])})


def declared_dimension(ref: bytes) -> bytes:
    return _replace({SHEET: _sheet([], dimension=b'<dimension ref="' + ref + b'"/>')})


def shared_strings(count: int, size: int) -> bytes:
    """A shared-strings table of ``count`` strings of ``size`` characters each."""
    text = b"<si><t>" + b"A" * size + b"</t></si>" if size else b"<si/>"
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(count // 1000):
            yield text * 1000
        yield b"</sst>"

    return _replace({SHARED: chunks()})
