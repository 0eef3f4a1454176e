"""Request values that reach the database must fit its columns: ids and offsets out of range.

Every table's primary key is a 32-bit ``INTEGER`` on PostgreSQL and MariaDB, and SQLite refuses
integers over 64 bits, so an id like ``99999999999999999999`` or ``-1`` in a URL used to reach the
driver and answer 500. ``check_path_ids`` (an app-wide dependency) answers 404 for any ``*_id``
path parameter outside ``1..MAX_DB_ID`` before a route runs: no such row can exist. Non-numeric
ids are left to FastAPI, which answers 422 naming the parameter. ``MAX_OFFSET`` bounds the API's
``offset`` query parameter (422 naming it above that).
"""

from __future__ import annotations

from fastapi import HTTPException, Request

MAX_DB_ID = 2**31 - 1
MAX_OFFSET = 1_000_000_000
NOT_FOUND = "No encontrado."


def is_db_id(value: int) -> bool:
    return 1 <= value <= MAX_DB_ID


async def check_path_ids(request: Request) -> None:
    """404 for an id path parameter that no row can have (pure check: no I/O, fine on the loop)."""
    for name, raw in request.path_params.items():
        if name != "id" and not name.endswith("_id"):
            continue
        try:
            value = int(str(raw))
        except ValueError:
            continue  # not a number: the route's own validation answers 422 naming the parameter
        if not is_db_id(value):
            raise HTTPException(status_code=404, detail=NOT_FOUND)
