"""Builders of outbound Cloud API message objects (``{"type": ..., <type>: {...}}``), validated
against Meta's limits so a bad one fails here, not as a 400 from the Graph API.

* ``text(body)``;
* ``reply_buttons(body, [(id, title), ...])``: at most 3 buttons (title ≤ 20 chars, unique ids);
* ``list_message(body, button, sections)``: at most 10 rows in all (title ≤ 24, description ≤ 72);
* ``image(link=... | media_id=..., caption=...)``;
* ``template(name, language, body_parameters)``: for messages outside the 24 h customer-service
  window (staff notifications), with the template's body variables in order.

Interactive messages only offer choices: the customer's tap comes back as an interactive reply
whose visible title is stored as the message text (``chasqui.whatsapp.inbound``), so the engine reads
it like typed text and typing the answer still works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_BODY = 1024  # interactive body text
MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_SECTION_TITLE = 24
MAX_ID = 200


class MessageError(ValueError):
    """The message does not fit the Cloud API's limits."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise MessageError(message)


def text(body: str, *, preview_url: bool = False) -> dict[str, Any]:
    _check(0 < len(body) <= MAX_TEXT, f"a text message has 1 to {MAX_TEXT} characters")
    return {"type": "text", "text": {"body": body, "preview_url": preview_url}}


def _interactive(
    kind: str, body: str, action: dict[str, Any], header: str | None, footer: str | None
) -> dict[str, Any]:
    _check(0 < len(body) <= MAX_BODY, f"an interactive body has 1 to {MAX_BODY} characters")
    content: dict[str, Any] = {"type": kind, "body": {"text": body}, "action": action}
    if header:
        _check(len(header) <= 60, "a header has at most 60 characters")
        content["header"] = {"type": "text", "text": header}
    if footer:
        _check(len(footer) <= 60, "a footer has at most 60 characters")
        content["footer"] = {"text": footer}
    return {"type": "interactive", "interactive": content}


def reply_buttons(
    body: str, buttons: Sequence[tuple[str, str]], *, header: str | None = None, footer: str | None = None
) -> dict[str, Any]:
    """Up to three quick-reply buttons, each ``(id, title)``."""
    _check(1 <= len(buttons) <= MAX_BUTTONS, f"1 to {MAX_BUTTONS} reply buttons")
    ids = [button_id for button_id, _title in buttons]
    _check(len(set(ids)) == len(ids), "button ids must be unique")
    items = []
    for button_id, title in buttons:
        _check(0 < len(button_id) <= MAX_ID, f"a button id has 1 to {MAX_ID} characters")
        _check(0 < len(title) <= MAX_BUTTON_TITLE, f"button title {title!r}: 1 to {MAX_BUTTON_TITLE} characters")
        items.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    return _interactive("button", body, {"buttons": items}, header, footer)


def list_message(
    body: str,
    button: str,
    sections: Sequence[tuple[str, Sequence[tuple[str, str, str | None]]]],
    *,
    header: str | None = None,
    footer: str | None = None,
) -> dict[str, Any]:
    """A list: ``sections`` = ``[(section title, [(row id, title, description or None), ...]), ...]``."""
    _check(0 < len(button) <= MAX_BUTTON_TITLE, f"the list button has 1 to {MAX_BUTTON_TITLE} characters")
    rows_total = sum(len(rows) for _title, rows in sections)
    _check(1 <= rows_total <= MAX_ROWS, f"a list has 1 to {MAX_ROWS} rows in all")
    _check(len(sections) == 1 or all(title for title, _rows in sections), "several sections all need a title")
    seen: set[str] = set()
    built = []
    for section_title, rows in sections:
        _check(len(section_title) <= MAX_SECTION_TITLE, f"section title: at most {MAX_SECTION_TITLE} characters")
        items = []
        for row_id, title, description in rows:
            _check(0 < len(row_id) <= MAX_ID and row_id not in seen, f"row id {row_id!r}: unique, 1 to {MAX_ID}")
            seen.add(row_id)
            _check(0 < len(title) <= MAX_ROW_TITLE, f"row title {title!r}: 1 to {MAX_ROW_TITLE} characters")
            row: dict[str, Any] = {"id": row_id, "title": title}
            if description:
                _check(len(description) <= MAX_ROW_DESCRIPTION, f"row description: ≤ {MAX_ROW_DESCRIPTION} characters")
                row["description"] = description
            items.append(row)
        section: dict[str, Any] = {"rows": items}
        if section_title:
            section["title"] = section_title
        built.append(section)
    return _interactive("list", body, {"button": button, "sections": built}, header, footer)


def image(*, link: str | None = None, media_id: str | None = None, caption: str | None = None) -> dict[str, Any]:
    _check((link is None) != (media_id is None), "an image needs exactly one of link or media_id")
    content: dict[str, Any] = {"link": link} if link else {"id": media_id}
    if caption:
        _check(len(caption) <= MAX_BODY, f"a caption has at most {MAX_BODY} characters")
        content["caption"] = caption
    return {"type": "image", "image": content}


def template(name: str, language: str = "es", body_parameters: Sequence[str] = ()) -> dict[str, Any]:
    """An approved template (the only kind of message allowed outside the 24 h window)."""
    _check(bool(name) and name == name.lower() and " " not in name, "template names are lowercase, no spaces")
    content: dict[str, Any] = {"name": name, "language": {"code": language}}
    if body_parameters:
        content["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": str(value)} for value in body_parameters]}
        ]
    return {"type": "template", "template": content}


def mark_read(wamid: str, *, typing: bool = False) -> dict[str, Any]:
    """The body that marks an inbound message as read (blue ticks), optionally showing "typing…"."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body
