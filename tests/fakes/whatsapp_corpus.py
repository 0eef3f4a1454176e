"""Meta's captured webhook bodies (``conformance/whatsapp``) and helpers to post them as Meta would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chasqui.whatsapp.signature import sign

_ROOT = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path:
    """$CHASQUI_CONFORMANCE_DIR, the repository's copy, or the shared one."""
    candidates = [
        os.environ.get("CHASQUI_CONFORMANCE_DIR", ""),
        _ROOT / "conformance" / "whatsapp",
        _ROOT / "tests" / "data" / "conformance" / "whatsapp",
        "/work/shared/conformance/whatsapp",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise RuntimeError("the WhatsApp conformance corpus is missing: set CHASQUI_CONFORMANCE_DIR")


CONFORMANCE = conformance_dir()
FILES = sorted(CONFORMANCE.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


def retarget(body: dict[str, Any], phone_number_id: str, waba_id: str, prefix: str = "") -> dict[str, Any]:
    """The body addressed to our tenant: every metadata.phone_number_id (or, for changes without
    metadata, the entry id) rewritten; message ids prefixed so each file's messages are new."""
    for entry in body.get("entry") or []:
        has_metadata = False
        for change in entry.get("changes") or []:
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            if isinstance(value.get("metadata"), dict):
                value["metadata"]["phone_number_id"] = phone_number_id
                has_metadata = True
            for key in ("messages", "message_echoes"):
                for message in value.get(key) or []:
                    if prefix and isinstance(message, dict) and "id" in message:
                        message["id"] = f"{prefix}{message['id']}"
        if not has_metadata:
            entry["id"] = waba_id
    return body


def signed(body: dict[str, Any] | bytes, secret: str) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return raw, {"X-Hub-Signature-256": sign(raw, secret), "Content-Type": "application/json"}
