"""The panel in a real headless Chromium (Debian's ``chromium``, driven by Playwright; no browser
download): log in, see a customer's message arrive live, reply, take over and give back, resolve
an escalation, import the catalog from Excel, and the dashboard's charts. Skipped, with the reason
shown, where /usr/bin/chromium is not installed.

The app runs in a real uvicorn server with its embedded worker; the bot's replies go to the fake
Graph API. ``CHASQUI_SCREENSHOTS_DIR`` set: the inbox and dashboard screenshots are written there too
(``docs/screenshots`` holds the committed ones).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fakes.live_server import LiveServer, serve
from fakes.webapp import DEMO, FAST_WORKER
from fakes.whatsapp_corpus import signed
from sqlalchemy import select

from chasqui.accounts import create_user
from chasqui.config import Settings
from chasqui.db.models import Conversation, Escalation, Order, OrderItem, Product, Tenant
from chasqui.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "clave-segura-123"
EMAIL = "carla@dulcelima.pe"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="browser tests: /usr/bin/chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="browser tests: pip install playwright")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(web_settings: Settings) -> Iterator[LiveServer]:
    app = create_app(web_settings, embedded_worker=True, worker_config=FAST_WORKER)
    with serve(app) as live:
        runtime = app.state.chasqui.runtime
        with runtime.session() as session:
            create_user(session, EMAIL, PASSWORD, "owner", "dulce-lima", name="Carla")
        yield live


@pytest.fixture
def page(browser, server: LiveServer) -> Iterator:
    context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="es-PE")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto(f"{server.url}/login")
    tab.fill("#email", EMAIL)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{server.url}/")
    yield tab
    context.close()


def customer_writes(server: LiveServer, text: str, wamid: str, phone: str = "51987000001",
                    name: str = "Lucía") -> None:
    """A WhatsApp message from a customer, posted to the webhook exactly as Meta sends it."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": DEMO["waba_id"], "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "51987654321", "phone_number_id": DEMO["phone_number_id"]},
            "contacts": [{"profile": {"name": name}, "wa_id": phone}],
            "messages": [{"from": phone, "id": wamid, "timestamp": str(int(datetime.now(UTC).timestamp())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }
    raw, headers = signed(body, DEMO["app_secret"])
    assert httpx.post(f"{server.url}/webhook", content=raw, headers=headers, timeout=10).status_code == 200


def seed_other_customers(server: LiveServer) -> None:
    """A few more conversations, so the list (and the screenshot) looks like a working day."""
    runtime = server.app.state.chasqui.runtime
    now = datetime.now(UTC)
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        for minutes, phone, name, text in [
            (95, "51987000011", "Rosa Quispe", "ya te yapeé, te mando la captura"),
            (60, "51987000012", "Jorge", "hacen delivery a Surco?"),
            (30, "51987000013", "Mariela", "mi pedido llegó frío, esto es pésimo"),
        ]:
            service.customer_message(session, phone, text, now - timedelta(minutes=minutes), name=name)
        mariela = session.scalar(select(Conversation).order_by(Conversation.id.desc()))
        mariela.contact.labels = ["reclamo"]


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    """The page as a PNG; copied to ``CHASQUI_SCREENSHOTS_DIR`` when that is set."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    assert 10_000 < shot.stat().st_size < 300_000
    if os.environ.get("CHASQUI_SCREENSHOTS_DIR"):
        target = Path(os.environ["CHASQUI_SCREENSHOTS_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / name)
    return shot


def conversation_state(server: LiveServer, phone: str) -> str:
    runtime = server.app.state.chasqui.runtime
    with runtime.session() as session:
        conversation = session.scalars(select(Conversation)).all()
        return next(c.state for c in conversation if c.contact.phone == phone)


def test_live_message_reply_take_over_and_return_to_bot(page, server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    seed_other_customers(server)
    page.reload()
    expect(page.locator("#conversation-list")).to_contain_text("Mariela")
    expect(page.locator("body")).to_have_attribute("data-live", "on")

    # a customer writes: the conversation shows up in the list without reloading the page
    customer_writes(server, "hola, tienen torta de chocolate para hoy?", "wamid.BROWSER-1")
    row = page.locator("#conversation-list li", has_text="Lucía")
    expect(row).to_be_visible()
    row.locator("a").click()
    expect(page.locator("#thread")).to_contain_text("hola, tienen torta de chocolate para hoy?")
    expect(page.locator("#thread .msg.bot").first).to_be_visible()  # the bot's answer arrives live too

    # the next message appears in the open conversation by itself
    customer_writes(server, "y cuánto cuesta?", "wamid.BROWSER-2")
    expect(page.locator("#thread")).to_contain_text("y cuánto cuesta?")

    # reply: Enter sends; the message is in the thread and the bot steps aside
    box = page.locator(".composer textarea[name=text]")
    box.fill("Hola Lucía, te atiende Carla 😊")
    box.press("Enter")
    expect(page.locator("#thread .msg.operator")).to_contain_text("Hola Lucía, te atiende Carla 😊")
    expect(page.locator("#conversation-state")).to_contain_text("Pausada")
    assert conversation_state(server, "51987000001") == "paused"

    page.get_by_role("button", name="Tomar control").click()
    expect(page.locator("#conversation-state")).to_contain_text("Control humano")
    save_screenshot(page, tmp_path, "inbox.png")

    page.get_by_role("button", name="Devolver al bot").click()
    expect(page.locator("#conversation-state")).to_contain_text("Bot activo")
    assert conversation_state(server, "51987000001") == "bot"


def test_resolve_an_escalation(page, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/escalations")
    expect(page.locator("#stat-pending")).to_have_text("0")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    customer_writes(server, "quiero hablar con una persona por favor", "wamid.BROWSER-ESC", name="Jorge")
    row = page.locator("tr[data-escalation-id]", has_text="Jorge")  # arrives live
    expect(row).to_contain_text("«quiero hablar con una persona por favor»")  # reason and what was said
    expect(row.locator("a[href='https://wa.me/51987000001']")).to_be_visible()
    expect(page.locator("#stat-pending")).to_have_text("1")
    row.get_by_role("button", name="Resolver").click()
    expect(page.locator(".notice")).to_contain_text("Escalación resuelta")
    expect(page.locator("#stat-pending")).to_have_text("0")
    expect(page.locator("#stat-resolved-today")).to_have_text("1")
    runtime = server.app.state.chasqui.runtime
    with runtime.session() as session:
        (escalation,) = session.scalars(select(Escalation)).all()
        assert escalation.resolved_at is not None and escalation.resolved_by.startswith("user:")
    assert conversation_state(server, "51987000001") == "bot"


def catalog_workbook(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["sku", "nombre", "precio", "categoria", "stock", "alias"])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def tenant_products(server: LiveServer) -> dict[str, Product]:
    runtime = server.app.state.chasqui.runtime
    with runtime.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == "dulce-lima"))
        products = session.scalars(select(Product).where(Product.tenant_id == tenant_id)).all()
        session.expunge_all()
        return {p.sku: p for p in products}


def test_import_a_catalog_from_excel(page, server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    before = tenant_products(server)
    assert "ALF-MAR" not in before
    # a file that is not an Excel workbook: a Spanish message, nothing imported
    page.goto(f"{server.url}/admin/catalog/import")
    page.set_input_files("#file", {"name": "catalogo.xlsx", "mimeType": "application/octet-stream",
                                   "buffer": b"esto no es un excel"})
    page.get_by_role("button", name="Importar").click()
    expect(page.locator("#import-error")).to_contain_text("El archivo no es un Excel válido (.xlsx).")
    # a workbook with one bad row: the row's problem is listed and not even the good row is saved
    bad = catalog_workbook(tmp_path / "malo.xlsx", [["ALF-MAR", "Alfajor de maracuyá", 4.5, "Dulces", 30, ""],
                                                    ["BRW-2", "Torta sin precio", "gratis", "Tortas", 1, ""]])
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Importar").click()
    expect(page.locator("#import-error")).to_contain_text("No se importó nada")
    expect(page.locator("#import-problems")).to_contain_text("Fila 3")
    assert tenant_products(server).keys() == before.keys()

    good = catalog_workbook(tmp_path / "catalogo.xlsx", [
        ["ALF-MAR", "Alfajor de maracuyá", 4.5, "Dulces", 30, "alfajor maracuya, alfajorcito"],
    ])
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Importar").click()
    page.wait_for_url(f"{server.url}/admin/catalog")
    expect(page.locator(".notice")).to_contain_text("Catálogo importado: 1 nuevo(s)")
    row = page.locator("tr", has_text="Alfajor de maracuyá")
    expect(row).to_contain_text("ALF-MAR")
    expect(row).to_contain_text("4.50")
    product = tenant_products(server)["ALF-MAR"]
    assert product.price == Decimal("4.50") and product.stock == 30 and product.active
    assert set(tenant_products(server)) == set(before) | {"ALF-MAR"}  # the rest of the catalog is kept


def seed_a_week_of_sales(server: LiveServer) -> None:
    """Customers over the last days, an operator reply and some orders: every chart has data."""
    runtime = server.app.state.chasqui.runtime
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    chats = [
        (6, 15, "51987200001", "Rosa", ["hola", "cuánto cuesta la torta de chocolate?", "quiero una torta"]),
        (5, 17, "51987200002", "Jorge", ["hacen delivery a Surco?", "qué postres tienen?"]),
        (4, 19, "51987200003", "Mariela", ["buenas tardes", "tienen alfajores?", "dame 2 cajas de alfajores"]),
        (3, 14, "51987200004", "Pedro", ["cómo puedo pagar?", "aceptan yape?"]),
        (2, 20, "51987200005", "Lucía", ["qué promociones hay?", "quiero hablar con una persona"]),
        (1, 16, "51987200006", "Carmen", ["hola", "mándame la carta", "muchas gracias!!"]),
        (0, 1, "51987200007", "Andrés", ["ya te yapeé", "gracias, chau"]),
    ]
    orders = [("B-1", "paid", "65.00", 0), ("B-2", "paid", "24.00", 2), ("B-3", "pending_payment", "38.50", 5)]
    with runtime.session() as session:
        service = runtime.service(session, "dulce-lima")
        conversations = []
        for days, hour, phone, name, texts in chats:
            at = (now - timedelta(days=days)).replace(hour=hour)
            at = min(at, now - timedelta(minutes=len(texts)))
            for minute, text in enumerate(texts):
                outcome = service.customer_message(session, phone, text, at + timedelta(minutes=minute), name=name)
            conversations.append((outcome.conversation_id, at))
        service.operator_message(session, "51987200002", "Hola Jorge, sí llegamos a Surco 😊", now)
        for number, status, total, index in orders:
            conversation_id, at = conversations[index]
            order = Order(tenant_id=service.tenant.id, conversation_id=conversation_id, number=number, status=status,
                          subtotal=Decimal(total), total=Decimal(total), created_at=at, payment_method="yape")
            order.items = [OrderItem(tenant_id=service.tenant.id, sku="TOR-CHOC", name="Torta de chocolate",
                                     unit_price=Decimal(total), quantity=1, line_total=Decimal(total))]
            session.add(order)


def test_the_dashboard_draws_its_charts(page, server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    seed_a_week_of_sales(server)
    page.set_viewport_size({"width": 1360, "height": 1500})
    since = (datetime.now(UTC) - timedelta(days=8)).date().isoformat()
    page.goto(f"{server.url}/admin/dashboard?desde={since}")
    def kpi(label: str):
        return page.locator(".kpi").filter(has=page.get_by_text(label, exact=True)).locator(".value")

    expect(kpi("Pedidos")).to_have_text("3")
    expect(kpi("Ingresos (pagados)")).to_have_text("S/ 89.00")
    for chart in ("chart-days", "chart-hours", "chart-answered", "chart-intents", "chart-kinds"):
        expect(page.locator(f"#{chart}")).to_be_visible()
    # Chart.js drew on every canvas (a canvas it never touched has no Chart instance)
    page.wait_for_function("() => ['chart-days', 'chart-hours', 'chart-answered', 'chart-intents', 'chart-kinds']"
                           ".every(id => window.Chart && Chart.getChart(id))")
    page.wait_for_timeout(1200)  # the charts' entry animation
    save_screenshot(page, tmp_path, "dashboard.png")
