"""``python -m fakes.serve PORT [--no-worker]``: the web app as ``chasqui serve`` runs it (uvicorn,
one process), configured from the ``CHASQUI_*`` environment, for the reliability suite and the
benchmark. ``--no-worker``: no embedded worker (``chasqui worker`` processes do the work)."""

from __future__ import annotations

import sys

import uvicorn

from chasqui.config import Settings
from chasqui.web.app import create_app
from chasqui.worker.run import WorkerConfig


def main(argv: list[str]) -> None:
    port = int(argv[0])
    settings = Settings()
    embedded = False if "--no-worker" in argv else None  # None: embedded unless Redis is configured
    app = create_app(settings, embedded_worker=embedded, worker_config=WorkerConfig().with_env())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
