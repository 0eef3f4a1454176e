"""Notes for the whole order, said along the way: how to deliver ("tocar el timbre", "dejar en
portería"), the invoice the customer needs ("factura, RUC 20601234567, razón social ..."), when
they come for it or want it ("paso a recoger a las 7"). Each one the customer says is kept, in the
order said; the read-back, the order and the staff notice show them. A question ("¿dan factura?")
is no note. Pure: no I/O.
"""

from __future__ import annotations

import re

from chasqui.dialogue.cues import cues, fold, has_cue, is_delivery, is_pickup

_CLAUSE_SPLIT = re.compile(r"[,;.\n]+|\by\b")
_TIME = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|hrs?|horas)\b")
MAX_CHARS = 300


def order_note(text: str) -> str | None:
    """The parts of the message that are notes for the whole order, as the customer wrote them."""
    found = [" ".join(clause.split()) for clause in _CLAUSE_SPLIT.split(text or "") if _is_note(clause)]
    return "; ".join(found)[:MAX_CHARS] or None


def added(notes: str | None, note: str | None) -> str | None:
    """The order's notes with ``note`` added (a note already kept is not repeated)."""
    if not note:
        return notes
    if not notes:
        return note[:MAX_CHARS]
    kept = [n for n in note.split("; ") if fold(n) not in fold(notes)]
    return "; ".join([notes, *kept])[:MAX_CHARS]


def _is_note(clause: str) -> bool:
    folded = fold(clause)
    if not folded or "?" in clause or "¿" in clause:
        return False
    padded = f" {folded} "
    if any(f" {cue} " in padded for cue in cues().get("order_note_cues", ())):
        return True
    return _says_when(folded) and (is_pickup(folded) or is_delivery(folded) or has_cue(folded, "arrival"))


def _says_when(folded: str) -> bool:
    """A time of day: "a las 7", "tipo 8", "7pm", "7:30 am"."""
    if _TIME.search(folded):
        return True
    padded = f" {folded} "
    return any(re.search(rf" {re.escape(lead)} \d", padded) for lead in cues().get("time_leads", ()))
