"""Parse an uploaded catalog in a child process with a memory, CPU and wall-clock limit.

``parse_isolated(data)`` runs ``python -m chasqui.web.admin.catalog_sandbox`` with the file on its
stdin. The child first inspects the zip (``catalog_guard.inspect_workbook``), then parses it
(``catalog_excel.parse_catalog``) and writes the result to stdout. Whatever the file does to the
child (a bomb that passes the checks, a parser bug), the web process keeps its memory and its
event loop; a child over its limits is killed and the upload is refused with a Spanish message.
At most ``MAX_PARALLEL`` imports parse at once per web process.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading

from chasqui.web.admin.catalog_excel import CatalogFileError, ParsedCatalog

MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024  # address space of the child
CPU_LIMIT_S = 30
WALL_LIMIT_S = 45.0
MAX_PARALLEL = 2
EXIT_REFUSED = 3
TOO_COMPLEX = (
    "El archivo es demasiado pesado para importarlo (superó el límite de memoria o de tiempo). "
    "Deja solo la hoja del catálogo, sin filas vacías al final, y vuelve a intentarlo."
)
BUSY = "Hay otras importaciones en curso. Espera unos segundos y vuelve a intentarlo."

_slots = threading.BoundedSemaphore(MAX_PARALLEL)


def _limit_self() -> None:
    """In the child, before it reads the file: its own memory and CPU limits."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S + 1))


def parse_isolated(data: bytes) -> ParsedCatalog:
    """The parsed catalog, or ``CatalogFileError`` with the reason the file was refused. Blocking:
    call it from a worker thread (a plain ``def`` route), never on the event loop."""
    if not _slots.acquire(timeout=WALL_LIMIT_S):
        raise CatalogFileError(BUSY)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "chasqui.web.admin.catalog_sandbox"],
            input=data,
            capture_output=True,
            timeout=WALL_LIMIT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise CatalogFileError(TOO_COMPLEX) from exc
    finally:
        _slots.release()
    if completed.returncode == EXIT_REFUSED:
        raise CatalogFileError(completed.stdout.decode("utf-8", "replace")[:500])
    if completed.returncode != 0:
        raise CatalogFileError(TOO_COMPLEX)
    result = pickle.loads(completed.stdout)  # noqa: S301 - our own child's output
    if not isinstance(result, ParsedCatalog):
        raise CatalogFileError(TOO_COMPLEX)
    return result


def main() -> int:
    from chasqui.web.admin.catalog_excel import parse_catalog
    from chasqui.web.admin.catalog_guard import inspect_workbook

    _limit_self()
    data = sys.stdin.buffer.read()
    try:
        inspect_workbook(data)
        parsed = parse_catalog(data)
    except CatalogFileError as exc:
        sys.stdout.buffer.write(str(exc).encode("utf-8"))
        return EXIT_REFUSED
    sys.stdout.buffer.write(pickle.dumps(parsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
