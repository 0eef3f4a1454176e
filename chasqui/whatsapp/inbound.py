"""What Chasqui stores for one inbound WhatsApp message: its text, its media and whether the bot answers.

* text, template button and interactive (button/list) replies: the visible text; the bot answers.
* image, video, audio, document, sticker: the caption as text (or none); the media dict keeps the
  media id, mime type, file name and a short Spanish ``summary`` for the panel. The bot answers
  (an image may be a payment voucher; without a caption the engine's fallback applies).
* location, contacts, catalog orders, unsupported and unknown kinds (also interactive replies
  without a visible text, stored under their sub-kind): no text; a media dict with the
  details and a ``summary``; the bot answers (fallback).
* reactions, edits, deletions, system notices, "chat opened", call-permission replies: stored with
  the summary as text and marked processed: the bot stays silent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chasqui.whatsapp.graph import MEDIA_ID
from chasqui.whatsapp.payloads import InboundMessage, MessageType

log = logging.getLogger(__name__)
REJECTED_MEDIA_ID = "Id de medio inválido: el archivo no se descargó."

# Kinds recorded for the history but never answered by the bot.
SILENT_KINDS = frozenset(
    {
        MessageType.REACTION,
        MessageType.EDIT,
        MessageType.REVOKE,
        MessageType.SYSTEM,
        MessageType.REQUEST_WELCOME,
    }
)
SILENT_INTERACTIVE = frozenset({"call_permission_reply"})

_MEDIA_NAMES = {
    MessageType.IMAGE: "📷 Imagen",
    MessageType.VIDEO: "🎬 Video",
    MessageType.AUDIO: "🎤 Audio",
    MessageType.DOCUMENT: "📄 Documento",
    MessageType.STICKER: "Sticker",
}


@dataclass(frozen=True)
class StoredContent:
    kind: str
    text: str | None
    media: dict[str, Any] | None
    answer: bool  # False: record only, the bot stays silent


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, "", [], {})}


def _media(message: InboundMessage, kind: MessageType) -> StoredContent:
    media = message.media
    assert media is not None
    summary = _MEDIA_NAMES[kind]
    if kind == MessageType.AUDIO and media.voice:
        summary = "🎤 Nota de voz"
    if kind == MessageType.DOCUMENT and media.filename:
        summary = f"{summary}: {media.filename}"
    if media.caption:
        summary = f"{summary}: {media.caption}"
    media_id = media.id if MEDIA_ID.fullmatch(media.id) else ""
    if media.id and not media_id:
        log.warning(
            "webhook: message %s: media id %s is not numeric; not downloaded",
            ascii(message.id[:64]),
            ascii(media.id[:64]),
        )
    details = _clean(
        {
            "kind": kind.value,
            "id": media_id,
            "download_error": REJECTED_MEDIA_ID if media.id and not media_id else None,
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "filename": media.filename,
            "url": media.url,
            "voice": media.voice or None,
            "animated": media.animated or None,
            "summary": summary,
        }
    )
    return StoredContent(kind.value, media.caption or None, details, answer=True)


def _interactive(message: InboundMessage) -> StoredContent:
    interactive = message.interactive
    if interactive is None:
        return StoredContent(
            "unsupported", None, {"kind": "interactive", "summary": "Respuesta interactiva"}, True
        )
    reply = interactive.button_reply or interactive.list_reply
    if reply is not None:
        details = _clean(
            {"kind": interactive.type, "id": reply.id, "title": reply.title, "description": reply.description}
        )
        return StoredContent("interactive", reply.title or reply.id or None, details, answer=True)
    if interactive.nfm_reply is not None:
        flow = interactive.nfm_reply
        details = _clean(
            {
                "kind": "nfm_reply",
                "name": flow.name,
                "response_json": flow.response_json,
                "summary": "📝 Formulario enviado",
            }
        )
        return StoredContent(
            "interactive" if flow.body else "nfm_reply", flow.body or None, details, answer=True
        )
    extra = interactive.model_extra or {}
    details = {"kind": interactive.type or "interactive", "summary": "Respuesta interactiva"}
    if isinstance(extra.get(interactive.type), dict):
        details["reply"] = extra[interactive.type]
    silent = interactive.type in SILENT_INTERACTIVE
    kind = (interactive.type or "unsupported")[:32]
    return StoredContent(kind, details["summary"] if silent else None, details, answer=not silent)


def _location(message: InboundMessage) -> StoredContent:
    place = message.location
    if place is None:
        return StoredContent("location", None, {"kind": "location", "summary": "📍 Ubicación"}, True)
    label = ", ".join(p for p in (place.name, place.address) if p)
    summary = f"📍 Ubicación: {label}" if label else "📍 Ubicación"
    details = _clean(
        {
            "kind": "location",
            "latitude": place.latitude,
            "longitude": place.longitude,
            "name": place.name,
            "address": place.address,
            "url": place.url,
            "summary": summary,
        }
    )
    return StoredContent("location", None, details, answer=True)


def _contacts(message: InboundMessage) -> StoredContent:
    cards = message.contacts or []
    names = []
    for card in cards:
        name = card.get("name") if isinstance(card, dict) else None
        if isinstance(name, dict) and name.get("formatted_name"):
            names.append(str(name["formatted_name"]))
    summary = "👤 Contacto" + (f": {', '.join(names)}" if names else "")
    return StoredContent("contacts", None, {"kind": "contacts", "contacts": cards, "summary": summary}, True)


def _order(message: InboundMessage) -> StoredContent:
    order = message.order
    items = order.product_items if order else []
    summary = f"🛒 Pedido del catálogo ({len(items)} productos)"
    details = _clean(
        {"kind": "order", "catalog_id": order.catalog_id if order else "", "items": items, "summary": summary}
    )
    return StoredContent("order", (order.text if order else "") or None, details, answer=True)


def _silent(message: InboundMessage, kind: MessageType) -> StoredContent:
    details: dict[str, Any] = {"kind": kind.value}
    if kind == MessageType.REACTION:
        emoji = message.reaction.emoji if message.reaction else ""
        target = message.reaction.message_id if message.reaction else ""
        summary = f"Reaccionó con {emoji}" if emoji else "Quitó su reacción"
        details.update(_clean({"emoji": emoji, "message_id": target}))
    elif kind == MessageType.SYSTEM:
        body = message.system.body if message.system else ""
        summary = f"Aviso de WhatsApp: {body}" if body else "Aviso de WhatsApp"
        details.update(_clean({"type": message.system.type if message.system else ""}))
    elif kind == MessageType.EDIT:
        summary = "Editó un mensaje"
        details.update(_clean({"edit": message.edit}))
    elif kind == MessageType.REVOKE:
        summary = "Eliminó un mensaje"
        details.update(_clean({"revoke": message.revoke}))
    else:
        summary = "Abrió el chat"
    details["summary"] = summary
    return StoredContent(kind.value, summary, details, answer=False)


def stored_content(message: InboundMessage) -> StoredContent:
    """What to store for ``message`` and whether the bot should answer it."""
    kind = message.kind
    if kind == MessageType.TEXT:
        return StoredContent("text", message.text.body if message.text else "", None, answer=True)
    if kind == MessageType.BUTTON:
        button = message.button
        text = (button.text or button.payload) if button else ""
        return StoredContent(
            "button",
            text or None,
            _clean({"kind": "button", "payload": button and button.payload}),
            answer=True,
        )
    if kind in _MEDIA_NAMES and message.media is not None:
        return _media(message, kind)
    if kind == MessageType.INTERACTIVE:
        return _interactive(message)
    if kind == MessageType.LOCATION:
        return _location(message)
    if kind == MessageType.CONTACTS:
        return _contacts(message)
    if kind == MessageType.ORDER:
        return _order(message)
    if kind in SILENT_KINDS:
        return _silent(message, kind)
    errors = "; ".join(e.describe() for e in message.errors)
    details = _clean(
        {
            "kind": message.type or "unknown",
            "errors": errors,
            "summary": "Mensaje no soportado por WhatsApp Cloud API",
        }
    )
    return StoredContent((message.type or "unknown")[:32], None, details, answer=True)
