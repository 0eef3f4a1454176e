"""Fuzz of the webhook (findings 3, 6, 8): 4,500 generated bodies, each a captured Meta payload
(the conformance corpus, addressed to the demo tenant) with up to four fields replaced by odd values
(lone surrogates, NUL, huge strings, wrong types, deep nesting) or removed, plus one good message in
an entry of its own; all correctly signed, through the real ASGI app. Never a 500, and whenever the
delivery is accepted the good message is stored. Derandomized: the same bodies on every run."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from fakes.webapp import DEMO, runtime_of
from fakes.whatsapp_corpus import FILES, load, retarget, signed
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from chasqui.db.models import Message

BODIES = [retarget(load(p.name), DEMO["phone_number_id"], DEMO["waba_id"], prefix=f"{p.stem}:") for p in FILES]
_ids = itertools.count()


def _nested(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


ODD = st.one_of(
    st.sampled_from(["\ud800", "a\udfffb", "\u0000", "ni\u0000ño", "\ud83d\ude00", "", " ", "../../v21.0/1"]),
    st.text(max_size=40),
    st.integers(min_value=0, max_value=20_000).map(lambda n: "é" * n),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from([[], {}, [None], {"": None}]),
    st.integers(min_value=1, max_value=60).map(_nested),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.extend(_paths(item, (*path, key)))
    return found


def _mutate(body: dict[str, Any], path: tuple[Any, ...], new: Any, remove: bool) -> None:
    parent: Any = body
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = new


def _good_entry(wamid: str) -> dict[str, Any]:
    message = {"from": "51987123456", "id": wamid, "timestamp": "1763800000", "type": "text", "text": {"body": "hola"}}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": DEMO["phone_number_id"]},
             "contacts": [{"profile": {"name": "Bueno"}, "wa_id": "51987123456"}], "messages": [message]}
    return {"id": DEMO["waba_id"], "changes": [{"field": "messages", "value": value}]}


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    body = copy.deepcopy(draw(st.sampled_from(BODIES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(body)
        if not paths:
            break
        _mutate(body, draw(st.sampled_from(paths)), copy.deepcopy(draw(ODD)), draw(st.booleans()))
    wamid = f"wamid.fuzz.{next(_ids)}"
    if isinstance(body.get("entry"), list):
        body["entry"].append(_good_entry(wamid))
    else:
        body["entry"] = [_good_entry(wamid)]
    return body, wamid


@settings(
    max_examples=4500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(delivery=deliveries())
def test_odd_signed_bodies_never_give_500_and_the_good_message_is_stored(
    client: TestClient, delivery: tuple[dict[str, Any], str]
) -> None:
    body, wamid = delivery
    raw, headers = signed(json.dumps(body).encode(), DEMO["app_secret"])
    status = client.post("/webhook", content=raw, headers=headers).status_code
    assert status in (200, 400, 413), status
    if status == 200:
        with runtime_of(client).session() as session:
            assert session.scalar(select(Message.id).where(Message.wamid == wamid)) is not None
