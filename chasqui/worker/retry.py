"""Backoff for the worker's connections: Redis (the arq consumer) and the database.

A connection error never stops ``chasqui worker``: the consumer reconnects to Redis with a growing,
jittered delay, and a database unit of work (recording a send's outcome, one drain) is tried again
on a fresh connection (the engine's ``pool_pre_ping`` drops the dead ones). Each retry is logged
once, on one line, without the URL's password.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError,)


@dataclass
class Backoff:
    """Delays 0.1 s, 0.2 s, 0.4 s ... up to ``max_s`` (half jitter); ``reset()`` after a success."""

    base_s: float = 0.1
    max_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next(self) -> float:
        self.attempt += 1
        delay = min(self.max_s, self.base_s * (2 ** (self.attempt - 1)))
        return delay * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0


def is_connection_error(exc: BaseException) -> bool:
    """A lost or refused database connection (not a constraint or a syntax error)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DATABASE_ERRORS)


def retry_database(
    work: Callable[[], T],
    what: str,
    *,
    attempts: int = 30,
    backoff: Backoff | None = None,
    stop: threading.Event | None = None,
) -> T:
    """Run ``work`` (one transaction); on a connection error wait and run it again, up to
    ``attempts`` times (about a minute with the default backoff), then raise the last error."""
    backoff = backoff or Backoff()
    while True:
        try:
            return work()
        except Exception as exc:
            if not is_connection_error(exc) or backoff.attempt + 1 >= attempts:
                raise
            delay = backoff.next()
            log.warning("database unavailable while %s (retry %s in %.1fs): %s", what, backoff.attempt, delay,
                        type(exc).__name__)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
