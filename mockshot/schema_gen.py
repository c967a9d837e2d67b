"""Plausible JSON values for a JSON Schema.

`generate(schema, rng)` invents the arguments of a tool call or a structured-output reply:
a value that validates against the schema (Draft 2020-12) and reads like something a model
would write ("city" gets a city, "email" an address; see `readable_values`). It is a function
of (schema, rng) only, so one seed reproduces a reply. Every value is checked with a compiled
validator before it is returned, so the generator may be best-effort where JSON Schema is hard
(patterns, `not`, `contains`): a failed draw is simply drawn again.

The Moonshot Flavored JSON Schema check lives in `mfjs` and is re-exported here, so callers
import both halves from one place.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

import jsonschema
import orjson

from .errors import invalid_request
from .mfjs import MFJSError, check_mfjs, mfjs_message
from .readable_values import FORMATS, number_hint, singular, some_words, text_for
from .regex_strings import UnsupportedRegex, regex_string

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pure-Python validator is the fallback
    jsonschema_rs = None

__all__ = [
    "MFJSError",
    "SchemaGenerationError",
    "check_mfjs",
    "generate",
    "mfjs_message",
    "satisfy",
]

Path = tuple[str, ...]
ATTEMPTS = 25  # whole-value redraws before giving up
SHORT_AFTER = 3  # $ref expansions on one branch before choosing the shortest options
GIVE_UP_AFTER = 12  # $ref expansions on one branch that mean the recursion never ends


class SchemaGenerationError(ValueError):
    """No value could be produced; `path` names the schema location that could not be met."""

    def __init__(self, path: Sequence[str] | str, reason: str) -> None:
        self.path = path if isinstance(path, str) else _dot(path)
        self.reason = reason
        super().__init__(f"cannot generate a value for the schema at '{self.path}': {reason}")


def _dot(path: Sequence[str]) -> str:
    return ".".join(path) or "root"


def _key(value: Any, sort: bool = False) -> bytes:
    """Canonical-enough JSON text, the cache key for a schema (orjson for speed; the
    standard library for integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort else None)
    except TypeError:
        return json.dumps(value, sort_keys=sort, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- validation


@lru_cache(maxsize=512)
def _compiled(text: bytes) -> Any:
    """A validator per schema text: compiling costs far more than validating, and the same
    tool schemas come back on every turn. Formats are asserted so ours are honest."""
    schema = json.loads(text)
    if jsonschema_rs is not None:
        try:
            return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        except Exception:  # a dialect difference (regex, $ref): let jsonschema decide
            pass
    cls = jsonschema.Draft202012Validator
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaGenerationError(list(map(str, exc.path)), exc.message) from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _validator(schema: Any) -> Any:
    return _compiled(_key(schema))


def _sub_validator(sub: Any, root: dict) -> Any:
    """A validator for a subschema whose `#/$defs/...` references still resolve."""
    wrapper = {"allOf": [sub]}
    for defs in ("$defs", "definitions"):
        if defs in root:
            wrapper[defs] = root[defs]
    return _validator(wrapper)


def _explain(check: Any, value: Any, attempts: int) -> SchemaGenerationError:
    error = next(iter(check.iter_errors(value)))
    where = [str(p) for p in error.schema_path]
    return SchemaGenerationError(where, f"no valid value in {attempts} draws ({error.message})")


# --------------------------------------------------------------------------- generation


class _Ctx(NamedTuple):
    rng: random.Random
    root: dict
    fresh: bool  # a redraw: ignore `default`/`examples`, which may be what failed
    refs: int = 0  # $ref expansions on this branch
    name: str = ""  # the property this value is for, to pick readable content

    @property
    def short(self) -> bool:
        return self.refs > SHORT_AFTER

    def named(self, name: str) -> _Ctx:
        return _Ctx(self.rng, self.root, self.fresh, self.refs, name)


def satisfy(schema: dict, rng: random.Random, where: str) -> Any:
    """`generate`, with a schema no value can meet reported as the client's 400 (in the
    shape of the service's schema errors) rather than as mockshot's 500."""
    try:
        return generate(schema, rng)
    except SchemaGenerationError as exc:
        raise invalid_request(
            f"{where} is not a valid moonshot flavored json schema, details: "
            f"<At path '{exc.path}': {exc.reason}>"
        ) from None


def generate(schema: dict, rng: random.Random, *, attempts: int = ATTEMPTS) -> Any:
    """A JSON value valid against `schema` (Draft 2020-12), drawn only from `rng`.

    Raises `SchemaGenerationError` naming the schema path that could not be satisfied when
    `attempts` draws all fail (e.g. contradictory bounds or an unsupported `pattern`).
    """
    check = _validator(schema)
    failure: SchemaGenerationError | None = None
    for attempt in range(attempts):
        try:
            value = _gen(schema, _Ctx(rng, schema, attempt > 0), ())
        except SchemaGenerationError as exc:
            failure = exc
            continue
        if check.is_valid(value):
            return value
        failure = _explain(check, value, attempts)
    assert failure is not None
    raise failure


def _gen(s: Any, cx: _Ctx, path: Path) -> Any:
    if s is True or s == {}:
        return text_for(cx.name, cx.rng)
    if s is False or not isinstance(s, dict):
        raise SchemaGenerationError(path, "the schema `false` admits no value")
    for keyword, applicator in _APPLICATORS:
        if keyword in s:
            return applicator(s, cx, path)
    if "const" in s:
        return deepcopy(s["const"])
    if "enum" in s:
        return _pick_enum(s, cx, path)
    if not cx.fresh and ("default" in s or "examples" in s) and cx.rng.random() < 0.3:
        return deepcopy(cx.rng.choice([*s.get("examples", []), *_listed(s, "default")]))
    make = _TYPES.get(_pick_type(s, cx, path))
    if make is None:
        raise SchemaGenerationError((*path, "type"), f"unknown type {s['type']!r}")
    return make(s, cx, path)


def _listed(s: dict, key: str) -> list:
    return [s[key]] if key in s else []


def _pick_enum(s: dict, cx: _Ctx, path: Path) -> Any:
    options = s["enum"]
    if not options:
        raise SchemaGenerationError((*path, "enum"), "enum is empty")
    return deepcopy(cx.rng.choice(options))


def _gen_ref(s: dict, cx: _Ctx, path: Path) -> Any:
    if cx.refs >= GIVE_UP_AFTER:
        raise SchemaGenerationError((*path, "$ref"), "recursive $ref never terminates")
    target = _resolve(cx.root, s["$ref"], path)
    rest = {k: v for k, v in s.items() if k != "$ref"}
    merged = _merge([rest, target]) if rest and isinstance(target, dict) else target
    deeper = _Ctx(cx.rng, cx.root, cx.fresh, cx.refs + 1, cx.name)
    return _gen(merged, deeper, (*path, "$ref"))


def _resolve(root: dict, ref: Any, path: Path) -> Any:
    """Local references only (`#`, `#/$defs/x`, `#/definitions/x`, any JSON pointer)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaGenerationError((*path, "$ref"), f"cannot resolve $ref {ref!r}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SchemaGenerationError((*path, "$ref"), f"$ref {ref} does not resolve") from None
    return node


def _gen_all_of(s: dict, cx: _Ctx, path: Path) -> Any:
    parts: list = [{k: v for k, v in s.items() if k != "allOf"}]
    refs = cx.refs
    for sub in s["allOf"]:
        if isinstance(sub, dict) and "$ref" in sub:
            target = _resolve(cx.root, sub["$ref"], (*path, "allOf"))
            sub, refs = _merge([{k: v for k, v in sub.items() if k != "$ref"}, target]), refs + 1
        parts.append(sub)
    if refs >= GIVE_UP_AFTER:
        raise SchemaGenerationError((*path, "allOf"), "recursive $ref never terminates")
    return _gen(_merge(parts), _Ctx(cx.rng, cx.root, cx.fresh, refs, cx.name), (*path, "allOf"))


def _branches(s: dict, key: str, cx: _Ctx) -> list:
    """The order to try branches in: random, or cheapest first once recursion runs deep."""
    branches = list(s[key])
    if cx.short:
        return sorted(branches, key=lambda b: (b"$ref" in _key(b), len(_key(b))))
    cx.rng.shuffle(branches)
    return branches


def _gen_any_of(s: dict, cx: _Ctx, path: Path) -> Any:
    rest = {k: v for k, v in s.items() if k != "anyOf"}
    failure = SchemaGenerationError((*path, "anyOf"), "anyOf is empty")
    for branch in _branches(s, "anyOf", cx):
        try:
            return _gen(_merge([rest, branch]), cx, (*path, "anyOf"))
        except SchemaGenerationError as exc:
            failure = exc
    raise failure


def _gen_one_of(s: dict, cx: _Ctx, path: Path) -> Any:
    """A value matching exactly one branch: draw from a branch, then count the matches."""
    rest = {k: v for k, v in s.items() if k != "oneOf"}
    checks = [_sub_validator(b, cx.root) for b in s["oneOf"]]
    for branch in _branches(s, "oneOf", cx):
        for _ in range(3):
            try:
                value = _gen(_merge([rest, branch]), cx, (*path, "oneOf"))
            except SchemaGenerationError:
                break
            if sum(c.is_valid(value) for c in checks) == 1:
                return value
    raise SchemaGenerationError((*path, "oneOf"), "no draw matched exactly one branch")


def _gen_not(s: dict, cx: _Ctx, path: Path) -> Any:
    rest = {k: v for k, v in s.items() if k != "not"}
    check = _sub_validator(s["not"], cx.root)
    for _ in range(10):
        value = _gen(rest, cx, path)
        if not check.is_valid(value):
            return value
    raise SchemaGenerationError((*path, "not"), "every draw matched the `not` schema")


_APPLICATORS: tuple[tuple[str, Callable[[dict, _Ctx, Path], Any]], ...] = (
    ("$ref", _gen_ref),
    ("allOf", _gen_all_of),
    ("anyOf", _gen_any_of),
    ("oneOf", _gen_one_of),
    ("not", _gen_not),
)


# --------------------------------------------------------------------------- allOf merging


def _merge(parts: list) -> dict | bool:
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


# --------------------------------------------------------------------------- types

_INFERRED = (
    ("object", ("properties", "required", "additionalProperties", "patternProperties",
                "minProperties", "maxProperties", "dependentRequired")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)
_SHORTEST = ("null", "boolean", "integer", "number", "string", "array", "object")


def _pick_type(s: dict, cx: _Ctx, path: Path) -> str:
    kind = s.get("type")
    if isinstance(kind, str):
        return kind
    if kind is None:
        return next((t for t, keys in _INFERRED if any(k in s for k in keys)), "any")
    if not kind:
        raise SchemaGenerationError((*path, "type"), "no type is allowed")
    if cx.short:
        return min(kind, key=_SHORTEST.index)
    solid = [t for t in kind if t != "null"]
    return cx.rng.choice(solid if solid and cx.rng.random() < 0.8 else kind)


def _gen_object(s: dict, cx: _Ctx, path: Path) -> dict:
    out: dict = {}
    for name in _object_keys(s, cx, path):
        out[name] = _gen(_property_schema(s, name), cx.named(name), (*path, "properties", name))
    need = s.get("minProperties", 0) - len(out)
    if need > 0:
        out.update(_extra_properties(s, out, need, cx, path))
    return out


def _object_keys(s: dict, cx: _Ctx, path: Path) -> list[str]:
    """Required keys always, optional ones half of the time (none once recursion runs deep)."""
    required = s.get("required", [])
    props = s.get("properties", {})
    rng, short = cx.rng, cx.short
    keys = [k for k in props if k in required or (not short and rng.random() < 0.5)]
    keys += [k for k in required if k not in props]
    for key in list(keys):
        keys += [d for d in s.get("dependentRequired", {}).get(key, []) if d not in keys]
    most = s.get("maxProperties")
    if most is not None and len(keys) > most:
        keys = [k for k in keys if k in required] + [k for k in keys if k not in required]
        keys = keys[:most]
    return keys


def _property_schema(s: dict, name: str) -> Any:
    if "patternProperties" not in s and name in s.get("properties", ()):
        return s["properties"][name]
    patterns = [v for p, v in s.get("patternProperties", {}).items() if re.search(p, name)]
    own = s.get("properties", {}).get(name)
    if own is None:
        own = patterns.pop(0) if patterns else s.get("additionalProperties", True)
    return {"allOf": [own, *patterns]} if patterns else own


def _extra_properties(s: dict, out: dict, need: int, cx: _Ctx, path: Path) -> dict:
    """Names for `minProperties`: unused declared ones, then pattern or invented ones."""
    names = [k for k in s.get("properties", {}) if k not in out]
    patterns = list(s.get("patternProperties", {}))
    extra: dict = {}
    for _ in range(need * 4):
        if len(extra) == need:
            break
        if names:
            name = names.pop(0)
        elif patterns:
            name = regex_string(cx.rng.choice(patterns), cx.rng)
        elif s.get("additionalProperties", True) is not False:
            name = some_words(cx.rng, 1) + str(len(extra))
        else:
            break
        if name not in out and name not in extra:
            extra[name] = _gen(_property_schema(s, name), cx.named(name), (*path, "properties"))
    if len(extra) < need:
        raise SchemaGenerationError((*path, "minProperties"), "not enough allowed properties")
    return extra


def _array_length(s: dict, cx: _Ctx) -> int:
    """minItems once recursion runs deep; else 1..3 by default, a full tuple for prefixItems."""
    least = s.get("minItems", 0)
    if cx.short:
        return least
    prefix = len(s.get("prefixItems", []))
    most = s.get("maxItems", max(least, prefix, 1) + 2)
    if s.get("items") is False or (prefix and "items" not in s and "maxItems" not in s):
        most = min(most, max(prefix, least))
    low = min(max(least, prefix, 1), most)
    return cx.rng.randint(low, max(most, low))


def _gen_array(s: dict, cx: _Ctx, path: Path) -> list:
    prefix, items = s.get("prefixItems", []), s.get("items", True)
    child = cx.named(singular(cx.name))
    unique = s.get("uniqueItems", False)
    out: list = []
    seen: set[bytes] = set()
    for i in range(_array_length(s, cx)):
        sub, at = (prefix[i], ("prefixItems", str(i))) if i < len(prefix) else (items, ("items",))
        item = _unique_item(sub, child, path + at, seen) if unique else _gen(sub, child, path + at)
        if item is _MISSING:
            if len(out) >= s.get("minItems", 0):
                break
            raise SchemaGenerationError((*path, "uniqueItems"), "not enough distinct items")
        out.append(item)
    if "contains" in s:
        _add_contained(s, out, cx, path)
    return out


def _unique_item(sub: Any, cx: _Ctx, path: Path, seen: set[bytes]) -> Any:
    for _ in range(6):
        item = _gen(sub, cx, path)
        key = _key(item, sort=True)
        if key not in seen:
            seen.add(key)
            return item
    return _MISSING


_MISSING = object()


def _add_contained(s: dict, out: list, cx: _Ctx, path: Path) -> None:
    """Best effort: put in enough items matching `contains` (validation has the last word)."""
    check = _sub_validator(s["contains"], cx.root)
    missing = s.get("minContains", 1) - sum(check.is_valid(x) for x in out)
    sub = {"allOf": [s.get("items", True), s["contains"]]}
    for _ in range(max(missing, 0)):
        item = _gen(sub, cx, (*path, "contains"))
        if len(out) < s.get("maxItems", len(out) + 1):
            out.insert(cx.rng.randint(0, len(out)), item)
        else:
            spare = [i for i, x in enumerate(out) if not check.is_valid(x)]
            out[cx.rng.choice(spare) if spare else 0] = item


# --------------------------------------------------------------------------- numbers


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


def _gen_integer(s: dict, cx: _Ctx, path: Path) -> int | float:
    if "multipleOf" in s:
        return _multiple(s, cx, path, integer=True)
    lo, hi, lo_ex, hi_ex = _bounds(s, number_hint(cx.name))
    low = math.floor(lo) + 1 if lo_ex else math.ceil(lo)
    high = math.ceil(hi) - 1 if hi_ex else math.floor(hi)
    if low > high:
        raise SchemaGenerationError(path, f"no integer between {lo} and {hi}")
    return cx.rng.randint(low, high)


def _gen_number(s: dict, cx: _Ctx, path: Path) -> float:
    if "multipleOf" in s:
        return _multiple(s, cx, path, integer=False)
    lo, hi, lo_ex, hi_ex = _bounds(s, number_hint(cx.name))
    drawn = cx.rng.uniform(lo, hi)
    for value in (round(drawn, 2), drawn, (lo + hi) / 2, lo, hi):
        above = lo < value or (value == lo and not lo_ex)
        if above and (value < hi or (value == hi and not hi_ex)):
            return value
    raise SchemaGenerationError(path, f"no number between {lo} and {hi}")


def _multiple(s: dict, cx: _Ctx, path: Path, integer: bool) -> int | float:
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


# --------------------------------------------------------------------------- strings

# Bound once: Python 3.11 compiles a method call on an imported name as an attribute load
# plus a call, a bound method made on every call, and this lookup runs for every string.
_format_maker = FORMATS.get


def _gen_string(s: dict, cx: _Ctx, path: Path) -> str:
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


def _pattern_string(s: dict, cx: _Ctx, path: Path) -> str:
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


# --------------------------------------------------------------------------- dispatch

_TYPES: dict[str, Callable[[dict, _Ctx, Path], Any]] = {
    "object": _gen_object,
    "array": _gen_array,
    "string": _gen_string,
    "integer": _gen_integer,
    "number": _gen_number,
    "boolean": lambda _s, cx, _p: cx.rng.random() < 0.5,
    "null": lambda _s, _cx, _p: None,
    "any": lambda _s, cx, _p: text_for(cx.name, cx.rng),
}
