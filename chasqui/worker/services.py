"""A short-lived cache of ``ConversationService`` per tenant for the worker and the webhook.

Building a service reads the whole tenant (settings, catalog, payment methods, zones, promotions,
templates: about ten queries) and indexes its catalog; that is most of the cost of one message.
The worker keeps each tenant's service for ``ttl_s`` seconds (1 s by default), so under load the
cost is paid about once a second per tenant, and a change made in the panel reaches the bot at most
``ttl_s`` seconds later. ``invalidate()`` drops everything at once (tests, model reloads).

The webhook only records messages (the tenant id is all it needs of the service), so staleness
does not matter there.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from chasqui.conversations.service import ConversationService
    from chasqui.runtime import Runtime

DEFAULT_TTL_S = 1.0


class ServiceCache:
    def __init__(self, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._guard = threading.Lock()
        self._entries: dict[int, tuple[float, ConversationService]] = {}

    def get(self, runtime: Runtime, session: Session, tenant_id: int) -> ConversationService:
        now = time.monotonic()
        with self._guard:
            entry = self._entries.get(tenant_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        service = runtime.service(session, tenant_id)
        if self.ttl_s > 0:
            with self._guard:
                self._entries[tenant_id] = (now + self.ttl_s, service)
        return service

    def invalidate(self) -> None:
        with self._guard:
            self._entries.clear()


_CACHES: weakref.WeakKeyDictionary[object, ServiceCache] = weakref.WeakKeyDictionary()
_CACHES_GUARD = threading.Lock()


def services_of(runtime: Runtime) -> ServiceCache:
    """The cache shared by everything that uses this runtime's database engine."""
    with _CACHES_GUARD:
        cache = _CACHES.get(runtime.db)
        if cache is None:
            cache = _CACHES[runtime.db] = ServiceCache()
        return cache
