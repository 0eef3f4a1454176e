"""NLU fixtures: the demo tenant's and the example hardware tenant's matchers (read from their
YAML), a small made-up hardware store's, and the model trained on the seed data.

The seed model is trained once per session; its bytes are kept in pytest's cache under the
hash of the data and of the training code, so later runs load it instead of training again.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from chasqui.domain import DeliveryZone, PaymentMethod, Product
from chasqui.nlu.classifier import IntentModel, train_model
from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.training import data_hash, load_training_data

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
DEMO_TENANT = TENANTS / "dulce-lima.yaml"
HARDWARE_TENANT = TENANTS / "ferreteria.yaml"


def tenant_matcher(path: Path) -> CatalogMatcher:
    """The matcher of a tenant YAML file (catalog, payment methods, delivery zones)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    products = [
        Product(
            sku=row["sku"], name=row["name"], category=row.get("category", ""),
            price=Decimal(str(row.get("price", "0"))), stock=int(row.get("stock", 0)),
            unit=row.get("unit", ""), aliases=tuple(row.get("aliases", ())),
        )
        for row in data["catalog"]
    ]
    business = data["business"]
    methods = [PaymentMethod(code=m["code"], name=m["name"]) for m in business["payment_methods"]]
    zones = [DeliveryZone(name=z["name"], fee=Decimal(str(z["fee"]))) for z in business["delivery"]["zones"]]
    return CatalogMatcher(products, methods, zones)


def demo_matcher() -> CatalogMatcher:
    return tenant_matcher(DEMO_TENANT)


def hardware_matcher() -> CatalogMatcher:
    def product(sku: str, name: str, category: str, unit: str = "unidad", aliases: tuple[str, ...] = ()):
        return Product(sku=sku, name=name, category=category, price=Decimal("10"), stock=10, unit=unit,
                       aliases=aliases)

    products = [
        product("MAR-UNA", "Martillo de uña", "Herramientas"),
        product("MAR-GOM", "Martillo de goma", "Herramientas"),
        product("CIN-AIS", "Cinta aislante", "Electricidad", "rollo"),
        product("PIN-LAT", "Pintura látex blanco 1 gal", "Pinturas", "galón", ("latex blanco",)),
        product("CLA-2", "Clavos de 2 pulgadas", "Ferretería", "caja x 100", ("clavos",)),
        product("TAL-PER", "Taladro percutor", "Herramientas", aliases=("taladro",)),
        product("FOC-LED", "Foco LED 9W", "Electricidad", aliases=("foco", "focos led")),
        product("CEM-SOL", "Cemento Sol", "Construcción", "bolsa 42.5 kg", ("cemento",)),
    ]
    methods = [PaymentMethod("efectivo", "Efectivo"), PaymentMethod("interbank", "Depósito Interbank")]
    zones = [DeliveryZone("Ate", Decimal("10")), DeliveryZone("San Juan de Lurigancho", Decimal("12")),
             DeliveryZone("Santa Anita", Decimal("8"))]
    return CatalogMatcher(products, methods, zones)


@pytest.fixture(scope="session")
def demo() -> CatalogMatcher:
    return demo_matcher()


@pytest.fixture(scope="session")
def hardware() -> CatalogMatcher:
    return hardware_matcher()


@pytest.fixture(scope="session")
def ferreteria() -> CatalogMatcher:
    """The example hardware tenant shipped in ``tenants/ferreteria.yaml``."""
    return tenant_matcher(HARDWARE_TENANT)


@pytest.fixture(scope="session")
def seed_model(pytestconfig: pytest.Config) -> IntentModel:
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    path = cache.mkdir("chasqui-nlu") / f"intent-{data_hash()}.bin" if cache is not None else None
    if path is not None and path.exists():
        try:
            return IntentModel.from_bytes(path.read_bytes())
        except ValueError:
            path.unlink()
    model = train_model(load_training_data())
    if path is not None:
        path.write_bytes(model.to_bytes())
    return model
