"""CatalogMatcher: products, quantities, payment methods, zones and categories from the tenant's rows."""

from __future__ import annotations

import random
import re

import pytest

from chasqui.domain import Product
from chasqui.nlu.entities import CatalogMatcher, Entities
from chasqui.nlu.normalize import PRODUCT_TOKEN, normalize
from chasqui.nlu.training import load_training_data


def products(entities: Entities) -> list[tuple[str, int | None]]:
    return [(m.sku, m.quantity) for m in entities.products]


# -- demo tenant (Pastelería Dulce Lima) --------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("kiero 2 tortas d chocolate porfa", [("TOR-CHOC", 2)]),
    ("quiero 2 tortas de chocolate", [("TOR-CHOC", 2)]),
    ("dame 4 empanadas de carne y 2 chichas moradas", [("EMP-CAR", 4), ("CHI-MOR", 2)]),
    ("agrégale un pie de limón", [("PIE-LIM", 1)]),
    ("cuánto cuesta la tres leches?", [("TOR-TRES", None)]),
    ("dos tres leches", [("TOR-TRES", 2)]),
    ("quiero una selva negra", [("TOR-SELVA", 1)]),
    ("y el pie?", [("PIE-LIM", None)]),
    ("la de chocolate", [("TOR-CHOC", None)]),
    ("kiero 3 cajas de alfajores porfa", [("ALF-MAI", 3)]),
    ("me das una caja de bocaditos", [("BOC-MIX", 1)]),
    ("media docena de empanadas", [("EMP-CAR", 6)]),
    ("una docena de empanadas de pollo", [("EMP-POL", 12)]),
    ("un par de alfajores", [("ALF-MAI", 2)]),
    ("chicha morada x3", [("CHI-MOR", 3)]),
    ("quiero 2 tortas grandes de chocolate", [("TOR-CHOC", 2)]),
    ("quiero un suspiro a la limeña", [("SUS-PIC", 1)]),
    ("un cafecito", [("CAF-AME", 1)]),
])
def test_products_and_their_quantities(demo: CatalogMatcher, text: str, expected: list) -> None:
    assert products(demo.extract(text)) == expected


@pytest.mark.parametrize(("text", "sku"), [
    ("tora de chocolate", "TOR-CHOC"),
    ("alfajore", "ALF-MAI"),
    ("pie de limon", "PIE-LIM"),
    ("sambito", "ARR-ZAM"),
    ("chiccha morada", "CHI-MOR"),
])
def test_typos_still_match(demo: CatalogMatcher, text: str, sku: str) -> None:
    assert demo.extract(text).skus == (sku,)


def test_most_specific_name_wins_and_head_word_keeps_every_candidate(demo: CatalogMatcher) -> None:
    (generic,) = demo.extract("tienen empanadas?").products
    assert generic.sku == "EMP-CAR" and generic.candidates == ("EMP-CAR", "EMP-POL")
    (specific,) = demo.extract("tienen empanadas de pollo?").products
    assert specific.sku == "EMP-POL" and specific.candidates == ("EMP-POL",)
    assert specific.score == 100.0


@pytest.mark.parametrize("text", [
    "que hay para hoy? como para todo",
    "hola, cómo están?",
    "dame la chica",  # not "chicha"
    "agrega al carrito 2",  # not "arroz"
    "quiero tres",  # the number, not "tres leches"
    "hacen delivery a surco?",
    "pago con yape",
])
def test_ordinary_words_never_become_products(demo: CatalogMatcher, text: str) -> None:
    assert demo.extract(text).products == ()


def test_a_category_word_is_a_category_not_a_product(demo: CatalogMatcher) -> None:
    entities = demo.extract("qué tortas tienen?")
    assert entities.products == () and entities.categories == ("Tortas",)
    assert demo.extract("qué postres tienen?").categories == ("Postres",)
    assert demo.extract("hay bebidas?").categories == ("Bebidas",)


