"""Secrets never reach the access log: the webhook handshake's ``hub.verify_token`` and any
``access_token`` in a query string are replaced by ``***`` in uvicorn's access log lines."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PARAM = re.compile(r"((?:hub(?:\.|%2E)verify_token|access_token)=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``***``."""
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """Rewrites the message and string arguments of each record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction(logger_name: str = ACCESS_LOGGER) -> None:
    """Add the filter to the access logger once (uvicorn's logging config keeps logger filters)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
