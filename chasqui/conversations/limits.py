"""Caps on one turn: what the bot reads of a message and what it sends back.

* Input: only the first ``MAX_INPUT_CHARS`` characters of a customer message are understood; when a
  message is longer, the bot says so (template ``mensaje_recortado``) before its answer.
* Output: at most ``MAX_REPLIES_PER_TURN`` text messages and ``MAX_PHOTOS_PER_TURN`` photos per
  turn, each text at most ``MAX_REPLY_CHARS`` characters (WhatsApp's limit for a text body).
  Replies past the cap are joined into the last one while they fit, then dropped (logged).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from chasqui.dialogue.composer import Composer
from chasqui.domain import TenantSnapshot

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 1000
MAX_REPLIES_PER_TURN = 3
MAX_PHOTOS_PER_TURN = 3
MAX_REPLY_CHARS = 4096
TRUNCATED_KEY = "mensaje_recortado"
ELLIPSIS = "…"


def understood_part(text: str) -> tuple[str, bool]:
    """The part of ``text`` the bot reads, and whether anything was left out."""
    if len(text) <= MAX_INPUT_CHARS:
        return text, False
    return text[:MAX_INPUT_CHARS], True


@lru_cache(maxsize=1)
def _default_note() -> str:
    from chasqui.tenants.io import default_templates

    variants = default_templates().get(TRUNCATED_KEY) or [""]
    return variants[0]


def truncation_note(tenant: TenantSnapshot) -> str:
    """The polite "I only read the beginning" line: the tenant's template, else the default one
    (tenants imported before the template existed)."""
    composer = Composer(tenant, 0)
    if composer.has(TRUNCATED_KEY):
        return composer.say(TRUNCATED_KEY, 0, limit=MAX_INPUT_CHARS)
    return " ".join(_default_note().replace("{limit}", str(MAX_INPUT_CHARS)).split())


def fit_text(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def capped_replies(replies: list[str]) -> list[str]:
    """At most ``MAX_REPLIES_PER_TURN`` replies of at most ``MAX_REPLY_CHARS`` characters each."""
    kept = [fit_text(text) for text in replies[:MAX_REPLIES_PER_TURN]]
    dropped = 0
    for text in replies[MAX_REPLIES_PER_TURN:]:
        if kept and len(kept[-1]) + 1 + len(text) <= MAX_REPLY_CHARS:
            kept[-1] = f"{kept[-1]}\n{text}"
        else:
            dropped += 1
    if dropped:
        log.warning("turn capped: %s of %s replies not sent", dropped, len(replies))
    return kept
