"""Normalization of WhatsApp Spanish (Peru) before entity extraction and classification.

``normalize`` is total: it accepts any ``str`` (also binary garbage or huge texts) and returns a
lowercase, accent-free string of space-separated tokens. "ñ" is a letter, not an accent, and stays:
"uña" must not turn into the article "una". Where "n" and "ñ" should count as the same letter
(catalog keys, the classifier's features), callers apply ``fold_enye``. The same function is applied to the
customer's text, to the training samples and to the catalog's names, so typos it fixes and
tokens it produces stay consistent everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import emoji

from chasqui.nlu.lexicon import COMMON_WORDS, FUNCTION_WORDS

MAX_INPUT_CHARS = 1000
"""Longer texts are cut to this many characters before anything else (WhatsApp chat lines are short)."""
MAX_OUTPUT_CHARS = 2000
MAX_REPEATS = 3

PRODUCT_TOKEN = "zprod"
"""Token that stands for a product mention (``<prod>`` in training data, ``abstract()`` at run time)."""
CATEGORY_TOKEN = "zcat"
"""Token that stands for a catalog category named outside any product mention ("¿qué audífonos
tienen?"; ``<cat>`` in training data, ``abstract()`` at run time). Not ``zprod``: a category asks
about a kind of thing ("tienen lista de pinturas?" is the catalog), and the seed data writes
category words as words."""
QMARK_TOKEN = "qmark"
EXCLAM_TOKEN = "exclam"
EMO_POS, EMO_NEG, EMO_OTHER = "emo_pos", "emo_neg", "emo"

_PLACEHOLDER_RE = re.compile(r"<\s*prod\s*>", re.IGNORECASE)
_CATEGORY_PLACEHOLDER_RE = re.compile(r"<\s*cat\s*>", re.IGNORECASE)

# Emoji sentiment: an explicit map for the frequent ones, then keywords of the emoji's English name.
_POS_EMOJI = set("😀😃😄😁😆😊🙂😉😍🥰😘😗😙😚☺🤗👍👌🙏👏🙌💪🎉🎊✨⭐🌟💯✅😋😎🤩🥳😇")
_POS_EMOJI |= set("💕💖💗💓💞💘❤🧡💛💚💙💜🤍🤎🖤😂🤣😅")
_NEG_EMOJI = set("😡😠🤬😤😞😢😭😩😫😔😟🙁☹😣😖😒🙄👎💔😑😐😕😧😦😨😰😱🤮🤢🖕❌⚠😬")
_POS_WORDS = ("smil", "grin", "heart", "thumbs_up", "folded_hands", "clap", "party", "kiss", "hug",
              "ok_hand", "sparkl", "star", "wink", "joy", "check_mark", "muscle", "raising_hands")
_NEG_WORDS = ("angry", "pout", "enraged", "thumbs_down", "cry", "disappoint", "broken_heart", "unamused",
              "rolling_eyes", "weary", "tired", "pensive", "frown", "persever", "confound", "symbols_on",
              "middle_finger", "nause", "vomit", "steam", "worried", "anguish", "fear", "scream",
              "cross_mark")

# ":)" style emoticons, matched on the lowercased text before punctuation is dropped.
_EMOTICON_RE = re.compile(r"(?<![\w/:])(?::|;|=)-?(?:\)+|d\b|p\b|\*|\(+|/(?!/)|\|)|<3|(?<!\w)xd+\b")
_EMOTICON_NEG_CHARS = ("(", "/", "|")

_QMARK_RE = re.compile(r"\?+")
_EXCLAM_RE = re.compile(r"!+")
# Keep word characters; keep "." "," ":" only between digits ("7.50", "10:30", "1,000").
_DROP_RE = re.compile(r"(?:(?<!\d)[.,:]|[.,:](?!\d)|[^\w\s.,:])+")
# Digits glued to letters: "2tortas" -> "2 tortas", "5pm" -> "5 pm"; "2x1" (a promotion) stays.
_DIGIT_LETTER_RE = re.compile(r"(?<=\d)(?=[^\W\d_])(?!x\d)")
# Letters glued to digits stay one token when they name a model ("a54", "s23", "note12", "t800");
# only a multiplier ("x3") or an ordinary word ("quiero2") is cut off its number.
_LETTER_DIGIT_RE = re.compile(r"(?<![^\W_])([^\W\d_]+)(?=\d)")
_PROMO_XY_RE = re.compile(r"\b(\d+)x(\d+)\b")
# Fractions people write for portions ("1/2 pollo", "1/4 de pollo"): read as the words they say,
# in customer texts and catalog names alike, so "1/2" is never the quantities 1 and 2.
_FRACTION_RE = re.compile(r"(?<![\d/])([13])\s*/\s*([248])(?![\d/])")
_FRACTION_WORDS = {("1", "2"): " medio ", ("1", "4"): " cuarto ", ("3", "4"): " tres cuartos ",
                   ("1", "8"): " octavo "}
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
_MAYBE_EMOJI_RE = re.compile("[\u2000-\U0010ffff]")
URL_TOKEN = "url"
_ORDINARY_WORDS = COMMON_WORDS | FUNCTION_WORDS
_LAUGH_RE = re.compile(r"^(?:j+[aeiou]+){2,}j*$|^(?:h+a+){2,}h*$|^(?:a*j+a+)+j*$")
_TRIPLE_RE = re.compile(r"([^\W\dlrc])\1{2,}")
_TRIPLE_KEEP2_RE = re.compile(r"([lrc])\1{2,}")
_DOUBLE_RE = re.compile(r"([^\W\dlrceo])\1|(o)o$")

# Token-level spelling fixes (applied after elongations are collapsed).
_SPELLING: dict[str, str] = {
    "kiero": "quiero", "kieres": "quieres", "kiere": "quiere", "kisiera": "quisiera", "qiero": "quiero",
    "quero": "quiero", "kero": "quiero", "keria": "queria", "qeria": "queria",
    "q": "que", "k": "que", "ke": "que", "qe": "que", "xq": "porque", "pq": "porque",
    "porq": "porque", "xk": "porque", "pk": "porque", "xke": "porque", "xque": "porque", "porke": "porque",
    "porfa": "por favor", "porfis": "por favor", "porfi": "por favor", "porfavor": "por favor",
    "xfa": "por favor", "xfavor": "por favor", "plis": "por favor", "pliss": "por favor",
    "pls": "por favor", "plz": "por favor", "please": "por favor",
    "nomas": "no mas", "noma": "no mas",
    "tb": "tambien", "tmb": "tambien", "tbn": "tambien", "tambn": "tambien", "tbm": "tambien",
    "dnd": "donde", "dnde": "donde", "d": "de", "xa": "para", "pa": "para", "pal": "para el",
    "grax": "gracias", "grac": "gracias", "grcs": "gracias", "grasias": "gracias", "graxias": "gracias",
    "gracia": "gracias", "thx": "gracias", "thanks": "gracias",
    "bn": "bien", "bno": "bueno", "wenas": "buenas", "wena": "buena", "weno": "bueno", "ola": "hola",
    "holis": "hola", "hl": "hola", "bs": "buenas", "bns": "buenas", "bnas": "buenas",
    "ntp": "no te preocupes", "msj": "mensaje", "mje": "mensaje", "aki": "aqui", "aca": "aqui",
    "kien": "quien", "kuanto": "cuanto", "cuant": "cuanto", "cuanta": "cuanto", "kuando": "cuando",
    "cdo": "cuando", "dsp": "despues", "dps": "despues", "dp": "despues",
    "salu2": "saludos", "toy": "estoy", "tas": "estas", "sta": "esta", "mñn": "mañana",
    "mna": "manana", "hoi": "hoy", "oy": "hoy", "ps": "pues", "pe": "pues",
    "nd": "nada", "tdo": "todo", "tods": "todos", "ok": "ok", "oki": "ok", "okis": "ok",
    "okey": "ok", "okay": "ok", "oka": "ok", "okk": "ok", "dale": "dale", "sip": "si",
    "nop": "no", "nel": "no", "xd": EMO_POS, "info": "informacion",
    "xfis": "por favor", "cel": "celular", "nro": "numero", "num": "numero",
}
# Multi-token fixes on the token list (before the single-token map).
_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("x", "fa"), ("por", "favor")),
    (("x", "favor"), ("por", "favor")),
    (("por", "fa"), ("por", "favor")),
    (("por", "fis"), ("por", "favor")),
    (("x", "fis"), ("por", "favor")),
    (("no", "ma"), ("no", "mas")),
)
_PHRASE_STARTS = frozenset(source[0] for source, _ in _PHRASES)


def normalize(text: str) -> str:
    """Return the normalized form of ``text`` (never raises; ``""`` for anything unusable)."""
    try:
        return _normalize(text)
    except Exception:  # pragma: no cover - defensive: the message pipeline must never stop here
        return ""


def _normalize(text: str) -> str:
    if not isinstance(text, str):
        text = str(text) if text is not None else ""
    text = text[:MAX_INPUT_CHARS]
    if not text:
        return ""
    text = _PLACEHOLDER_RE.sub(f" {PRODUCT_TOKEN} ", text)
    text = _CATEGORY_PLACEHOLDER_RE.sub(f" {CATEGORY_TOKEN} ", text)
    if not text.isascii():
        text = text.encode("utf-8", "ignore").decode("utf-8")  # drops lone surrogates
        text = unicodedata.normalize("NFC", text)
        if _MAYBE_EMOJI_RE.search(text):
            text = emoji.replace_emoji(text, replace=_emoji_token)
        text = _strip_accents(text)
    text = text.lower()
    text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    text = _EMOTICON_RE.sub(_emoticon_token, text)
    text = _PROMO_XY_RE.sub(r" \1x\2 ", text)
    text = _FRACTION_RE.sub(lambda m: _FRACTION_WORDS.get((m.group(1), m.group(2)), m.group(0)), text)
    text = _QMARK_RE.sub(f" {QMARK_TOKEN} ", text)
    text = _EXCLAM_RE.sub(f" {EXCLAM_TOKEN} ", text)
    text = _DROP_RE.sub(" ", text)
    text = _DIGIT_LETTER_RE.sub(" ", text)
    text = _LETTER_DIGIT_RE.sub(_split_letters_digits, text)
    tokens: list[str] = []
    for raw in text.split():
        tokens.extend(_fix_token(raw))
    out = " ".join(_limit_repeats(_apply_phrases(tokens)))
    if len(out) > MAX_OUTPUT_CHARS:
        out = out[: out.rfind(" ", 0, MAX_OUTPUT_CHARS + 1)].rstrip() if " " in out[:MAX_OUTPUT_CHARS] \
            else out[:MAX_OUTPUT_CHARS]
    return out


def _split_letters_digits(match: re.Match[str]) -> str:
    letters = match.group(1)
    if letters == "x" or (len(letters) >= 3 and letters in _ORDINARY_WORDS):
        return letters + " "
    return letters


def _limit_repeats(tokens: list[str]) -> list[str]:
    """At most ``MAX_REPEATS`` equal tokens in a row ("😡😡😡😡😡" -> three ``emo_neg``)."""
    out: list[str] = []
    run = 0
    for token in tokens:
        run = run + 1 if out and out[-1] == token else 1
        if run <= MAX_REPEATS:
            out.append(token)
    return out


def fold_enye(text: str) -> str:
    """"ñ" -> "n": for comparisons where customers' "una"/"uña", "brena"/"breña" must meet."""
    return text.replace("ñ", "n")


def _strip_accents(text: str) -> str:
    """Drop diacritics (and control characters), keeping "ñ"/"Ñ"."""
    decomposed = unicodedata.normalize("NFKD", text).replace("n\u0303", "ñ").replace("N\u0303", "Ñ")
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and _printable(ch))
    return unicodedata.normalize("NFC", kept)


