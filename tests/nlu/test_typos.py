"""typos.plausible_typo and its use by the matcher: short words are fuzzily read as catalog words only
when the difference looks like a slip ("torat", "tirta"), never when it is another ordinary word
("paga" is not "papa", "sean" is not "San Luis", "mesas" is not "Mega")."""

from __future__ import annotations

import pytest

from chasqui.nlu.entities import CatalogMatcher
from chasqui.nlu.typos import plausible_typo


@pytest.mark.parametrize(("written", "known"), [
    ("torat", "torta"),  # two neighbouring letters swapped
    ("tirta", "torta"),  # "i" is next to "o" on the keyboard
    ("tota", "torta"),  # a letter missing
    ("torrta", "torta"),  # a letter typed twice
    ("vaso", "baso"),  # b/v sound alike
    ("sambito", "zambito"),  # long words: the matcher's edit distance decides
])
def test_slips_are_plausible(written: str, known: str) -> None:
    assert plausible_typo(written, known)


@pytest.mark.parametrize(("written", "known"), [
    ("paga", "papa"),  # g and p are far apart: another word
    ("sean", "san"),  # an extra letter that is no double
    ("mesa", "mega"),
    ("sale", "sal"),
    ("pago", "papa"),
    ("helada", "helado"),  # another gender is another word, at any length
])
def test_other_words_are_no_typos(written: str, known: str) -> None:
    assert not plausible_typo(written, known)


def test_long_words_are_judged_only_when_asked() -> None:
    assert plausible_typo("sabado", "salado")  # the product matcher allows its edit distance
    assert not plausible_typo("sabado", "salado", any_length=True)  # categories are strict
    assert plausible_typo("tortsa", "tortas", any_length=True)


@pytest.mark.parametrize("text", [
    "como se paga?",
    "mejor que sean tres",
    "reservan mesas?",
    "reservan mesas para el sabado?",
    "a que hora sale el pedido?",
    "se paga al llegar?",
    "no sean malitos",
    "tienen mesas afuera?",
    "pagas tu o pago yo",
])
def test_ordinary_words_are_no_short_catalog_words(polleria: CatalogMatcher, text: str) -> None:
    """The pollería sells "papas", "Agua San Luis" and a "Combo Mega": none of these is asked for."""
    assert polleria.extract(text).products == ()


@pytest.mark.parametrize(("text", "sku"), [
    ("torat de chocolate", "TOR-CHOC"),
    ("tirta de chocolate", "TOR-CHOC"),
    ("tota de chocolate", "TOR-CHOC"),
    ("alfajres", "ALF-MAI"),
    ("quiero 2 alfajres", "ALF-MAI"),
])
def test_real_typos_are_still_found(demo: CatalogMatcher, text: str, sku: str) -> None:
    assert demo.extract(text).skus == (sku,)


def test_ll_and_y_sound_alike(polleria: CatalogMatcher, ferreteria: CatalogMatcher) -> None:
    assert polleria.extract("un poyo entero").skus == ("POL-ENT",)
    assert ferreteria.extract("tienen rodiyo?").skus == ("PIN-ROD-9",)


def test_the_other_gender_of_a_catalog_word_is_no_product(polleria: CatalogMatcher) -> None:
    assert polleria.extract("una inka helada").skus == ("BEB-INK",)  # cold, not a "Helado de lúcuma"
    assert polleria.extract("un helado").skus == ("POS-HEL",)


@pytest.mark.parametrize("text", [
    "cancela el pedido para el sabado",  # not the category "Salados"
    "quiero un lomo saltado",
    "el producto vino fallado",
])
def test_categories_are_read_only_through_plausible_slips(demo: CatalogMatcher, text: str) -> None:
    assert demo.extract(text).categories == ()
