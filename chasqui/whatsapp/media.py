"""Inbound media: media id → download URL → bytes (with the tenant's token) → a file under the data dir.

``fetch_media`` asks the Graph API for the media's URL (``GET /{media id}``), refuses types and
sizes outside ``LIMITS`` (Meta's own limits per kind; the declared size, then the bytes actually
received), checks the ``sha256`` Meta reports when it reports one, and writes the file to
``<data dir>/media/<tenant id>/in-<random>.<ext>`` (the folder the panel serves that tenant's files
from; a random name, so two files never overwrite each other; folders 0700, files 0600; written to
a temporary name and renamed, so a crash never leaves half a file under the final name). The
result goes into the message's ``media`` dict (``path``, relative to ``<data dir>/media``,
``mime_type``, ``size``, ``sha256``): an image after a payment request is the voucher, an audio
waits for transcription.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chasqui.whatsapp.graph import GraphClient

MB = 1024 * 1024
# Meta's limits per type (Cloud API "Supported media types").
LIMITS: dict[str, int] = {
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,  # stickers
    "audio/ogg": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
    "application/pdf": 100 * MB,
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "application/pdf": "pdf",
}


class MediaRefused(Exception):
    """The media is of a type or size Chasqui does not store."""


@dataclass(frozen=True)
class StoredMedia:
    path: str  # relative to <data dir>/media
    mime_type: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mime(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def private_dir(path: Path) -> Path:
    """``path`` created if missing; it and the folders created for it are 0700 (whatever the umask)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, 0o700)
    return path


def write_private(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` (0600) through a temporary file renamed into place."""
    private_dir(target.parent)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(temporary, target)


def fetch_media(
    graph: GraphClient, token: str, media_id: str, data_dir: Path, tenant_id: int, limits: dict[str, int] = LIMITS
) -> StoredMedia:
    """Download media ``media_id`` and store it; raises ``MediaRefused``, ``MediaTooLarge`` or ``GraphError``."""
    info = graph.media_info(token, media_id)
    mime = _mime(str(info.get("mime_type") or ""))
    if mime not in limits:
        raise MediaRefused(f"media type {mime or 'unknown'!r} is not accepted")
    limit = limits[mime]
    declared = info.get("file_size")
    if isinstance(declared, int | str) and str(declared).isdigit() and int(declared) > limit:
        raise MediaRefused(f"media of {declared} bytes is over the {limit} bytes limit for {mime}")
    content = graph.download(str(info["url"]), token, limit)
    digest = hashlib.sha256(content).hexdigest()
    expected = info.get("sha256")
    if expected and expected != digest:
        raise MediaRefused(f"media {media_id}: sha256 mismatch")
    relative = f"{int(tenant_id)}/in-{secrets.token_hex(12)}.{EXTENSIONS[mime]}"
    write_private(Path(data_dir).resolve() / "media" / relative, content)
    return StoredMedia(relative, mime, len(content), digest)
