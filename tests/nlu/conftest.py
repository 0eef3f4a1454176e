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


def _rows(rows: list[tuple[str, str, str, str, tuple[str, ...]]]) -> list[Product]:
    """(sku, name, category, unit, aliases) rows as products in stock."""
    return [Product(sku=sku, name=name, category=category, price=Decimal("10"), stock=10, unit=unit,
                    aliases=aliases) for sku, name, category, unit, aliases in rows]


def polleria_matcher() -> CatalogMatcher:
    """A pollería like the outside testers' one: portions written as fractions, short alias words
    ("papa", "san luis", "mega") one letter away from ordinary verbs and nouns."""
    products = _rows([
        ("POL-ENT", "1 Pollo a la brasa", "Pollos a la brasa", "pollo entero con papas familiares y ensalada",
         ("pollo entero", "un pollo", "1 pollo", "pollo a la brasa entero", "pollo a la brasa")),
        ("POL-MED", "1/2 Pollo a la brasa", "Pollos a la brasa", "medio pollo con papas y ensalada",
         ("medio pollo", "1/2 pollo", "mitad de pollo", "medio")),
        ("POL-CUA", "1/4 de Pollo a la brasa", "Pollos a la brasa", "cuarto de pollo con papas y ensalada",
         ("un cuarto", "cuarto de pollo", "1/4 pollo", "1/4 de pollo", "cuarto", "cuartos")),
        ("POL-OCT", "1/8 de Pollo a la brasa", "Pollos a la brasa", "octavo de pollo con papas",
         ("un octavo", "octavo de pollo", "1/8 pollo", "octavo")),
        ("CMB-FAM", "Combo Familiar", "Combos familiares", "combo para 4", ("combo familiar", "combo para 4")),
        ("CMB-MEG", "Combo Mega Leñador", "Combos familiares", "combo para 6", ("combo mega", "mega combo")),
        ("PAR-PER", "Parrilla personal", "Parrillas", "plato para 1", ("parrilla para uno", "parrillita")),
        ("PAR-FAM", "Parrilla familiar", "Parrillas", "fuente para 4", ("parrilla para 4", "parrilla grande")),
        ("GUA-PAP", "Porción de papas fritas", "Guarniciones", "porción", ("papas", "papitas", "papa frita")),
        ("GUA-CHA", "Porción de arroz chaufa", "Guarniciones", "porción", ("chaufa", "arroz chaufa")),
        ("BEB-INK", "Inca Kola 1.5 L", "Bebidas", "botella 1.5 L", ("inka", "inca kola", "inca", "gaseosa")),
        ("BEB-COC", "Coca Cola 500 ml", "Bebidas", "botella 500 ml", ("coca", "coca cola")),
        ("BEB-CHI", "Chicha morada (jarra 1 L)", "Bebidas", "jarra 1 L", ("chicha", "chicha morada")),
        ("BEB-AGU", "Agua San Luis 625 ml", "Bebidas", "botella", ("agua", "agua sin gas", "san luis")),
        ("POS-HEL", "Helado de lúcuma", "Postres", "copa", ("helado",)),
    ])
    zones = [DeliveryZone("Surquillo", Decimal("4")), DeliveryZone("San Borja", Decimal("7"))]
    return CatalogMatcher(products, [PaymentMethod("yape", "Yape")], zones)


def phone_shop_matcher() -> CatalogMatcher:
    """A phone-accessories shop: one product per phone model ("Case Samsung A54"), categories named
    like the type words ("Cases", "Micas"), and names and aliases with "para"."""
    products = _rows([
        ("CAR-IPH", "Cargador iPhone 20W USB-C", "Cargadores", "unidad", ("cargador iphone", "cargador de 20w")),
        ("CAR-SAM", "Cargador Samsung 25W", "Cargadores", "unidad", ("cargador samsung", "cargador 25w")),
        ("CAR-AUTO", "Cargador para auto doble USB", "Cargadores", "unidad", ("cargador para carro",)),
        ("CAB-LIG", "Cable Lightning 1 m", "Cables", "unidad", ("cable iphone", "cable para iphone")),
        ("CAB-USBC", "Cable USB-C 1 m", "Cables", "unidad", ("cable tipo c",)),
        ("CASE-IP13", "Case iPhone 13 silicona", "Cases", "unidad", ("case iphone 13", "funda iphone 13")),
        ("CASE-IP14", "Case iPhone 14 silicona", "Cases", "unidad", ("case iphone 14", "funda iphone 14")),
        ("CASE-IP15", "Case iPhone 15 MagSafe", "Cases", "unidad", ("case iphone 15", "funda iphone 15")),
        ("CASE-A54", "Case Samsung A54 antigolpe", "Cases", "unidad", ("case a54", "funda a54")),
        ("CASE-RN12", "Case Redmi Note 12", "Cases", "unidad", ("case redmi note 12", "funda redmi")),
        ("MICA-IP13", "Mica de vidrio templado iPhone 13/14", "Micas", "unidad", ("mica iphone 13", "mica iphone 14")),
        ("MICA-A54", "Mica templada Samsung A54", "Micas", "unidad", ("mica a54", "mica samsung a54")),
        ("MICA-RN12", "Mica templada Redmi Note 12", "Micas", "unidad", ("mica redmi note 12",)),
        ("AUD-TWS", "Audífonos inalámbricos tipo AirPods", "Audífonos", "unidad", ("airpods",)),
        ("PB-10K", "Power bank 10000 mAh", "Power banks", "unidad", ("power bank", "power bank 10000")),
        ("PB-20K", "Power bank 20000 mAh", "Power banks", "unidad", ("power bank 20000",)),
        ("SOP-AUTO", "Soporte magnético para auto", "Soportes", "unidad", ("soporte para carro", "holder")),
        ("SOP-MOTO", "Soporte para moto y bici", "Soportes", "unidad", ("soporte para moto",)),
        ("SW-BAND8", "Xiaomi Smart Band 8", "Smartwatch", "unidad", ("mi band", "band 8")),
    ])
    return CatalogMatcher(products, [PaymentMethod("yape", "Yape")], [DeliveryZone("Lince", Decimal("6"))])


@pytest.fixture(scope="session")
def polleria() -> CatalogMatcher:
    return polleria_matcher()


@pytest.fixture(scope="session")
def phone_shop() -> CatalogMatcher:
    return phone_shop_matcher()


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
