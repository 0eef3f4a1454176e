"""A street address in a message: taken out whole, before the message is understood.

Peruvian addresses are full of numbers and words that also name products or intents ("mz F lote 8",
"sector 3 grupo 12", "Av. Caminos del Inca 1250", "Urb. La Libertad"). When the bot asked for the
address, or a clause looks like one (a street word — av., jr., calle, psje., mz, lote, sector, urb.,
dpto... — and a number), that clause and the clauses that go on with it (a department, an
urbanization, a reference: "a una cuadra del mercado") are the address: their numbers and words are
never items, quantities, zones or intents. The other clauses ("…, pago con yape") are understood as
usual. A sentence ends a clause too ("jr las magnolias 345. efectivo", "av sucre 890. ¿cuánto es el
delivery?"), except after an abbreviation ("Av. Brasil", "Mz. F").

The district or area an address names ("av brasil 3320 magdalena", "sector 2 grupo 5 villa el
salvador") is the delivery zone when it names one of the shop's zones (``zones_in``); the words of
a street's own name ("av san miguel 120") never are.
"""

from __future__ import annotations

import dataclasses
import re

from chasqui.dialogue.cues import cues, fold, has_cue
from chasqui.nlu.analyzer import Analysis

_BREAKS = re.compile(r"[,;\n]+|\.+(?=\s|$)|(?<=[?!])\s+")
_DIGIT = re.compile(r"\d")
# intents that an address said along the way never turns into a checkout step
_NOT_CHECKOUT = frozenset({"cancelar_pedido", "vaciar_carrito", "queja_reclamo", "solicitar_humano", "problema_pago"})


def _words(name: str) -> frozenset[str]:
    return frozenset(fold(w) for w in cues().get(name, ()))


def clauses_of(text: str) -> list[str]:
    """The message cut at commas, semicolons, new lines and sentence ends (a period that follows an
    abbreviation, "Av." or "Mz.", ends nothing); a question keeps its mark."""
    abbreviations = _words("abbreviations")
    out: list[str] = []
    start = 0
    for cut in _BREAKS.finditer(text or ""):
        if cut.group(0).startswith("."):
            before = text[start:cut.start()].split()
            if before and fold(before[-1]) in abbreviations:
                continue
        out.append(text[start:cut.start()])
        start = cut.end()
    out.append((text or "")[start:])
    return [c.strip() for c in out if c.strip()]


def zones_in(place: str, matcher) -> tuple[str, ...]:
    """The shop's delivery zones an address names by its district or area ("av brasil 3320
    magdalena", "sector 2 grupo 5 villa el salvador"); a street's own name (the words between a
    street word and its number: "av san miguel 120") names none."""
    if matcher is None or not place:
        return ()
    street = _words("street")
    words = place.split()
    folded = [fold(w) for w in words]
    kept = [True] * len(words)
    for at, word in enumerate(folded):
        if word not in street:
            continue
        for k in range(at + 1, len(words)):
            if _DIGIT.search(folded[k]) or folded[k] in street:
                break
            kept[k] = False
    text = " ".join(w for w, keep in zip(words, kept, strict=True) if keep)
    found = matcher.extract(text).zones
    said = f" {fold(text)} "
    return tuple(name for name in found if _written(name, said, matcher))


def _written(zone_name: str, padded_folded: str, matcher) -> bool:
    """The zone is written in the address, by its name or one of its aliases, not a near word ("a
    una cuadra del mercado" never names "Cercado")."""
    zone = next((z for z in matcher.zones if z.name == zone_name), None)
    names = [zone_name, *(zone.aliases if zone is not None else ())]
    return any(f" {fold(name)} " in padded_folded for name in names)


def _starts_address(words: list[str], answering: bool) -> tuple[int, bool] | None:
    """Where the address starts in a clause's words, and whether a street word starts it (None: the
    clause is no address)."""
    if not any(_DIGIT.search(w) for w in words):
        return None
    street = _words("street")
    for at, word in enumerate(words):
        if word in street and any(_DIGIT.search(w) for w in words[at + 1:at + 6]):
            return at, True
    if answering and len(words) >= 2 and any(w.isalpha() and len(w) > 2 for w in words):
        return _after_leads(words, 0), False
    return None


