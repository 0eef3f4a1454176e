"""Which one-letter differences are plausible typing mistakes, for short words.

Fuzzy matching reads "torat" as "torta", but a short word one letter away from a catalog word
is often another ordinary word: "paga" is not "papa", "sean" is not "San (Luis)", "mesas" is not
"Mega". For words of up to ``SHORT`` letters a difference is accepted only when it looks like a
slip of the fingers or of spelling:

* two neighbouring letters swapped ("torat" → "torta");
* one letter replaced by a key next to it on a QWERTY/Spanish keyboard ("tirta" → "torta") or by
  one that sounds alike in Latin American Spanish (b/v, s/z/c, y/i/ll, k/q/c, g/j...);
* one letter missing ("tota" → "torta");
* one letter typed twice ("torrta" → "torta").

Longer words keep the plain edit-distance rule of the matcher. At any length, a word that only
changes the gender ending ("helada" for "helado") is another word, not a slip.
"""

from __future__ import annotations

SHORT = 5
_ROWS = ("qwertyuiop", "asdfghjklñ", "zxcvbnm")
_POSITION = {key: (row, col) for row, keys in enumerate(_ROWS) for col, key in enumerate(keys)}
_SOUND_ALIKE = frozenset(
    frozenset(pair) for pair in ("bv", "sz", "sc", "cz", "yi", "kc", "kq", "qc", "gj", "nñ", "yl")
)


def _next_keys(a: str, b: str) -> bool:
    """Keys side by side, or touching on the row above/below (staggered rows)."""
    if a not in _POSITION or b not in _POSITION:
        return False
    (row_a, col_a), (row_b, col_b) = _POSITION[a], _POSITION[b]
    if row_a == row_b:
        return abs(col_a - col_b) == 1
    if abs(row_a - row_b) != 1:
        return False
    upper_col, lower_col = (col_a, col_b) if row_a < row_b else (col_b, col_a)
    return lower_col in (upper_col - 1, upper_col)  # each row sits about half a key to the right


def _slip(a: str, b: str) -> bool:
    return _next_keys(a, b) or frozenset((a, b)) in _SOUND_ALIKE


def plausible_typo(written: str, known: str, *, any_length: bool = False) -> bool:
    """Whether ``written`` can be a mistyped ``known`` (both normalized, one edit apart or less).

    Words longer than ``SHORT`` letters are always plausible, unless ``any_length`` asks to judge
    them too (category names: "sabado" is not "salado", "saltado" is not "salado").
    """
    if written == known:
        return True
    if len(written) == len(known) and written[:-1] == known[:-1] and {written[-1], known[-1]} == {"a", "o"}:
        return False  # the other gender is another word: "helada" (una inka helada) is no "helado"
    if len(written) > SHORT and not any_length:
        return True
    if len(written) == len(known):
        diffs = [i for i, (a, b) in enumerate(zip(written, known, strict=True)) if a != b]
        if len(diffs) == 1:
            return _slip(written[diffs[0]], known[diffs[0]])
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and written[diffs[0]] == known[diffs[1]] and written[diffs[1]] == known[diffs[0]])
    if len(known) == len(written) + 1:  # a letter missing
        return any(known[:i] + known[i + 1 :] == written for i in range(len(known)))
    if len(written) == len(known) + 1:  # a letter typed twice
        return any(
            written[:i] + written[i + 1 :] == known and i > 0 and written[i] == written[i - 1]
            for i in range(len(written))
        )
    return False
