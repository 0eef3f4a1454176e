"""A customer (or staff member) writing and tapping through the real webhook of the demo tenant."""

from __future__ import annotations

from fakes.graph_server import FakeGraph, Recorded
from fakes.webapp import DEMO, wait_idle
from fakes.whatsapp_corpus import signed
from fastapi.testclient import TestClient


def message_body(message: dict, phone: str) -> dict:
    """A webhook body carrying one message from ``phone`` to the demo tenant."""
    message = {"from": phone, "timestamp": "1763800000", **message}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51987654321", "phone_number_id": DEMO["phone_number_id"]},
        "contacts": [{"profile": {"name": "Rosa"}, "wa_id": phone}],
        "messages": [message],
    }
    return {"object": "whatsapp_business_account",
            "entry": [{"id": DEMO["waba_id"], "changes": [{"field": "messages", "value": value}]}]}


class Chat:
    """One customer writing and tapping through the real webhook, reading what the fake Graph API got."""

    def __init__(self, client: TestClient, graph: FakeGraph, phone: str = "51987000777") -> None:
        self.client, self.graph, self.phone, self.count = client, graph, phone, 0

    def send(self, message: dict) -> Recorded:
        self.count += 1
        before = len(self.graph.sent())
        body = message_body({"id": f"wamid.TAP.{self.phone}.{self.count}", **message}, self.phone)
        raw, headers = signed(body, DEMO["app_secret"])
        assert self.client.post("/webhook", content=raw, headers=headers).status_code == 200
        wait_idle(self.client)
        replies = [r for r in self.graph.sent()[before:] if r.to == self.phone]
        assert replies, f"no reply to message {self.count}"
        return replies[-1]

    def says(self, text: str) -> Recorded:
        return self.send({"type": "text", "text": {"body": text}})

    def taps(self, reply: Recorded, title_start: str) -> Recorded:
        option_id, title = next((o for o in reply.options if o[1].startswith(title_start)), (None, None))
        assert option_id, f"no option starting {title_start!r} in {reply.options}"
        kind = "list_reply" if reply.body["interactive"]["type"] == "list" else "button_reply"
        tap = {"type": kind, kind: {"id": option_id, "title": title}}
        return self.send({"type": "interactive", "interactive": tap})