@pytest.mark.parametrize(("text", "quantities"), [
    ("mándame 4", (4,)),
    ("quiero dos y después veinte", (2, 20)),
    ("treinta y dos empanadas", (32,)),
    ("veintidos", (22,)),
    ("dos docenas de alfajores", (24,)),
    ("una docena", (12,)),
    ("media docena", (6,)),
    ("un par", (2,)),
    ("x3", (3,)),
    ("tengo una pregunta", ()),  # a bare "una" is 1 only next to a product
    ("a las 5 pm, son s/ 65", ()),  # a time and a price are not quantities
])
def test_quantities(demo: CatalogMatcher, text: str, quantities: tuple[int, ...]) -> None:
    assert demo.extract(text).quantities == quantities


@pytest.mark.parametrize(("text", "codes"), [
    ("pago con yape", ("yape",)),
    ("ya te yapee", ("yape",)),
    ("te yapie hace rato", ("yape",)),
    ("a que numero yapeo?", ("yape",)),
    ("tienen plin?", ("plin",)),
    ("transferí al bcp", ("transferencia",)),
    ("hice el depósito", ("transferencia",)),
    ("aceptan visa?", ("tarjeta",)),
    ("con tarjeta", ("tarjeta",)),
    ("en efectivo contra entrega", ("efectivo",)),
    ("yape o efectivo?", ("yape", "efectivo")),
    ("quiero una torta", ()),
])
def test_payment_methods_use_the_tenant_codes(demo: CatalogMatcher, text: str,
                                              codes: tuple[str, ...]) -> None:
    assert demo.extract(text).payment_methods == codes


@pytest.mark.parametrize(("text", "zones"), [
    ("hacen delivery a surco?", ("Surco",)),
    ("envíalo a Miraflores", ("Miraflores",)),
    ("y a sn isidro?", ("San Isidro",)),
    ("miraflroes", ("Miraflores",)),
    ("y a chorrillos?", ()),  # not one of the tenant's zones
])
def test_zones(demo: CatalogMatcher, text: str, zones: tuple[str, ...]) -> None:
    entities = demo.extract(text)
    assert entities.zones == zones
    assert entities.products == ()


def test_abstract_replaces_product_mentions_with_the_training_placeholder(demo: CatalogMatcher) -> None:
    text = "kiero 2 tortas d chocolate y una chicha porfa"
    normalized = normalize(text)
    entities = demo.extract(text)
    assert demo.abstract(normalized, entities) == f"quiero 2 {PRODUCT_TOKEN} y una {PRODUCT_TOKEN} por favor"
    first = entities.products[0]
    assert normalized[first.start : first.end] == "tortas de chocolate"


def test_filling_training_placeholders_with_catalog_names_abstracts_back(demo: CatalogMatcher) -> None:
    """Training texts with ``<prod>`` filled with real names/aliases come back as the placeholder."""
    names = [name for p in demo.products for name in (p.name, *p.aliases)]
    rng = random.Random(3)
    templates = [text for text, _ in load_training_data() if "<prod>" in text]
    recovered = 0
    for template in templates:
        filled = re.sub("<prod>", lambda _: rng.choice(names), template)
        normalized = normalize(filled)
        if demo.abstract(normalized, demo.extract_normalized(normalized)) == normalize(template):
            recovered += 1
    assert recovered / len(templates) >= 0.97


# -- a very different catalog -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("quiero 2 martillos", [("MAR-UNA", 2)]),
    ("martillo de goma x2", [("MAR-GOM", 2)]),
    ("3 rollos de cinta aislante", [("CIN-AIS", 3)]),
    ("pintura latex blanco", [("PIN-LAT", None)]),
    ("10 bolsas de cemento", [("CEM-SOL", 10)]),
    ("cemento sol 10 bolsas", [("CEM-SOL", 10)]),
    ("5 focos", [("FOC-LED", 5)]),
    ("un taladro percutor", [("TAL-PER", 1)]),
    ("que hay para todo", []),
])
def test_hardware_store_products(hardware: CatalogMatcher, text: str, expected: list) -> None:
    assert products(hardware.extract(text)) == expected


