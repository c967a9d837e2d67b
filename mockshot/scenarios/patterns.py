"""The regexes of scenario rules (`regex`, `any_regex`), matched in linear time.

A rule is tried on every call, against text any client sends. Python's `re` backtracks:
`^(a+)+$` against 24 a's and a "!" takes a second, and each two more characters four
times that, so one rule would let any client stall every other. RE2 (Google's engine,
`google-re2`) matches in time linear in the text whatever the pattern; the price is that
lookarounds and backreferences do not exist there, so a pattern using them is refused
when its rule is checked, with RE2's reason. `\\w`, `\\d` and `\\b` are ASCII in RE2;
`\\z` ends the text (Python's `\\Z`).
"""

from __future__ import annotations

from typing import Protocol

import re2

__all__ = ["Pattern", "compile_pattern"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to its author, not to stderr



class Pattern(Protocol):
    """What rules use of a compiled pattern."""

    pattern: str

    def search(self, text: str) -> object: ...


def compile_pattern(text: str) -> Pattern:
    """The compiled pattern; ValueError with RE2's reason when RE2 cannot run it."""
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(
            exc.args[0], bytes) else str(exc)
        raise ValueError(f"{reason} (rules use RE2 syntax, matched in linear time: no "
                         "lookarounds or backreferences)") from None