def _printable(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] != "C" or ch in "\n\t"


def _emoji_token(chars: str, data: dict) -> str:
    return f" {emoji_sentiment(chars, data.get('en', ''))} "


def emoji_sentiment(chars: str, name: str = "") -> str:
    """``emo_pos``, ``emo_neg`` or ``emo`` for one emoji (sequence)."""
    base = chars[:1]
    if base in _POS_EMOJI:
        return EMO_POS
    if base in _NEG_EMOJI:
        return EMO_NEG
    if any(word in name for word in _NEG_WORDS):
        return EMO_NEG
    if any(word in name for word in _POS_WORDS):
        return EMO_POS
    return EMO_OTHER


def _emoticon_token(match: re.Match[str]) -> str:
    face = match.group(0)
    if face.startswith(("x", "<")):
        return f" {EMO_POS} "
    negative = any(ch in face[1:] for ch in _EMOTICON_NEG_CHARS)
    return f" {EMO_NEG if negative else EMO_POS} "


@lru_cache(maxsize=8192)
def _fix_token(token: str) -> tuple[str, ...]:
    if token in _SPELLING:
        fixed = _SPELLING[token]
        return tuple(fixed.split())
    if not token.isalpha():
        return (token,)
    collapsed = collapse_elongation(token)
    if _LAUGH_RE.match(collapsed):
        return ("jaja",)
    fixed = _SPELLING.get(collapsed, collapsed)
    return tuple(fixed.split())


def collapse_elongation(word: str) -> str:
    """"holaaaa" -> "hola", "siii" -> "si", "buenass" -> "buenas"; keeps "ll", "rr", "cc", "ee", "oo"."""
    word = _TRIPLE_RE.sub(r"\1", word)
    word = _TRIPLE_KEEP2_RE.sub(r"\1\1", word)
    return _DOUBLE_RE.sub(lambda m: m.group(1) or m.group(2), word)


def _apply_phrases(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        target = _phrase_at(tokens, i) if token in _PHRASE_STARTS else None
        if target is not None:
            source, replacement = target
            out.extend(replacement)
            i += len(source)
            continue
        if token == "x":  # "x la tarde" -> "por la tarde"; "x 3" keeps the multiplier
            nxt = tokens[i + 1] if i + 1 < n else ""
            token = "x" if (not nxt or nxt.isdigit()) else "por"
        out.append(token)
        i += 1
    return out


def _phrase_at(tokens: list[str], i: int) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    for source, replacement in _PHRASES:
        if tuple(tokens[i : i + len(source)]) == source:
            return source, replacement
    return None
