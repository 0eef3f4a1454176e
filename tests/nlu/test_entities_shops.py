"""The matcher on two kinds of shop it was not written for: a phone-accessories shop (one product
per phone model, "<type> para <model>") and a pollería (portions as fractions, dishes that come
with sides, adjectives after the dish)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chasqui.domain import Product
from chasqui.nlu.entities import CatalogMatcher, Entities, model_tokens
from chasqui.nlu.normalize import CATEGORY_TOKEN, PRODUCT_TOKEN, normalize


def mentions(entities: Entities) -> list[tuple[str, int | None]]:
    return [(m.sku, m.quantity) for m in entities.products]


# -- "<type> pa/para (mi) <model>" --------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("soporte pa carro", [("SOP-AUTO", None)]),  # the alias "soporte para carro"
    ("soporte para carro", [("SOP-AUTO", None)]),
    ("cargador pa iphone", [("CAR-IPH", None)]),  # the alias "cargador iphone", not "cargador para auto"
    ("cable para iphone", [("CAB-LIG", None)]),
    ("cable iphone", [("CAB-LIG", None)]),
    ("quiero un case para mi a54", [("CASE-A54", 1)]),  # the case, not every A54 product
    ("mica pal a54", [("MICA-A54", None)]),
    ("hay funda para iphone 14?", [("CASE-IP14", None)]),
    ("ok y una funda para iphone 15 tmb", [("CASE-IP15", 1)]),
    ("tienes case pa mi iphone 13?", [("CASE-IP13", None)]),  # not its mica
    ("tienen mica pa redmi note 12?", [("MICA-RN12", None)]),
    ("ok y tienes mica pa samsumg a54?", [("MICA-A54", None)]),
    ("me das 2 micas para a54 y un case a54", [("MICA-A54", 2), ("CASE-A54", 1)]),
])
def test_type_for_model_is_one_product(phone_shop: CatalogMatcher, text: str, expected: list) -> None:
    assert mentions(phone_shop.extract(text)) == expected


def test_para_is_no_content_word_of_names(phone_shop: CatalogMatcher) -> None:
    """"para iphone" alone no longer matches "Cable para iphone"; "cargador para" no longer "Cargador para auto"."""
    assert phone_shop.extract("un case para iphone").skus != ("CAB-LIG",)
    (mention,) = phone_shop.extract("cargador para samsung").products
    assert mention.sku == "CAR-SAM"


# -- model numbers are no quantities ------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected", "quantities"), [
    ("quiero una funda para iphone 15", [("CASE-IP15", 1)], (1,)),
    ("cuanto el cargador de 20w", [("CAR-IPH", None)], ()),
    ("2 cargadores de 20w", [("CAR-IPH", 2)], (2,)),
    ("power bank 20000", [("PB-20K", None)], ()),
    ("dame 3 micas iphone 13", [("MICA-IP13", 3)], (3,)),
    ("mica iphone 13 x3", [("MICA-IP13", 3)], (3,)),
    ("mi band 8", [("SW-BAND8", None)], ()),
    ("case pa mi note 12", [("CASE-RN12", None)], ()),
    ("tienen mica pa redmi note12?", [("MICA-RN12", None)], ()),  # the model glued to its number
    ("me das 2 micas para a54", [("MICA-A54", 2)], (2,)),
])
def test_numbers_of_a_model_are_part_of_the_mention(phone_shop: CatalogMatcher, text: str, expected: list,
                                                   quantities: tuple) -> None:
    entities = phone_shop.extract(text)
    assert mentions(entities) == expected
    assert entities.quantities == quantities


@pytest.mark.parametrize(("text", "qualifier"), [
    ("quiero una funda para iphone 16", "iphone 16"),  # no such case: not 16 of anything
    ("tienen case pa iphone 12?", "iphone 12"),
    ("funda para iphone 12", "iphone 12"),
])
def test_a_model_the_catalog_lacks_is_an_unknown_variant_not_a_quantity(phone_shop: CatalogMatcher, text: str,
                                                                      qualifier: str) -> None:
    entities = phone_shop.extract(text)
    (mention,) = entities.products
    assert mention.qualifier == qualifier
    assert set(mention.candidates) == {"CASE-IP13", "CASE-IP14", "CASE-IP15"}  # the cases, never the cable
    assert mention.quantity in (None, 1) and 12 not in entities.quantities and 16 not in entities.quantities


def test_a_kind_the_catalog_tells_apart_by_para_is_an_unknown_variant(phone_shop: CatalogMatcher) -> None:
    (mention,) = phone_shop.extract("y cargador pa motorola?").products
    assert mention.qualifier == "motorola"
    assert set(mention.candidates) == {"CAR-IPH", "CAR-SAM", "CAR-AUTO"}  # not a yes with the car charger


# -- the type word picks among the products it heads --------------------------------------------


def test_category_word_and_model_number_intersect(phone_shop: CatalogMatcher) -> None:
    (mention,) = phone_shop.extract("y mica pal 14?").products  # "Micas" and the mica named "... 14"
    assert mention.sku == "MICA-IP13" and mention.candidates == ("MICA-IP13",)


def test_type_word_and_model_words_from_different_names_intersect() -> None:
    """No name or alias says "funda a54", but one product is a "funda" and an "A54"."""
    def product(sku: str, name: str, category: str, aliases: tuple[str, ...] = ()) -> Product:
        return Product(sku=sku, name=name, category=category, price=Decimal("10"), stock=5, aliases=aliases)

    matcher = CatalogMatcher([
        product("FUN-A54", "Protector antigolpe Samsung A54", "Cases", ("funda",)),
        product("FUN-S23", "Protector antigolpe Samsung S23", "Cases", ("funda",)),
        product("MIC-A54", "Mica templada Samsung A54", "Micas"),
    ])
    (mention,) = matcher.extract("quiero una funda para mi a54").products
    assert mention.candidates == ("FUN-A54",) and mention.quantity == 1
    (mention,) = matcher.extract("un case pa mi s23").products  # "case" is only the category "Cases"
    assert mention.candidates == ("FUN-S23",)
    (mention,) = matcher.extract("micas para el a54").products
    assert mention.candidates == ("MIC-A54",)


def test_a_category_written_as_such_is_the_category(phone_shop: CatalogMatcher) -> None:
    entities = phone_shop.extract("y power banks?")
    assert entities.products == () and entities.categories == ("Power banks",)
    assert phone_shop.extract("y el power bank?").skus == ("PB-10K",)  # the alias, as written


# -- categories are abstracted for the classifier -----------------------------------------------


def test_categories_named_outside_products_are_abstracted(phone_shop: CatalogMatcher) -> None:
    for text, abstracted in [
        ("que audifonos tienen", f"que {CATEGORY_TOKEN} tienen"),
        ("que power banks tienen?", f"que {CATEGORY_TOKEN} tienen qmark"),
        ("mica pal a54", PRODUCT_TOKEN),  # the category word is part of the product mention
        ("2 cargadores de 20w", f"2 {PRODUCT_TOKEN}"),
    ]:
        normalized = normalize(text)
        assert phone_shop.abstract(normalized, phone_shop.extract_normalized(normalized)) == abstracted


# -- pollería ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1/4 de pollo y una agua", [("POL-CUA", None), ("BEB-AGU", 1)]),
    ("ok mejor solo 1/2 pollo a la brasa", [("POL-MED", None)]),  # half a chicken, not 2 whole ones
    ("1/2 pollo", [("POL-MED", None)]),
    ("2 cuartos de pollo", [("POL-CUA", 2)]),
    ("un cuarto de pollo con chicha", [("POL-CUA", 1), ("BEB-CHI", None)]),
    ("coca cola 2", [("BEB-COC", 2)]),  # "500 ml" is a measure: a number after "cola" still counts
])
def test_portions(polleria: CatalogMatcher, text: str, expected: list) -> None:
    assert mentions(polleria.extract(text)) == expected


def test_what_comes_with_a_dish_is_no_second_item(polleria: CatalogMatcher) -> None:
    assert mentions(polleria.extract("y un medio pollo con papas")) == [("POL-MED", 1)]
    assert mentions(polleria.extract("medio pollo con una porcion de papas")) == [("POL-MED", None), ("GUA-PAP", 1)]
    assert mentions(polleria.extract("un cuarto de pollo con chicha")) == [("POL-CUA", 1), ("BEB-CHI", None)]


def test_an_unknown_word_after_a_dish_head_is_an_unknown_variant(polleria: CatalogMatcher) -> None:
    (mention,) = polleria.extract("y pollo broaster tienen?").products
    assert mention.qualifier == "broaster" and mention.sku == "POL-ENT"
    (mention,) = polleria.extract("tienen pollo broaster?").products
    assert mention.qualifier == "broaster"


@pytest.mark.parametrize("text", [
    "una inka helada",  # a product named in full: the word describes it
    "quiero un pollo entero",
    "ya no quiero el pollo, quitalo",  # a verb
    "que pollo recomiendas",  # after "qué", a verb follows
    "el pollo llego crudo",  # not at the end of a clause
])
def test_words_after_a_dish_that_are_no_variant(polleria: CatalogMatcher, text: str) -> None:
    assert all(m.qualifier is None for m in polleria.extract(text).products)


def test_what_a_bare_category_word_is_asked_for_is_no_variant(demo: CatalogMatcher) -> None:
    assert all(m.qualifier is None for m in demo.extract("hacen tortas personalizadas?").products)
    assert all(m.qualifier is None for m in demo.extract("que tortas manejan?").products)


def test_model_designations_in_names_but_never_sizes() -> None:
    assert model_tokens("Case iPhone 14 silicona") == {"14"}
    assert model_tokens("Mica templada iPhone 13/14") == {"13", "14"}
    assert model_tokens("Case Samsung A54 antigolpe") == {"a54"}
    for sized in ("Inca Kola 1.5 L", "Cargador 20W", "Coca Cola 500 ml", "Taladro percutor 650 W",
                  "Rodillo de 9 pulgadas", "Tarugos N° 8", "Cable THW 14 AWG", "Torta de chocolate"):
        assert model_tokens(sized) == set(), sized
