"""allOf as one schema: the keywords of several schemas combined into one to draw from.

The generator draws from a single schema at a time, so `allOf` (and a `$ref` with sibling
keywords, and an `anyOf` branch with its parent's keywords) is first merged. The merge is a
sensible reading, not a proof: whatever it cannot combine is left to the validator that
judges every draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

__all__ = ["merge"]


def merge(parts: list) -> dict | bool:
    """One schema holding the keywords of all `parts` (a sensible reading of allOf):
    bounds tighten, `required` unions, `type`/`enum` intersect, same-named properties
    combine; what cannot be combined keeps the first value and is left to validation."""
    out: dict = {}
    for part in parts:
        if part is True:
            continue
        if part is False:
            return False
        for key, value in part.items():
            out[key] = _combine(key, out[key], value) if key in out else value
    return out


def _lcm(a: Any, b: Any) -> Any:
    fa, fb = Fraction(str(a)), Fraction(str(b))
    num = math.lcm(fa.numerator, fb.numerator)
    result = Fraction(num, math.gcd(fa.denominator, fb.denominator))
    return int(result) if result.denominator == 1 else float(result)


def _types(t: Any) -> list:
    return [t] if isinstance(t, str) else list(t)


def _combine_type(a: Any, b: Any) -> list:
    tb = _types(b)
    both = [t for t in _types(a) if t in tb or (t == "number" and "integer" in tb)]
    return ["integer" if t == "number" and "integer" in tb else t for t in both]


def _combine_props(a: dict, b: dict) -> dict:
    return {**a, **b, **{k: {"allOf": [a[k], b[k]]} for k in a.keys() & b.keys()}}


def _combine_branches(a: list, b: list) -> list:
    return [{"allOf": [x, y]} for x in a for y in b]


_COMBINERS: dict[str, Callable[[Any, Any], Any]] = {
    **dict.fromkeys(
        ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"),
        max,
    ),
    **dict.fromkeys(
        ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"),
        min,
    ),
    "type": _combine_type,
    "required": lambda a, b: list(dict.fromkeys([*a, *b])),
    "enum": lambda a, b: [x for x in a if x in b],
    "multipleOf": _lcm,
    "properties": _combine_props,
    "patternProperties": _combine_props,
    "anyOf": _combine_branches,
    "oneOf": _combine_branches,
    "allOf": lambda a, b: [*a, *b],
    "items": lambda a, b: {"allOf": [a, b]},
    "not": lambda a, b: {"anyOf": [a, b]},
    "uniqueItems": lambda a, b: a or b,
    "additionalProperties": lambda a, b: False if False in (a, b) else {"allOf": [a, b]},
}


def _combine(key: str, a: Any, b: Any) -> Any:
    combiner = _COMBINERS.get(key)
    return combiner(a, b) if combiner else a
