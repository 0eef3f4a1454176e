"""Downloading inbound media before the engine sees the message (outside any transaction).

``MediaFetcher.prepare(runtime, C)`` looks at C's oldest unprocessed message; if it carries media
that is not downloaded yet (``media.id`` without ``media.path``), it fetches it through the Graph
API with the tenant's token (``chasqui.whatsapp.media``: type and size limits, stored under
``<data dir>/media/<tenant id>/``) and records ``path``, ``mime_type``, ``size`` and ``sha256`` — or
``download_error`` — in the message's ``media``. A failure never blocks the conversation: the
message is processed anyway (the panel shows the error; the engine sees the same message kind).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from chasqui.crypto import DecryptionError
from chasqui.db.models import Message, Tenant
from chasqui.tenants.snapshot import whatsapp_account
from chasqui.whatsapp.graph import GraphClient, GraphError, MediaTooLarge
from chasqui.whatsapp.media import MediaRefused, fetch_media

if TYPE_CHECKING:
    from chasqui.runtime import Runtime

log = logging.getLogger(__name__)
MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})


@dataclass
class MediaFetcher:
    graph: GraphClient
    data_dir: Path
    secret_key: str

    def _pending(self, runtime: Runtime, conversation_id: int) -> tuple[int, str, int, str] | None:
        """(message id, media id, tenant id, token) of the next message whose media is missing."""
        with runtime.session() as session:
            message = session.scalar(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == "in",
                    Message.processed.is_(False),
                )
                .order_by(Message.id)
                .limit(1)
            )
            media = (message.media or {}) if message is not None else {}
            if message is None or message.type not in MEDIA_KINDS or not media.get("id"):
                return None
            if media.get("path") or media.get("download_error"):
                return None
            tenant = session.get(Tenant, message.tenant_id)
            try:
                account = whatsapp_account(tenant, self.secret_key) if tenant else None
            except DecryptionError:
                account = None
            token = account.access_token if account else ""
            return message.id, str(media["id"]), message.tenant_id, token or ""

    def prepare(self, runtime: Runtime, conversation_id: int) -> None:
        pending = self._pending(runtime, conversation_id)
        if pending is None:
            return
        message_id, media_id, tenant_id, token = pending
        update: dict[str, object]
        if not token:
            update = {"download_error": "the tenant has no WhatsApp access token"}
        else:
            try:
                update = fetch_media(self.graph, token, media_id, self.data_dir, tenant_id).as_dict()
            except (MediaRefused, MediaTooLarge) as exc:
                update = {"download_error": str(exc)}
            except GraphError as exc:
                if exc.transient:
                    log.warning("media %s: %s; processing the message without it", media_id, exc)
                update = {"download_error": str(exc)[:500]}
            except OSError as exc:
                update = {"download_error": f"cannot store the file: {exc}"}
        with runtime.session() as session:
            message = session.get(Message, message_id)
            if message is not None and not message.processed:
                message.media = {**(message.media or {}), **update}
