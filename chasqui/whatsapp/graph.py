"""Graph API client (WhatsApp Cloud API): one choke point for HTTP, errors mapped from Meta's codes.

``GraphClient.send_text`` POSTs to ``{graph_api_url}/{version}/{phone_number_id}/messages`` with the
tenant's access token and returns the new message's ``wamid``; ``upload_media`` POSTs a file
(multipart) to ``.../{phone_number_id}/media`` and returns its media id, which image/document/audio/
video messages then carry. Failures raise ``GraphError`` whose ``transient`` flag tells the outbox
whether a retry can help (rate limits, 5xx, network) or not (re-engagement window closed, bad number,
bad token, ...), and ``retry_after`` carries Meta's hint.
Never call this inside a database transaction.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Meta's media ids are decimal numbers; anything else never reaches a Graph URL.
MEDIA_ID = re.compile(r"[0-9]{1,64}")
# Meta's CDN hosts that serve media downloads (HTTPS only), besides the Graph API host itself.
MEDIA_HOST_SUFFIXES = (".fbcdn.net", ".fbsbx.com", ".whatsapp.net")

# Meta error codes a later retry can fix: rate limits, throttling, temporary outages.
TRANSIENT_CODES = frozenset(
    {
        1,  # API unknown / possible server error
        2,  # API service temporarily unavailable
        4,  # application request limit reached
        17,  # user request limit reached
        32,  # page request limit reached
        613,  # calls to this API have exceeded the rate limit
        80007,  # WhatsApp Business Account rate limit
        130429,  # Cloud API throughput rate limit
        131000,  # something went wrong (generic, retryable)
        131016,  # service unavailable
        131048,  # spam rate limit
        131056,  # pair rate limit: too many messages to the same number
        131057,  # account in maintenance mode
        133004,  # server temporarily unavailable
    }
)
# Meta error codes that a retry will not fix (listed for readers; any 4xx not above is permanent).
PERMANENT_CODES = frozenset(
    {
        0,
        3,
        10,
        100,
        190,
        368,
        130472,
        131005,
        131008,
        131009,
        131021,
        131026,
        131030,
        131031,
        131037,
        131042,
        131045,
        131047,
        131049,
        131051,
        131052,
        131053,
        132000,
        132001,
        132005,
        132007,
        132012,
        132015,
        132016,
        133000,
        133010,
        135000,
    }
)


class GraphError(Exception):
    """A failed Graph API call. ``transient``: a retry later may succeed."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = " ".join(
            p
            for p in (
                f"HTTP {self.status}" if self.status else "",
                f"code {self.code}" if self.code is not None else "",
            )
            if p
        )
        return f"{where}: {self.args[0]}" if where else str(self.args[0])


class MediaTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"media of {size} bytes is over the {limit} bytes limit")
        self.size, self.limit = size, limit


