"""Strings a regular expression matches, drawn from its parse tree.

The JSON Schema generator uses `regex_string(pattern, rng)` for `pattern` and
`patternProperties`. It is small on purpose: literals, classes, repeats, groups, alternation
and back-references are produced; anchors and lookarounds produce nothing, and anything else
raises `UnsupportedRegex`. The caller checks every result with `re.search`, so a best-effort
draw that misses is simply drawn again.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from functools import lru_cache
from re import _constants as sre_c
from re import _parser as sre_p
from typing import Any

__all__ = ["UnsupportedRegex", "regex_string"]


class UnsupportedRegex(Exception):
    """A regex construct the small generator does not produce (lookarounds are skipped)."""


@lru_cache(maxsize=256)
def _parsed(pattern: str) -> Any:
    return sre_p.parse(pattern)


def regex_string(pattern: str, rng: random.Random) -> str:
    """A string the regex matches, built from its parse tree (literals, classes, repeats,
    groups, alternation, back-references); anchors and lookarounds produce nothing."""
    out: list[str] = []
    _emit(_parsed(pattern), rng, out, {})
    return "".join(out)


def _emit(items: Any, rng: random.Random, out: list[str], groups: dict) -> None:
    for op, arg in items:
        if op in _REPEATS:
            least, most, sub = arg
            for _ in range(rng.randint(least, min(most, least + 3))):
                _emit(sub, rng, out, groups)
        elif op is sre_c.SUBPATTERN:
            start = len(out)
            _emit(arg[-1], rng, out, groups)
            if arg[0]:
                groups[arg[0]] = "".join(out[start:])
        elif op in _SIMPLE_OPS:
            out.append(_SIMPLE_OPS[op](arg, rng, groups))
        elif op is sre_c.BRANCH:
            _emit(rng.choice(arg[1]), rng, out, groups)
        elif op is sre_c.ATOMIC_GROUP:
            _emit(arg, rng, out, groups)
        elif op not in _SILENT:
            raise UnsupportedRegex(str(op))


_PRINTABLE = string.ascii_letters + string.digits + " -_.,:@/"
_CATEGORIES: dict[Any, str] = {
    sre_c.CATEGORY_DIGIT: string.digits,
    sre_c.CATEGORY_NOT_DIGIT: string.ascii_letters,
    sre_c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_c.CATEGORY_NOT_WORD: " -.,",
    sre_c.CATEGORY_SPACE: " ",
    sre_c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}


def _in_class(char: str, items: list) -> bool:
    code = ord(char)
    for op, arg in items:
        if op is sre_c.LITERAL and arg == code:
            return True
        if op is sre_c.RANGE and arg[0] <= code <= arg[1]:
            return True
        if op is sre_c.CATEGORY and char in _CATEGORIES.get(arg, ""):
            return True
    return False


def _pick_in(items: list, rng: random.Random, _groups: dict) -> str:
    if items and items[0][0] is sre_c.NEGATE:
        allowed = [c for c in _PRINTABLE if not _in_class(c, items[1:])]
        return rng.choice(allowed) if allowed else ""
    op, arg = rng.choice(items)
    if op is sre_c.RANGE:  # stay in ASCII when the range allows it
        return chr(rng.randint(arg[0], arg[1] if arg[0] > 126 else min(arg[1], 126)))
    if op is sre_c.CATEGORY:
        return rng.choice(_CATEGORIES.get(arg, string.ascii_letters))
    if op is sre_c.LITERAL:
        return chr(arg)
    raise UnsupportedRegex(str(op))


_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)}
_SILENT = {sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT}
_SIMPLE_OPS: dict[Any, Callable[[Any, random.Random, dict], str]] = {
    sre_c.LITERAL: lambda arg, _rng, _g: chr(arg),
    sre_c.NOT_LITERAL: lambda arg, rng, _g: rng.choice(_PRINTABLE.replace(chr(arg), "")),
    sre_c.ANY: lambda _arg, rng, _g: rng.choice(string.ascii_letters),
    sre_c.IN: _pick_in,
    sre_c.GROUPREF: lambda arg, _rng, groups: groups.get(arg, ""),
}