def _after_leads(words: list[str], at: int) -> int:
    """Past the words that lead to an address ("mi dirección es", "es en")."""
    leads = sorted((fold(p).split() for p in cues().get("address_lead", ())), key=len, reverse=True)
    moved = True
    while moved:
        moved = False
        for lead in leads:
            if words[at:at + len(lead)] == lead and at + len(lead) < len(words):
                at, moved = at + len(lead), True
                break
    return at


def _before(words: list[str], start: int) -> int:
    """The words before an address, less the ones leading to it ("mándamelo a", "mi dirección es")."""
    leads = sorted((fold(p).split() for p in cues().get("address_lead", ())), key=len, reverse=True)
    end, moved = start, True
    while moved and end:
        moved = False
        for lead in leads:
            if end >= len(lead) and words[end - len(lead):end] == lead:
                end, moved = end - len(lead), True
                break
    return end


def _goes_on(words: list[str]) -> bool:
    """A clause that continues an address: a street word, an urbanization, a department or a reference."""
    if not words:
        return False
    if _words("street") & set(words[:3]):
        return True
    folded = " ".join(words)
    return any(f" {p} " in f" {folded} " for p in cues().get("address_more", ()))


def _no_address(clause: str, matcher) -> bool:
    """A clause with a number but no street word that is surely something else: a product, a payment,
    a cash bill, a yes or no, an adding verb, a question ("dame 3 de esa", "pago con 50")."""
    folded = fold(clause)
    if "?" in clause or "¿" in clause or any(has_cue(folded, c) for c in (
            "take_it", "add_verbs", "yes", "no", "change", "not_address")):
        return True
    if matcher is None:
        return False
    found = matcher.extract(clause)
    return bool(found.products or found.payment_methods or found.categories)


def split(text: str, *, answering: bool = False, matcher=None) -> tuple[str | None, str]:
    """(the address the message gives, the rest of the message) — (None, text) when it gives none.

    ``answering``: the bot just asked for the address (then a clause with a number and words is one,
    unless it names a product, a payment or a cash bill, found with ``matcher``).
    """
    clauses = clauses_of(text)
    for k, clause in enumerate(clauses):
        raw = clause.split()
        words = [fold(w) for w in raw]
        if len(words) != len(raw) or any(not w for w in words):
            raw = [w for w in raw if fold(w)]
            words = [fold(w) for w in raw]
        found = _starts_address(words, answering)
        if found is None:
            continue
        start, by_street = found
        if not by_street and _no_address(" ".join(raw[start:]), matcher):
            continue  # "pago con 50", "agrega 2 chichas": no address
        parts = [" ".join(raw[start:])]
        end = k + 1
        while end < len(clauses) and _goes_on(fold(clauses[end]).split()):
            parts.append(clauses[end])
            end += 1
        before = " ".join(raw[:_before(words, start)])
        rest = ", ".join(c for c in [*clauses[:k], before, *clauses[end:]] if c.strip())
        return ", ".join(parts)[:200], rest
    return None, text


def with_zones(analysis: Analysis, place: str | None, matcher) -> Analysis:
    """The message's analysis with the zone its address names, when the rest of it names none."""
    if place is None or analysis.entities.zones:
        return analysis
    found = zones_in(place, matcher)
    if not found:
        return analysis
    return dataclasses.replace(analysis, entities=dataclasses.replace(analysis.entities, zones=found))


def gives_delivery(place: str | None, said: str, intent: str) -> bool:
    """A message that gives a street address and asks nothing else ("mándalo a av brasil 3320
    magdalena, pago x plin", "jr las magnolias 345. efectivo"): a step of the checkout."""
    if place is None or intent in _NOT_CHECKOUT:
        return False
    folded = fold(said)
    return not ("?" in said or "¿" in said or has_cue(folded, "question") or has_cue(folded, "price_question"))
