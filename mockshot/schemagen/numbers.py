"""Integers and numbers within their bounds and `multipleOf`, near what the name suggests.

A draw stays inside the plausible range `readable_values.number_hint` gives for the property
("days" 1..14, "price" 1..500) where the schema's bounds allow, so values read like a
model's; `multipleOf` is done in exact fractions, because validators test the float quotient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .context import DrawContext, Path, SchemaGenerationError
from .readable import number_hint

__all__ = ["draw_integer", "draw_number"]


def _bounds(s: dict, plausible: tuple[float, float]) -> tuple[float, float, bool, bool]:
    """[lo, hi] with exclusivity flags, kept inside the `plausible` range where they overlap
    and borrowing its width for open sides."""
    lo, lo_ex = _tighter(s.get("minimum"), s.get("exclusiveMinimum"), max)
    hi, hi_ex = _tighter(s.get("maximum"), s.get("exclusiveMaximum"), min)
    d_lo, d_hi = plausible
    if lo is None:
        lo = d_lo if hi is None or d_lo < hi else hi - (d_hi - d_lo)
    if hi is None:
        hi = d_hi if d_hi > lo else lo + (d_hi - d_lo)
    if d_lo < hi and d_hi > lo:  # the plausible range overlaps: stay inside it
        lo, lo_ex = (d_lo, False) if d_lo > lo else (lo, lo_ex)
        hi, hi_ex = (d_hi, False) if d_hi < hi else (hi, hi_ex)
    return lo, hi, lo_ex, hi_ex


def _tighter(inclusive: Any, exclusive: Any, pick: Callable) -> tuple[Any, bool]:
    """The stricter of an inclusive and an exclusive bound (exclusive wins a tie)."""
    if exclusive is None:
        return inclusive, False
    if inclusive is None or pick(inclusive, exclusive) == exclusive:
        return exclusive, True
    return inclusive, False


def draw_integer(s: dict, cx: DrawContext, path: Path) -> int | float:
    if "multipleOf" in s:
        return _multiple(s, cx, path, integer=True)
    lo, hi, lo_ex, hi_ex = _bounds(s, number_hint(cx.name))
    low = math.floor(lo) + 1 if lo_ex else math.ceil(lo)
    high = math.ceil(hi) - 1 if hi_ex else math.floor(hi)
    if low > high:
        raise SchemaGenerationError(path, f"no integer between {lo} and {hi}")
    return cx.rng.randint(low, high)


def draw_number(s: dict, cx: DrawContext, path: Path) -> float:
    if "multipleOf" in s:
        return _multiple(s, cx, path, integer=False)
    lo, hi, lo_ex, hi_ex = _bounds(s, number_hint(cx.name))
    drawn = cx.rng.uniform(lo, hi)
    for value in (round(drawn, 2), drawn, (lo + hi) / 2, lo, hi):
        above = lo < value or (value == lo and not lo_ex)
        if above and (value < hi or (value == hi and not hi_ex)):
            return value
    raise SchemaGenerationError(path, f"no number between {lo} and {hi}")


def _multiple(s: dict, cx: DrawContext, path: Path, integer: bool) -> int | float:
    m = s["multipleOf"]
    step = Fraction(str(m))
    if integer:
        step = Fraction(step.numerator)  # the least multiple of m that is a whole number
    span = max(100, 3 * step)  # if the plausible range holds no multiple, widen it
    k_lo, k_hi = _multipliers(_bounds(s, number_hint(cx.name)), step)
    if k_lo > k_hi:
        k_lo, k_hi = _multipliers(_bounds(s, (-span, span)), step)
    if k_lo > k_hi:
        raise SchemaGenerationError((*path, "multipleOf"), f"no multiple of {m} in range")
    value: int | float = 0
    for _ in range(12):  # floats: keep a draw whose quotient is exact, as validators test
        exact = cx.rng.randint(k_lo, k_hi) * step
        value = int(exact) if exact.denominator == 1 else float(exact)
        if isinstance(m, int) or (value / m).is_integer():
            return value
    return value


def _multipliers(bounds: tuple, step: Fraction) -> tuple[int, int]:
    """The k for which k * step lies within `bounds`."""
    lo, hi, lo_ex, hi_ex = bounds
    k_lo, k_hi = math.ceil(Fraction(lo) / step), math.floor(Fraction(hi) / step)
    return k_lo + (lo_ex and k_lo * step == lo), k_hi - (hi_ex and k_hi * step == hi)
