"""Files operators attach to a conversation: checked, stored under ``<data_dir>/media/<tenant>/``.

The message that records an attachment keeps ``media = {"kind", "path", "filename", "mime_type",
"size", "summary"}``; ``path`` is relative to the media folder and only ever served back through
``/media/<message id>`` (tenant-checked). The file also goes to the customer: ``outbox_payload``
is the outbox row that uploads it to WhatsApp and sends it (as an image, a video, an audio or, for
what WhatsApp would refuse in those kinds, a document). Older rows may still have the status
``local`` ("solo en el panel").
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from chasqui.whatsapp.media import write_private

MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024
MAX_ATTACHMENT_MB = MAX_ATTACHMENT_BYTES // (1024 * 1024)
# A request larger than this is refused before its body is read (413).
MAX_REQUEST_BYTES = 48 * 1024 * 1024

# extension -> (mime type, message kind)
ALLOWED = {
    ".jpg": ("image/jpeg", "image"),
    ".jpeg": ("image/jpeg", "image"),
    ".png": ("image/png", "image"),
    ".webp": ("image/webp", "image"),
    ".gif": ("image/gif", "image"),
    ".mp4": ("video/mp4", "video"),
    ".3gp": ("video/3gpp", "video"),
    ".mp3": ("audio/mpeg", "audio"),
    ".ogg": ("audio/ogg", "audio"),
    ".opus": ("audio/ogg", "audio"),
    ".m4a": ("audio/mp4", "audio"),
    ".aac": ("audio/aac", "audio"),
    ".pdf": ("application/pdf", "document"),
    ".txt": ("text/plain", "document"),
    ".csv": ("text/csv", "document"),
    ".doc": ("application/msword", "document"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
    ".xls": ("application/vnd.ms-excel", "document"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document"),
    ".ppt": ("application/vnd.ms-powerpoint", "document"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "document"),
}
# What WhatsApp accepts per message type (bigger or other files go as a document, up to 100 MB).
WHATSAPP_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
WHATSAPP_LIMITS = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "audio": 16 * 1024 * 1024,
                   "document": 100 * 1024 * 1024}
SUMMARIES = {"image": "📷 Imagen", "video": "🎬 Video", "audio": "🎤 Audio", "document": "📄 Documento"}
INLINE_KINDS = frozenset({"image", "video", "audio"})
_SAFE_NAME = re.compile(r"[^\w.\- ]+")


class AttachmentError(ValueError):
    """A file that cannot be attached; the message is Spanish, for the page."""


@dataclass(frozen=True)
class StoredFile:
    kind: str
    media: dict[str, str | int]


def media_root(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "media"


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).strip(" .") or "archivo"
    return cleaned[-120:]


def check_attachment(filename: str, size: int) -> tuple[str, str]:
    """The (mime type, kind) of an acceptable upload; ``AttachmentError`` otherwise."""
    if size <= 0:
        raise AttachmentError("El archivo está vacío.")
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(f"El archivo pesa más de {MAX_ATTACHMENT_MB} MB: envía uno más liviano.")
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED:
        allowed = ", ".join(sorted({ext.lstrip(".") for ext in ALLOWED}))
        raise AttachmentError(f"Ese tipo de archivo no se puede adjuntar. Tipos permitidos: {allowed}.")
    return ALLOWED[suffix]


def store_attachment(data_dir: Path, tenant_id: int, filename: str, content: bytes) -> StoredFile:
    """Check and write an upload; returns the message kind and its ``media`` dict."""
    mime_type, kind = check_attachment(filename, len(content))
    name = safe_filename(filename)
    relative = Path(str(tenant_id)) / f"{secrets.token_hex(12)}{Path(name).suffix.lower()}"
    write_private(media_root(data_dir) / relative, content)  # folders 0700, file 0600
    summary = SUMMARIES[kind] + (f": {name}" if kind == "document" else "")
    return StoredFile(
        kind,
        {"kind": kind, "path": relative.as_posix(), "filename": name, "mime_type": mime_type,
         "size": len(content), "summary": summary},
    )


def whatsapp_kind(kind: str, mime_type: str, size: int) -> str:
    """The WhatsApp message type a stored file goes out as: its own kind when WhatsApp takes that
    type and size (images: JPEG/PNG up to 5 MB), otherwise a document."""
    if kind == "image" and mime_type not in WHATSAPP_IMAGE_TYPES:
        return "document"
    if size > WHATSAPP_LIMITS.get(kind, 0):
        return "document"
    return kind


def outbox_payload(data_dir: Path, media: dict[str, str | int], caption: str = "") -> dict[str, object]:
    """The outbox payload that uploads a stored attachment and sends it to the customer."""
    kind = whatsapp_kind(str(media["kind"]), str(media["mime_type"]), int(media["size"]))
    payload: dict[str, object] = {
        "type": kind, "local_path": str(media_root(data_dir) / str(media["path"])),
        "mime_type": media["mime_type"], "filename": media["filename"], "kind": "reply",
    }
    if caption:
        payload["caption"] = caption
    return payload


def stored_path(data_dir: Path, tenant_id: int, relative: str) -> Path | None:
    """The file of a stored attachment, only if it lies in that tenant's media folder."""
    root = (media_root(data_dir) / str(tenant_id)).resolve()
    path = (media_root(data_dir) / relative).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path
