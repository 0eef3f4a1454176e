"""normalize(): WhatsApp Spanish in, stable lowercase tokens out, for any input."""

from __future__ import annotations

import random

import pytest

from chasqui.nlu.normalize import CATEGORY_TOKEN, MAX_OUTPUT_CHARS, PRODUCT_TOKEN, fold_enye, normalize
from chasqui.nlu.training import load_training_data


@pytest.mark.parametrize(("raw", "expected"), [
    ("Holaaaa", "hola"),
    ("siiii", "si"),
    ("buenasss tardes", "buenas tardes"),
    ("nooo", "no"),
    ("graciaaas", "gracias"),
    ("leer cree carro llama accion", "leer cree carro llama accion"),
    ("jajajajaja", "jaja"),
])
def test_elongations_collapse_but_legit_double_letters_stay(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("kiero 2 tortas d chocolate porfa", "quiero 2 tortas de chocolate por favor"),
    ("q tal", "que tal"),
    ("k precio tiene", "que precio tiene"),
    ("xq no responden", "porque no responden"),
    ("pq", "porque"),
    ("porfis", "por favor"),
    ("x fa", "por favor"),
    ("xfa", "por favor"),
    ("mejor 2 nomás", "mejor 2 no mas"),
    ("tb quiero chicha", "tambien quiero chicha"),
    ("tmb", "tambien"),
    ("dnd quedan", "donde quedan"),
    ("grax", "gracias"),
    ("x la tarde", "por la tarde"),
])
def test_common_whatsapp_spellings_are_fixed(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_case_accents_and_punctuation() -> None:
    assert normalize("¿Cuánto cuesta el PIE de limón???") == "cuanto cuesta el pie de limon qmark"
    assert normalize("esto es PÉSIMO!!!") == "esto es pesimo exclam"
    assert normalize("Mañana") == "mañana"  # "ñ" is a letter, not an accent


def test_enye_stays_so_una_is_never_read_as_the_article() -> None:
    assert normalize("el de UÑA") == "el de uña"
    assert normalize("dame una chicha") == "dame una chicha"
    assert fold_enye(normalize("Martillo de uña")) == "martillo de una"


def test_emoji_become_sentiment_tokens() -> None:
    assert normalize("holaaa buenas 😊") == "hola buenas emo_pos"
    assert normalize("😡😡 nadie responde") == "emo_neg emo_neg nadie responde"
    assert normalize("gracias 🙏🏽") == "gracias emo_pos"  # skin-tone modifier stays one emoji
    assert normalize("ok 👎") == "ok emo_neg"
    assert normalize("listo :)") == "listo emo_pos"
    assert normalize("ya no :(") == "ya no emo_neg"


def test_numbers_prices_and_times_stay_digits() -> None:
    assert normalize("quiero 2tortas x3") == "quiero 2 tortas x 3"
    assert normalize("S/ 7.50 a las 10:30") == "s 7.50 a las 10:30"
    assert normalize("promo 2x1") == "promo 2x1"


@pytest.mark.parametrize(("raw", "expected"), [
    ("1/2 pollo a la brasa", "medio pollo a la brasa"),
    ("1/4 de pollo y una agua", "cuarto de pollo y una agua"),
    ("3/4 de galón", "tres cuartos de galon"),
    ("1/8 de pollo", "octavo de pollo"),
    ("llave de paso de 1/2", "llave de paso de medio"),
    ("2 de 1/4", "2 de cuarto"),
    ("el 13/14", "el 13 14"),  # not a portion: both numbers stay
    ("2/3", "2 3"),
    ("1/16 de galón", "1 16 de galon"),
])
def test_portion_fractions_are_read_as_the_words_people_say(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_fractions_in_catalog_names_meet_the_customer_words() -> None:
    assert normalize("1/2 Pollo a la brasa") == normalize("medio pollo a la brasa")
    assert normalize("1/4 de Pollo a la brasa") == normalize("cuarto de pollo a la brasa")


@pytest.mark.parametrize(("raw", "expected"), [
    ("mica pal a54", "mica para el a54"),  # a model stays one token, never "a 54"
    ("samsung s23 ultra", "samsung s23 ultra"),
    ("redmi note12", "redmi note12"),
    ("reloj T800", "reloj t800"),
    ("cable v8", "cable v8"),
    ("quiero 2tortas", "quiero 2 tortas"),  # digits before letters are still cut
    ("cargador de 20w", "cargador de 20 w"),
    ("a las 5pm", "a las 5 pm"),
    ("chicha x3", "chicha x 3"),  # the multiplier is still cut off its number
    ("x2", "x 2"),
    ("promo 3x2", "promo 3x2"),
    ("quiero2", "quiero 2"),  # an ordinary word glued to its number is cut
    ("dame2 porfa", "dame 2 por favor"),
    ("salu2", "saludos"),
])
def test_letters_glued_to_digits_stay_a_model_unless_multiplier_or_ordinary_word(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert normalize(expected) == expected


def test_training_placeholder_and_urls() -> None:
    assert normalize("dame 2 <prod> y una <PROD>") == f"dame 2 {PRODUCT_TOKEN} y una {PRODUCT_TOKEN}"
    assert normalize("qué <cat> tienen?") == f"que {CATEGORY_TOKEN} tienen qmark"
    assert normalize("gana plata en http://spam.example/x?y=1 ya") == "gana plata en url ya"


def test_is_idempotent_on_the_training_data() -> None:
    for text, _ in load_training_data():
        once = normalize(text)
        assert normalize(once) == once, text


def test_never_raises_and_bounds_the_length() -> None:
    rng = random.Random(7)
    inputs = ["", " ", "\x00\x01\x02", "\ud800\udfff lone surrogates", "a" * 10_000, "😊" * 5_000,
              "ab " * 5_000, "\u202e\u200b\ufeff", None, 123]
    inputs += [bytes(rng.getrandbits(8) for _ in range(2_000)).decode("latin-1") for _ in range(5)]
    inputs += ["".join(chr(rng.randrange(0x110000)) for _ in range(500)) for _ in range(5)]
    for text in inputs:
        out = normalize(text)  # type: ignore[arg-type]
        assert isinstance(out, str)
        assert len(out) <= MAX_OUTPUT_CHARS
        assert out == out.strip() and "  " not in out


def test_long_runs_of_the_same_token_are_capped() -> None:
    assert normalize("😡😡😡😡😡😡") == "emo_neg emo_neg emo_neg"
    assert normalize("no no no no no") == "no no no"
