"""Reply templates are filled by a whitelist renderer, never by ``str.format``.

A template is plain text with ``{name}`` placeholders (``{{`` and ``}}`` are literal braces). Each
template key accepts the common variables (``COMMON``) plus the ones its default variants in
``templates.es.yaml`` use: that file documents them. Attribute or index access
(``{customer.__class__}``), positional fields (``{0}``), conversions (``!r``) and format specs
(``{customer:x>100000}``) are refused when a template is saved (tenant import, panel) and never
evaluated when one is rendered; the text is capped at WhatsApp's 4,096 characters.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from pathlib import Path

import yaml

DEFAULTS_FILE = Path(__file__).resolve().parent / "templates.es.yaml"
MAX_REPLY_CHARS = 4096  # a WhatsApp text body
COMMON = frozenset({"bot_name", "business", "greeting", "customer", "customer_part", "pickup_address", "address"})
_PARSER = string.Formatter()


def _fields(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """``string.Formatter.parse`` of the whole template; ``ValueError`` on unbalanced braces."""
    return list(_PARSER.parse(template))


@functools.lru_cache(maxsize=1)
def _documented() -> dict[str, frozenset[str]]:
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8")) or {}
    names: dict[str, frozenset[str]] = {}
    for key, variants in data.items():
        texts = [variants] if isinstance(variants, str) else list(variants or ())
        used = {field for text in texts for _, field, _, _ in _fields(str(text)) if field}
        names[str(key)] = frozenset(used)
    return names


def allowed_names(key: str) -> frozenset[str]:
    """The variables a template of ``key`` may use."""
    return COMMON | _documented().get(key, frozenset())


def template_problems(key: str, template: str) -> list[str]:
    """What is wrong with one variant of ``key`` (Spanish, one line each); empty when it is fine."""
    try:
        fields = _fields(template)
    except ValueError:
        return ["las llaves no están balanceadas (para una llave literal escribe {{ o }})"]
    allowed = allowed_names(key)
    problems: list[str] = []
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.isidentifier():
            problems.append(f"{shown}: solo se permiten nombres de variables, sin puntos, índices ni números")
        elif conversion or spec:
            problems.append(f"{shown}: no se permiten formatos ni conversiones (':' o '!')")
        elif name not in allowed:
            problems.append(f"{shown}: variable desconocida (permitidas: {', '.join(sorted(allowed))})")
    return problems


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template``: only plain ``{name}`` fields are replaced (by ``values[name]``, else "");
    anything else is dropped, and the result is cut at ``MAX_REPLY_CHARS``."""
    try:
        fields = _fields(template)
    except ValueError:  # saved before validation existed: shown as written, never evaluated
        return template[:MAX_REPLY_CHARS]
    parts: list[str] = []
    size = 0
    for literal, name, _spec, _conversion in fields:
        piece = literal
        if name is not None and name.isidentifier():
            piece += str(values.get(name, ""))
        parts.append(piece)
        size += len(piece)
        if size > MAX_REPLY_CHARS:
            break
    return "".join(parts)[:MAX_REPLY_CHARS]


def cap(text: str) -> str:
    """A reply cut to WhatsApp's limit (with an ellipsis when cut)."""
    return text if len(text) <= MAX_REPLY_CHARS else text[: MAX_REPLY_CHARS - 1] + "…"
