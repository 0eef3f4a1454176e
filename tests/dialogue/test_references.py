"""Answers to the bot's question as the customer notices them: a variant value said with its number
("la caja de 100, deme 2") is no count, so the count is the other number."""

from __future__ import annotations

from chasqui.dialogue.variants import _rest_of_value


def test_a_value_named_by_its_first_word_takes_its_number_so_it_is_never_a_count() -> None:
    words = ["la", "caja", "de", "100", "deme", "2"]
    assert _rest_of_value(words, 2, "caja x 100") == 4  # "de 100" is part of the value
    assert _rest_of_value(words, 2, "kilo") == 2  # nothing of another value is taken
