"""Several things in one message, and variant values as people write them: what the customer notices
(the right variant lines in the cart, no question about a value already said)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fakes.shops import engine_for_data

from chasqui.dialogue.engine import Engine
from chasqui.dialogue.state import ConversationState
from chasqui.dialogue.variants import hits
from chasqui.domain import Product, Variant

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 9, 23, 0, tzinfo=UTC)  # Wednesday 18:00 in Lima


def _product(option: str, *values: str) -> Product:
    variants = tuple(Variant(sku=f"X-{k}", options={option: v}, stock=5) for k, v in enumerate(values))
    return Product(sku="X", name="Producto", price=Decimal("1"), variant_options=(option,), variants=variants)


def _values(product: Product, text: str) -> list[str]:
    return [h[3] for h in hits(product, text.split())]


def test_option_values_are_read_as_people_say_them() -> None:
    flavour = _product("sabor", "Inca Kola", "Coca-Cola")
    assert _values(flavour, "una inka personal") == ["Inca Kola"]  # first word, letter slip k/c
    assert _values(flavour, "2 coca") == ["Coca-Cola"]
    assert _values(flavour, "una cocacola") == ["Coca-Cola"]
    pipe = _product("medida", '1/2"', '3/4"')
    assert _values(pipe, "4 del de media") == ['1/2"']
    assert _values(pipe, "de tres cuartos") == ['3/4"']
    jug = _product("tamaño", "vaso", "jarra 1 L")
    assert _values(jug, "una jarra") == ["jarra 1 L"]
    bottle = _product("tamaño", "500 ml", "1.5 L")
    assert _values(bottle, "de litro y medio") == ["1.5 L"]


_CATALOG = [
    {"sku": "GAS-P", "name": "Gaseosa personal 500 ml", "category": "Bebidas", "price": "3.50",
     "aliases": ["gaseosa", "inka", "coca"], "variant_options": ["sabor"],
     "variants": [{"sku": "GAS-P-IK", "sabor": "Inca Kola", "stock": 50},
                  {"sku": "GAS-P-CC", "sabor": "Coca-Cola", "stock": 50}]},
    {"sku": "GAS-G", "name": "Gaseosa 1.5 L", "category": "Bebidas", "price": "8.00",
     "aliases": ["litro y medio"], "variant_options": ["sabor"],
     "variants": [{"sku": "GAS-G-IK", "sabor": "Inca Kola", "stock": 50},
                  {"sku": "GAS-G-CC", "sabor": "Coca-Cola", "stock": 50}]},
    {"sku": "ALI", "name": "Alitas acevichadas", "category": "Alitas", "price": "18.00",
     "aliases": ["acevichadas"], "variant_options": ["piezas"],
     "variants": [{"sku": "ALI-6", "piezas": "6", "stock": 20, "price": "18.00"},
                  {"sku": "ALI-12", "piezas": "12", "stock": 20, "price": "32.00"}]},
    {"sku": "SAL", "name": "Salchipapa clásica", "category": "Salchipapas", "price": "12.00",
     "aliases": ["salchipapa"], "variant_options": ["tamaño"],
     "variants": [{"sku": "SAL-PER", "tamaño": "personal", "stock": 20},
                  {"sku": "SAL-FAM", "tamaño": "familiar", "stock": 20, "price": "22.00"}]},
]


@pytest.fixture(scope="module")
def shop(model, tmp_path_factory) -> Engine:
    data = yaml.safe_load((ROOT / "tenants" / "dulce-lima.yaml").read_text(encoding="utf-8"))
    data["catalog"], data["promotions"], data["slug"] = _CATALOG, [], "clauses-test"
    return engine_for_data(data, tmp_path_factory.mktemp("tenant"), model)


def test_each_clause_keeps_its_own_count_and_values(shop) -> None:
    state = ConversationState(customer_phone="51955000901")
    d = shop.handle_customer("buenas, pa una reunion: 12 acevichadas y 2 coca de litro y medio", state, NOW)
    assert d.cart == {"ALI-12": 1, "GAS-G-CC": 2}  # 12 pieces, not 12 portions; no 500 ml coke


def test_a_value_said_with_the_product_is_never_asked_again(shop) -> None:
    state = ConversationState(customer_phone="51955000902")
    d = shop.handle_customer("una salchipapa personal y una inka personal porfa", state, NOW)
    assert d.cart == {"SAL-PER": 1, "GAS-P-IK": 1}
    assert not any("sabor" in r for r in d.replies)
