"""``python -m fakes.serve PORT [--no-worker]``: the web app as ``chasqui serve`` runs it (uvicorn,
one process), configured from the ``CHASQUI_*`` environment, for the reliability suite and the
benchmark. ``--no-worker``: no embedded worker (``chasqui worker`` processes do the work)."""

from __future__ import annotations

import os
import signal
import sys

import uvicorn

from chasqui.config import Settings
from chasqui.web.app import create_app
from chasqui.worker.run import WorkerConfig


def _serialize_sqlite() -> None:  # EXPERIMENT
    import threading

    from sqlalchemy import event

    import chasqui.db.session as S
    import chasqui.runtime as R

    original = S.make_engine
    lock = threading.RLock()

    def make(url, **kw):
        engine = original(url, **kw)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "begin", lambda conn: lock.acquire())
            event.listen(engine, "commit", lambda conn: lock.release())
            event.listen(engine, "rollback", lambda conn: lock.release())
        return engine

    R.make_engine = make


def main(argv: list[str]) -> None:
    if os.environ.get("SERIAL_SQLITE"):
        _serialize_sqlite()
    port = int(argv[0])
    settings = Settings()
    embedded = False if "--no-worker" in argv else None  # None: embedded unless Redis is configured
    app = create_app(settings, embedded_worker=embedded, worker_config=WorkerConfig().with_env())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    profile = os.environ.get("PROFILE_SERVER_TO")  # a file: cProfile of the whole server (all threads)
    if profile:
        import yappi

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # uvicorn re-raises it after shutdown
        yappi.set_clock_type("cpu")
        yappi.start()
        try:
            main(sys.argv[1:])
        finally:
            yappi.stop()
            yappi.get_func_stats().save(profile, type="pstat")
    else:
        main(sys.argv[1:])
