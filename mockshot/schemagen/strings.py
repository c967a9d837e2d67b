"""Strings for a schema: readable text, a known `format`, or a match for a `pattern`.

Text comes from `readable_values` (a city for "city", an address for "email") and is then
fitted to `minLength`/`maxLength`; patterns go through `regex_strings`, and each candidate is
checked with `search` because that generator is best-effort. No string is longer than the
budget has room for: a longer `minLength` makes the value a cut one (see `Budget`).
"""

from __future__ import annotations

import random
import re

from .context import DrawContext, Path, SchemaGenerationError
from .readable import FORMATS, some_words, text_for
from .regex import UnsupportedRegex, regex_string, search

__all__ = ["draw_string"]

# Bound once: Python 3.11 compiles a method call on an imported name as an attribute load
# plus a call, a bound method made on every call, and this lookup runs for every string.
_format_maker = FORMATS.get


def draw_string(s: dict, cx: DrawContext, path: Path) -> str:
    text = _string(s, cx, path)
    cx.budget.spend(len(text) + 2)
    return text


def _string(s: dict, cx: DrawContext, path: Path) -> str:
    room = max(cx.budget.room() - 2, 0)
    least = s.get("minLength", 0)
    if isinstance(least, int) and least > room:  # more than any reply shows: cut it
        cx.budget.cut = True
        return _pad("", room, cx.rng)[:room]
    if "pattern" in s:
        return _pattern_string(s, cx, path, room)
    make = _format_maker(s.get("format", ""))
    if make is not None:
        return _fit_format(make(cx.rng), s.get("format", ""), least, s.get("maxLength"))
    return _fit(text_for(cx.name, cx.rng), least, s.get("maxLength"), cx.rng)


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


PHRASE_WORDS = 200  # words drawn for padding; a longer pad repeats them


def _pad(text: str, least: int, rng: random.Random) -> str:
    """`text` and enough words after it to be `least` long: at most `PHRASE_WORDS` drawn,
    repeated as needed (only a cut value needs that much, and it is never read whole)."""
    missing = least - len(text)
    if missing <= 0:
        return text
    phrase = " " + some_words(rng, min(missing // 4 + 1, PHRASE_WORDS))
    return (text + phrase * (missing // len(phrase) + 1)).lstrip()


def _fit(text: str, least: int, most: int | None, rng: random.Random) -> str:
    """Pad with words or cut, so a readable string meets minLength/maxLength."""
    text = _pad(text, least, rng)
    if most is not None and len(text) > most:
        text = text[:most].rstrip() or text[:most]
    return text + "x" * (least - len(text))


def _pattern_string(s: dict, cx: DrawContext, path: Path, room: int) -> str:
    pattern, least, most = s["pattern"], s.get("minLength", 0), s.get("maxLength")
    for attempt in range(12):
        try:
            text = (regex_string(pattern, cx.rng, room + 1, least) if attempt < 10
                    else text_for(cx.name, cx.rng))
        except (re.error, UnsupportedRegex, OverflowError, RecursionError):
            text = text_for(cx.name, cx.rng)
        if len(text) > room:  # a match longer than the reply shows: its start, cut
            cx.budget.cut = True
            return text[:room]
        fits = least <= len(text) <= (len(text) if most is None else most)
        if fits and search(pattern, text):
            return text
    raise SchemaGenerationError((*path, "pattern"), f"no string found for pattern {pattern!r}")
