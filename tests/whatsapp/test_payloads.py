"""Every captured webhook body parses into typed events, and what we store for each message kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.whatsapp_corpus import CONFORMANCE

from chasqui.whatsapp.inbound import stored_content
from chasqui.whatsapp.payloads import (
    EchoEvent,
    InboundEvent,
    MessageType,
    OtherEvent,
    StatusEvent,
    StatusKind,
    parse_events,
)

FILES = sorted(CONFORMANCE.glob("*.json"))


def _events(name: str) -> list:
    return parse_events(json.loads((CONFORMANCE / name).read_text(encoding="utf-8")))


def _inbound(name: str) -> list[InboundEvent]:
    return [e for e in _events(name) if isinstance(e, InboundEvent)]


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_conformance_body_parses_to_the_right_kind_of_event(path: Path) -> None:
    events = parse_events(json.loads(path.read_text(encoding="utf-8")))
    assert events, "a body with changes gives at least one event"
    kind = path.stem.split("__")[0]
    expected = {"message": InboundEvent, "status": StatusEvent, "echo": EchoEvent}.get(kind, OtherEvent)
    assert any(isinstance(e, expected) for e in events)
    for event in events:
        if isinstance(event, InboundEvent):
            content = stored_content(event.message)  # never raises, for every kind
            assert content.kind
            assert content.text or content.media  # something to show in the panel


def test_a_batch_gives_every_message_and_status_in_order() -> None:
    events = _events("message__batch_three_messages_two_statuses.json")
    inbound = [e for e in events if isinstance(e, InboundEvent)]
    statuses = [e for e in events if isinstance(e, StatusEvent)]
    assert [(e.customer, e.message.text.body) for e in inbound] == [
        ("51987500001", "hola"),
        ("51987500002", "buenas, tienen alfajores?"),
        ("51987500001", "qué promociones hay?"),
    ]
    assert [e.contact_name for e in inbound] == ["Carmen", "Pedro", "Carmen"]
    assert [s.status.kind for s in statuses] == [StatusKind.DELIVERED, StatusKind.READ]
    assert {e.route.phone_number_id for e in events} == {"109876543210"}


def test_interactive_replies_are_stored_by_their_visible_title() -> None:
    (button,) = _inbound("message__interactive_button_reply.json")
    (row,) = _inbound("message__interactive_list_reply_with_description.json")
    (quick,) = _inbound("message__button_template_quick_reply.json")
    assert stored_content(button.message).text == "title"
    assert stored_content(row.message).media["description"] == "description"
    assert stored_content(quick.message).text == "title"
    assert all(stored_content(e.message).answer for e in (button, row, quick))


def test_interactive_replies_without_visible_text_are_not_handed_to_the_engine_as_text() -> None:
    (broken,) = _inbound("message__interactive_error_131000.json")
    content = stored_content(broken.message)
    # the engine answers non-text kinds without text with its fallback instead of classifying ""
    assert (content.kind, content.text, content.answer) == ("unsupported", None, True)
    (permission,) = _inbound("message__interactive_call_permission_reply_accept.json")
    assert stored_content(permission.message).kind == "call_permission_reply"
    assert not stored_content(permission.message).answer


def test_media_keeps_the_caption_as_text_and_the_media_details() -> None:
    (image,) = _inbound("message__image.json")
    content = stored_content(image.message)
    assert content.kind == "image" and content.answer
    assert content.media["id"] == "65463453" and content.media["mime_type"] == "image/jpeg"
    assert content.media["summary"].startswith("📷")
    (place,) = _inbound("message__location_named_place.json")
    assert "Facebook HQ" in stored_content(place.message).media["summary"]


def test_reactions_and_system_notices_are_recorded_but_not_answered() -> None:
    (reaction,) = _inbound("message__reaction.json")
    (removed,) = _inbound("message__reaction_removed_no_emoji.json")
    (system,) = _inbound("message__system_user_changed_number.json")
    assert stored_content(reaction.message).text == "Reaccionó con 😮"
    assert stored_content(removed.message).text == "Quitó su reacción"
    assert not any(stored_content(e.message).answer for e in (reaction, removed, system))


def test_unknown_and_unsupported_kinds_are_kept_not_dropped() -> None:
    message = {"from": "519", "id": "wamid.NEW", "timestamp": 1, "type": "hologram", "hologram": {"x": 1}}
    value = {"metadata": {"phone_number_id": "9"}, "messages": [message]}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    (event,) = parse_events(body)
    assert isinstance(event, InboundEvent)
    assert event.message.kind == MessageType.UNKNOWN and event.message.type == "hologram"
    assert event.raw["hologram"] == {"x": 1}
    content = stored_content(event.message)
    assert content.kind == "hologram" and content.media["summary"]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {},
        {"entry": "x"},
        {"entry": [{"changes": [{"field": "messages", "value": None}]}]},
        {
            "entry": [
                {"changes": [{"field": "messages", "value": {"messages": "nope", "statuses": [1, None]}}]}
            ]
        },
        {
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": [],
                                "messages": [
                                    {
                                        "id": {"bad": 1},
                                        "from": ["x"],
                                        "type": 5,
                                        "text": "not an object",
                                        "timestamp": None,
                                    }
                                ],
                            },
                        }
                    ]
                }
            ]
        },
        {
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {"statuses": [{"id": "w", "status": None, "errors": "x"}]},
                        }
                    ]
                }
            ]
        },
    ],
)
def test_malformed_shapes_never_raise(body: object) -> None:
    events = parse_events(body)
    for event in events:
        if isinstance(event, InboundEvent):
            stored_content(event.message)
