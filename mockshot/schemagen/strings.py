"""Strings for a schema: readable text, a known `format`, or a match for a `pattern`.

Text comes from `readable_values` (a city for "city", an address for "email") and is then
fitted to `minLength`/`maxLength`; patterns go through `regex_strings`, and each candidate is
checked with `re.search` because that generator is best-effort.
"""

from __future__ import annotations

import random
import re

from .context import DrawContext, Path, SchemaGenerationError
from .readable import FORMATS, some_words, text_for
from .regex import UnsupportedRegex, regex_string

__all__ = ["draw_string"]

# Bound once: Python 3.11 compiles a method call on an imported name as an attribute load
# plus a call, a bound method made on every call, and this lookup runs for every string.
_format_maker = FORMATS.get


def draw_string(s: dict, cx: DrawContext, path: Path) -> str:
    if "pattern" in s:
        return _pattern_string(s, cx, path)
    make = _format_maker(s.get("format", ""))
    if make is not None:
        return _fit_format(make(cx.rng), s.get("format", ""), s.get("minLength", 0),
                           s.get("maxLength"))
    return _fit(text_for(cx.name, cx.rng), s.get("minLength", 0), s.get("maxLength"), cx.rng)


def _fit_format(text: str, fmt: str, least: int, most: int | None) -> str:
    """Stretch or shrink a formatted string where its format has room (an email's local
    part, a URI's path); formats of fixed shape are left for validation to judge."""
    if fmt == "email" and "@" in text:
        local, domain = text.split("@", 1)
        if len(text) < least:
            local += "x" * (least - len(text))
        elif most is not None and len(text) > most:
            local = local[: max(1, len(local) - (len(text) - most))]
        return f"{local}@{domain}"
    if fmt in ("uri", "url", "iri") and len(text) < least:
        return text.rstrip("/") + "/" + "x" * (least - len(text) - 1)
    if fmt in ("uri", "url", "iri") and most is not None and len(text) > most:
        return "http://a.io"[: max(most, 0)] if most < 11 else text[:most]
    return text


def _fit(text: str, least: int, most: int | None, rng: random.Random) -> str:
    """Pad with words or cut, so a readable string meets minLength/maxLength."""
    while len(text) < least:
        text += " " + some_words(rng, 1)
    if most is not None and len(text) > most:
        text = text[:most].rstrip() or text[:most]
    return text + "x" * (least - len(text))


def _pattern_string(s: dict, cx: DrawContext, path: Path) -> str:
    pattern, least, most = s["pattern"], s.get("minLength", 0), s.get("maxLength")
    for attempt in range(12):
        try:
            text = regex_string(pattern, cx.rng) if attempt < 10 else text_for(cx.name, cx.rng)
        except (re.error, UnsupportedRegex):
            text = text_for(cx.name, cx.rng)
        fits = least <= len(text) <= (len(text) if most is None else most)
        if fits and _search(pattern, text):
            return text
    raise SchemaGenerationError((*path, "pattern"), f"no string found for pattern {pattern!r}")


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