def test_hardware_store_candidates_zones_payments_categories(hardware: CatalogMatcher) -> None:
    (mention,) = hardware.extract("tienen martillos?").products
    assert mention.candidates == ("MAR-UNA", "MAR-GOM")
    assert hardware.extract("hacen delivery a sjl?").zones == ("San Juan de Lurigancho",)
    assert hardware.extract("y a santa anita").zones == ("Santa Anita",)
    assert hardware.extract("te hice el deposito").payment_methods == ("interbank",)
    assert hardware.extract("pago con yape").payment_methods == ("yape",)  # known, though not offered
    assert hardware.extract("qué herramientas tienen?").categories == ("Herramientas",)


def test_a_catalog_without_rows_finds_nothing_but_quantities() -> None:
    matcher = CatalogMatcher([])
    entities = matcher.extract("quiero 2 tortas de chocolate")
    assert entities.products == () and entities.quantities == (2,)


def test_only_the_given_rows_are_known() -> None:
    matcher = CatalogMatcher([Product(sku="X1", name="Chicha morada")])
    assert matcher.extract("quiero una torta de chocolate").products == ()
    assert matcher.extract("quiero una chicha").skus == ("X1",)


def test_never_raises_on_garbage(demo: CatalogMatcher, hardware: CatalogMatcher) -> None:
    rng = random.Random(11)
    inputs = ["", "😊😊", "a" * 10_000, "empanada " * 2_000, "\x00\ud800\uffff"]
    inputs += ["".join(chr(rng.randrange(0x110000)) for _ in range(400)) for _ in range(5)]
    inputs += [" ".join(rng.choice(["de", "la", "torta", "2", "x", "una", "docena", "tres", "leches", "y"])
                        for _ in range(300)) for _ in range(5)]
    for matcher in (demo, hardware):
        for text in inputs:
            entities = matcher.extract(text)
            spans = [(m.start, m.end) for m in entities.products]
            assert spans == sorted(spans)
            assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


def test_a_product_named_like_a_function_word_needs_more_than_that_word() -> None:
    matcher = CatalogMatcher([Product(sku="TE-V", name="Té verde", aliases=("té",))])
    assert matcher.extract("te mando la captura").products == ()
    assert matcher.extract("dame 2 té verde").products[0].quantity == 2


# -- unknown variants: "pie de manzana" is not the "Pie de limón" --------------------------------


def variants(entities: Entities) -> list[tuple[tuple[str, ...], int | None, str | None]]:
    return [(m.candidates, m.quantity, m.qualifier) for m in entities.products]


@pytest.mark.parametrize(("text", "expected"), [
    ("quiero un pie de manzana", [(("PIE-LIM",), 1, "manzana")]),
    ("2 tortas de fresa", [(("TOR-CHOC", "TOR-TRES", "TOR-SELVA"), 2, "fresa")]),  # "torta" is a category
    ("tienen empanadas de queso?", [(("EMP-CAR", "EMP-POL"), None, "queso")]),
    ("alfajores de chocolate", [(("ALF-MAI",), None, "chocolate")]),  # not the "Torta de chocolate"
    ("pie de manzana x2", [(("PIE-LIM",), 2, "manzana")]),
    ("pie de manzana y una chicha", [(("PIE-LIM",), None, "manzana"), (("CHI-MOR",), 1, None)]),
])
def test_an_unknown_variant_names_its_words_and_the_products_sharing_the_head(
        demo: CatalogMatcher, text: str, expected: list) -> None:
    assert variants(demo.extract(text)) == expected


@pytest.mark.parametrize(("text", "sku"), [
    ("quiero un pie de limon", "PIE-LIM"),
    ("un lemon pie", "PIE-LIM"),
    ("el de limon", "PIE-LIM"),
    ("pie de limo", "PIE-LIM"),  # typo of the real name
    ("torta de chocolat", "TOR-CHOC"),
    ("una torta de chocolate para 20 personas", "TOR-CHOC"),  # "para 20 personas" is no variant
    ("empanada de poyo", "EMP-POL"),  # "ll" and "y" sound alike: "pollo", no unknown variant
    ("quiero un pie para mañana", "PIE-LIM"),
    ("dame el pie de la vitrina", "PIE-LIM"),  # a thing pointed at, not a kind of pie
    ("el pie del otro dia", "PIE-LIM"),
])
def test_names_aliases_and_typos_are_no_unknown_variant(demo: CatalogMatcher, text: str, sku: str) -> None:
    (mention,) = demo.extract(text).products
    assert mention.sku == sku and mention.qualifier is None