def is_transient(status: int | None, code: int | None) -> bool:
    """Transient: network failure, 429, 5xx or a retryable Meta code; a known permanent code wins."""
    if code is not None and code in TRANSIENT_CODES:
        return True
    if code is not None and code in PERMANENT_CODES:
        return False
    return status is None or status == 429 or status >= 500


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _error_fields(response: httpx.Response) -> tuple[int | None, str]:
    try:
        data = response.json()
    except ValueError:
        return None, response.text[:300] or response.reason_phrase
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, str(data)[:300]
    code = error.get("code")
    message = str(error.get("message") or error.get("type") or "error")
    details = (
        (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    if details:
        message = f"{message} ({details})"
    return (code if isinstance(code, int) else None), message[:500]


class GraphClient:
    """A thin synchronous client; build one per process and close it on shutdown."""

    def __init__(
        self,
        base_url: str,
        version: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self._http = httpx.Client(timeout=timeout, transport=transport, headers={"User-Agent": "chasqui/0.1"})

    def close(self) -> None:
        self._http.close()

    def messages_url(self, phone_number_id: str) -> str:
        return f"{self.base_url}/{self.version}/{phone_number_id}/messages"

    def send_text(
        self, phone_number_id: str, token: str, to: str, body: str, *, preview_url: bool = False
    ) -> str:
        """Send a text message; returns its ``wamid``."""
        return self.send_message(
            phone_number_id, token, to, {"type": "text", "text": {"body": body, "preview_url": preview_url}}
        )

    def send_message(self, phone_number_id: str, token: str, to: str, message: dict[str, Any]) -> str:
        """Send any message object (``{"type": ..., <type>: {...}}``); returns its ``wamid``."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        data = self._request("POST", self.messages_url(phone_number_id), token, payload)
        messages = data.get("messages") if isinstance(data, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id") or "")
        return ""

    def upload_media(self, phone_number_id: str, token: str, path: str | Path, mime_type: str) -> str:
        """``POST /{phone_number_id}/media`` (multipart): upload a file; returns its media ``id`` (usable
        in a message for 30 days). A missing file is a permanent ``GraphError``."""
        file = Path(path)
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise GraphError(f"cannot read media file {file.name}: {exc}", transient=False) from exc
        data = self._request(
            "POST",
            f"{self.base_url}/{self.version}/{phone_number_id}/media",
            token,
            None,
            form={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (file.name, content, mime_type)},
        )
        media_id = data.get("id") if isinstance(data, dict) else None
        if not media_id:
            raise GraphError(f"no media id in the upload answer for {file.name}", transient=True)
        return str(media_id)

    def mark_read(self, phone_number_id: str, token: str, wamid: str, *, typing: bool = False) -> None:
        """Mark an inbound message as read (the customer sees blue ticks; ``typing``: "escribiendo…")."""
        from chasqui.whatsapp.messages import mark_read

        self._request("POST", self.messages_url(phone_number_id), token, mark_read(wamid, typing=typing))

    def media_info(self, token: str, media_id: str) -> dict[str, Any]:
        """``GET /{media id}``: the short-lived download ``url``, ``mime_type``, ``file_size``, ``sha256``.
        Only numeric ids are asked for (an id is never a path or a query string)."""
        if not MEDIA_ID.fullmatch(media_id):
            raise GraphError(f"media id {ascii(media_id[:64])} is not numeric", transient=False)
        data = self._request("GET", f"{self.base_url}/{self.version}/{media_id}", token, None)
        if not isinstance(data, dict) or not data.get("url"):
            raise GraphError(f"no download URL for media {media_id}", transient=False)
        return data

    def is_media_host(self, url: str) -> bool:
        """True for a URL on Meta's media hosts (the configured Graph API host, with its scheme, or
        HTTPS on ``MEDIA_HOST_SUFFIXES``): the only places the access token is sent to download."""
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return False
        base = httpx.URL(self.base_url)
        host = (target.host or "").lower().rstrip(".")
        if not host or target.userinfo:
            return False
        if host == base.host.lower() and target.scheme == base.scheme and target.port == base.port:
            return True
        return target.scheme == "https" and target.port in (None, 443) and any(
            host == suffix.lstrip(".") or host.endswith(suffix) for suffix in MEDIA_HOST_SUFFIXES
        )

    def download(self, url: str, token: str, max_bytes: int) -> bytes:
        """Download a media URL with the token, refusing more than ``max_bytes`` (checked while
        streaming, not only from the declared length) and any host but Meta's (``is_media_host``)."""
        if not self.is_media_host(url):
            raise GraphError(f"media URL host refused: {ascii(url[:100])}", transient=False)
        try:
            with self._http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
                if not response.is_success:
                    response.read()
                    code, message = _error_fields(response)
                    status = response.status_code
                    raise GraphError(message, transient=is_transient(status, code), status=status, code=code)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise MediaTooLarge(int(declared), max_bytes)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaTooLarge(size, max_bytes)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}", transient=True) from exc

    def _request(
        self,
        method: str,
        url: str,
        token: str,
        payload: dict[str, Any] | None,
        *,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """Every Graph call goes through here: JSON ``payload``, or a multipart ``form`` + ``files``."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            if files is not None:
                response = self._http.request(method, url, data=form, files=files, headers=headers)
            else:
                response = self._http.request(method, url, json=payload, headers=headers)
        except httpx.TransportError as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}", transient=True) from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                return {}
        code, message = _error_fields(response)
        raise GraphError(
            message,
            transient=is_transient(response.status_code, code),
            status=response.status_code,
            code=code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
