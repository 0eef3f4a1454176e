"""A pre-imported parent that forks ``chasqui worker`` processes on demand (as preforking servers do).

Killing a worker 20 times would otherwise spend most of the test starting Python and importing
the engine again (about 2 s of CPU each time). Each child is a real OS process that runs exactly
what ``chasqui worker`` runs (``run_worker(Settings())`` with its own environment and log file);
SIGKILL hits only that child, which dies with whatever it had in flight.

Protocol (one JSON line per request on stdin): ``{"env": {...}, "log": "/path"}`` → the child's
pid on stdout. Children are reaped automatically; a dead pid no longer answers ``kill(pid, 0)``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback


def _child(env: dict[str, str], log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(env)
    code = 0
    try:
        from chasqui.config import Settings
        from chasqui.worker.run import run_worker

        run_worker(Settings())
    except BaseException:  # noqa: BLE001 - report anything, then leave
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def main() -> None:
    # What a worker needs, imported once; no thread, connection or event loop is created here.
    import arq.worker  # noqa: F401

    import chasqui.runtime  # noqa: F401
    import chasqui.whatsapp.graph  # noqa: F401
    import chasqui.worker.run  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request["env"], request["log"])
        print(pid, flush=True)


if __name__ == "__main__":
    main()
