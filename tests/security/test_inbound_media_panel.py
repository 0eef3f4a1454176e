"""Finding 7: inbound media is stored per tenant under a unique name (0700 folders, 0600 files),
opens in that tenant's panel and is a 404 for another tenant's user."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable

from fakes.admin_panel import Panel
from fakes.graph_server import FakeGraph
from fakes.webapp import DEMO, runtime_of, wait_idle
from fakes.whatsapp_corpus import signed
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.config import Settings
from chasqui.db.models import Message


def _image(wamid: str, media_id: str) -> bytes:
    message = {"from": "51987000009", "id": wamid, "timestamp": "1763800000", "type": "image",
               "image": {"id": media_id, "mime_type": "image/jpeg"}}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": DEMO["phone_number_id"]},
             "messages": [message]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": DEMO["waba_id"], "changes": [{"field": "messages", "value": value}]}]}).encode()


def test_inbound_media_opens_for_its_tenant_only_and_files_never_overwrite_each_other(
    live_client: TestClient, fake_graph: FakeGraph, web_settings: Settings, login_as: Callable[..., Panel]
) -> None:
    first, second = b"\xff\xd8\xff" + b"uno" * 40, b"\xff\xd8\xff" + b"dos" * 40
    fake_graph.add_media("880001", first, "image/jpeg")
    for wamid in ("wamid.IMG1", "wamid.IMG2"):
        raw, headers = signed(_image(wamid, "880001"), DEMO["app_secret"])
        assert live_client.post("/webhook", content=raw, headers=headers).status_code == 200
        wait_idle(live_client)
        fake_graph.add_media("880001", second, "image/jpeg")  # Meta reuses nothing, but a replay could
    with runtime_of(live_client).session() as session:
        one, two = (session.scalar(select(Message).where(Message.wamid == w)) for w in ("wamid.IMG1", "wamid.IMG2"))
        assert one.media["path"] != two.media["path"]
    owner = login_as("owner", "dulce-lima")
    assert owner.get(f"/media/{one.id}").content == first
    assert owner.get(f"/media/{two.id}").content == second
    stranger = login_as("owner", "ferreteria-el-tornillo")
    assert stranger.get(f"/media/{one.id}").status_code == 404
    media_root = web_settings.data_dir.resolve() / "media"
    stored = media_root / one.media["path"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(media_root.stat().st_mode) == 0o700
