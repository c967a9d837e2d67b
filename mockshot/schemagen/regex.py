"""Strings a regular expression matches, drawn from its parse tree, and a bounded search.

The JSON Schema generator uses `regex_string(pattern, rng)` for `pattern` and
`patternProperties`. It is small on purpose: literals, classes, repeats, groups, alternation
and back-references are produced; anchors and lookarounds produce nothing, and anything else
raises `UnsupportedRegex`. The caller checks every result with `search`, so a best-effort
draw that misses is simply drawn again.

A draw stops at `most` characters (`^((a{1000}){1000}){1000}$` asks for 10^9) and, given
`least`, stretches a repeat until the string is that long (`^(a|aa)+b$` with `minLength:
40`). `search` runs on RE2, linear in the text, wherever RE2 can run the pattern; the rest
(lookarounds, back-references) go to `re` on the generator's own short candidates.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from functools import lru_cache
from re import _constants as sre_c
from re import _parser as sre_p
from typing import Any

import re2

__all__ = ["UnsupportedRegex", "regex_string", "search"]

_RE2 = re2.Options()
_RE2.log_errors = False


@lru_cache(maxsize=512)
def _matcher(pattern: str) -> Callable[[str], object] | None:
    try:
        return re2.compile(pattern, _RE2).search
    except re2.error:
        pass
    try:
        return re.compile(pattern).search
    except (re.error, OverflowError, RecursionError, ValueError):
        return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (False for a pattern no engine reads)."""
    found = _matcher(pattern)
    return found is not None and found(text) is not None


class UnsupportedRegex(Exception):
    """A regex construct the small generator does not produce (lookarounds are skipped)."""


@lru_cache(maxsize=256)
def _parsed(pattern: str) -> Any:
    return sre_p.parse(pattern)


class _Out:
    """The string being drawn, with its length kept (lists of one-character parts)."""

    __slots__ = ("least", "most", "parts", "size")

    def __init__(self, least: int, most: int) -> None:
        self.parts: list[str] = []
        self.size, self.least, self.most = 0, least, most

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    @property
    def full(self) -> bool:
        return self.size >= self.most


def regex_string(pattern: str, rng: random.Random, most: int = 10_000,
                 least: int = 0) -> str:
    """A string the regex matches, built from its parse tree (literals, classes, repeats,
    groups, alternation, back-references); anchors and lookarounds produce nothing. It
    stops at `most` characters (then it is only the start of a match) and stretches the
    repeats it meets until it is `least` long."""
    out = _Out(least, most)
    _emit(_parsed(pattern), rng, out, {})
    return "".join(out.parts)[:most]


def _emit(items: Any, rng: random.Random, out: _Out, groups: dict) -> None:
    for op, arg in items:
        if out.full:
            return
        if op in _REPEATS:
            _repeat(arg, rng, out, groups)
        elif op is sre_c.SUBPATTERN:
            start = len(out.parts)
            _emit(arg[-1], rng, out, groups)
            if arg[0]:
                groups[arg[0]] = "".join(out.parts[start:])
        elif op in _SIMPLE_OPS:
            out.add(_SIMPLE_OPS[op](arg, rng, groups))
        elif op is sre_c.BRANCH:
            _emit(rng.choice(arg[1]), rng, out, groups)
        elif op is sre_c.ATOMIC_GROUP:
            _emit(arg, rng, out, groups)
        elif op not in _SILENT:
            raise UnsupportedRegex(str(op))


def _repeat(arg: Any, rng: random.Random, out: _Out, groups: dict) -> None:
    """A few repeats (1-3 past the least), then more while the string is short of
    `least`; never past `most` characters."""
    least, most, sub = arg
    times = rng.randint(least, min(most, least + 3))
    if len(sub) == 1 and sub[0][0] in _SIMPLE_OPS:  # one character a time: in one go
        times = min(max(times, out.least - out.size), most, out.most - out.size)
        make, value = _SIMPLE_OPS[sub[0][0]], sub[0][1]
        out.add("".join(make(value, rng, groups) for _ in range(max(times, 0))))
        return
    for _ in range(times):
        if out.full:
            return
        _emit(sub, rng, out, groups)
    before = -1
    while out.size < out.least and times < most and out.size > before and not out.full:
        before = out.size
        _emit(sub, rng, out, groups)
        times += 1


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