def test_what_a_product_is_for_is_not_a_variant(demo: CatalogMatcher) -> None:
    entities = demo.extract("quiero una torta de cumpleaños")
    assert entities.products == () and entities.categories == ("Tortas",)


def test_an_unknown_variant_is_abstracted_as_one_product_mention(demo: CatalogMatcher) -> None:
    normalized = normalize("quiero un pie de manzana porfa")
    entities = demo.extract_normalized(normalized)
    assert demo.abstract(normalized, entities) == f"quiero un {PRODUCT_TOKEN} por favor"


@pytest.mark.parametrize(("text", "expected"), [
    ("martillo de bola", [(("MAR-UNA", "MAR-GOM"), None, "bola")]),
    ("quiero 2 martillos de bola", [(("MAR-UNA", "MAR-GOM"), 2, "bola")]),
    ("martillo de goma", [(("MAR-GOM",), None, None)]),
    ("un martillo", [(("MAR-UNA", "MAR-GOM"), 1, None)]),
])
def test_unknown_variants_in_a_hardware_store(hardware: CatalogMatcher, text: str, expected: list) -> None:
    assert variants(hardware.extract(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("martillo de bola", [(("HER-MAR-UNA", "HER-MAR-GOM"), None, "bola")]),  # "bola" is not "cola pvc"
    ("clavos de 3 pulgadas", [(("FIJ-CLA-2",), None, "3 pulgadas")]),
    ("clavos de 2 pulgadas", [(("FIJ-CLA-2",), None, None)]),
    ("5 tornillos de madera", [(("FIJ-TOR-DRY",), 5, "madera")]),
    ("cinta de embalaje", [(("HER-WIN-5M", "ELE-CIN-AIS", "GAS-CIN-TEF"), None, "embalaje")]),
    ("cinta de aislar", [(("ELE-CIN-AIS",), None, None)]),
])
def test_unknown_variants_in_the_example_hardware_tenant(ferreteria: CatalogMatcher, text: str,
                                                         expected: list) -> None:
    entities = ferreteria.extract(text)
    assert variants(entities) == expected
    if expected[0][2] is not None and expected[0][2][0].isdigit():
        assert entities.quantities == ()  # the "3" of "3 pulgadas" is a measure, not a count


# -- "ñ", zero and unit quantities ---------------------------------------------------------------


@pytest.mark.parametrize("matcher_name", ["hardware", "ferreteria"])
def test_una_with_enye_is_a_product_word_and_without_it_an_article(
        request: pytest.FixtureRequest, matcher_name: str) -> None:
    matcher: CatalogMatcher = request.getfixturevalue(matcher_name)
    (mention,) = matcher.extract("el de uña").products
    assert mention.sku.endswith("MAR-UNA") and mention.qualifier is None
    assert matcher.extract("el de uña").quantities == ()
    assert matcher.extract("el de una").products == ()  # could be anything: "una" is an article
    assert [m.sku for m in matcher.extract("2 martillos de una").products] == [mention.sku]  # no tilde


def test_una_is_still_a_quantity(demo: CatalogMatcher, hardware: CatalogMatcher) -> None:
    assert products(demo.extract("dame una chicha")) == [("CHI-MOR", 1)]
    assert products(hardware.extract("dame una cinta aislante")) == [("CIN-AIS", 1)]


def test_zero_is_a_quantity(demo: CatalogMatcher, ferreteria: CatalogMatcher) -> None:
    assert products(demo.extract("quiero 0 alfajores")) == [("ALF-MAI", 0)]
    assert products(ferreteria.extract("deme 0 llaves de paso")) == [("GAS-LLA-PAS", 0)]
    assert products(demo.extract("chicha morada x 0")) == [("CHI-MOR", 0)]


def test_one_unit_without_a_product_is_a_quantity(demo: CatalogMatcher) -> None:
    assert demo.extract("ponle una caja mas").quantities == (1,)
    assert demo.extract("un vaso nomas").quantities == (1,)
