"""The unit a price is asked per ("hacen copias? ¿a cuánto la hoja?", "¿el cable, a cuánto el metro?"):
a unit word right after a product named plainly is that product's unit, never another product whose
name merely contains the word ("hojas bond"). Pure: works on one message's analysis.
"""

from __future__ import annotations

import dataclasses

from chasqui.dialogue.cues import cues, fold
from chasqui.nlu.analyzer import Analysis

_PLAIN = 95.0  # a product named by its name or an alias
_LOOSE = 90.0  # below this, a mention is a partial or fuzzy match


def drop_unit_mentions(analysis: Analysis) -> Analysis:
    """The analysis without the loose mentions that are only "the <unit>" after a plain mention."""
    mentions = analysis.entities.products
    if len(mentions) < 2 or not any(m.score >= _PLAIN for m in mentions):
        return analysis
    units = {fold(str(w)) for w in cues().get("unit_words", ())}
    articles = {fold(str(w)) for w in cues().get("unit_articles", ())}
    kept = []
    for index, mention in enumerate(mentions):
        words = fold(analysis.normalized[mention.start:mention.end]).split()
        plain_before = any(m.score >= _PLAIN and m.sku != mention.sku for m in mentions[:index])
        if (plain_before and mention.score < _LOOSE and words and words[-1] in units
                and all(w in articles for w in words[:-1])):
            continue  # "la hoja" of the copies just named
        kept.append(mention)
    if len(kept) == len(mentions):
        return analysis
    return dataclasses.replace(analysis, entities=dataclasses.replace(analysis.entities, products=tuple(kept)))
