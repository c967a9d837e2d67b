"""Plausible JSON values for a JSON Schema, and the Moonshot Flavored JSON Schema check.

`generate(schema, rng)` invents the arguments of a tool call or a structured-output reply:
a value that validates against the schema (Draft 2020-12) and reads like something a model
would write ("city" gets a city, "email" an address). It is a function of (schema, rng) only,
so one seed reproduces a reply. Every value is checked with a compiled validator before it is
returned, so the generator may be best-effort where JSON Schema is hard (patterns, `not`,
`contains`): a failed draw is simply drawn again.

`check_mfjs(schema, where)` refuses what the real service refuses, in its words. The messages
and most rules are those of MoonshotAI/walle, the open-source validator the service uses
(`At path 'properties.pair.items': items must be an object`); paths name anyOf branches
without an index, as walle does.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from fractions import Fraction
from functools import lru_cache
from re import _constants as sre_c
from re import _parser as sre_p
from typing import Any, NamedTuple

import jsonschema
import orjson

from .textgen import words

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pure-Python validator is the fallback
    jsonschema_rs = None

__all__ = ["MFJSError", "SchemaGenerationError", "check_mfjs", "generate", "mfjs_message"]

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


class MFJSError(ValueError):
    """A schema the real service rejects. `str()` is the detail the service puts between
    `details: <` and `>`: `At path '<dot.path>': <what is wrong>`."""

    def __init__(self, path: str, reason: str, where: str = "") -> None:
        self.path, self.reason, self.where = path, reason, where
        super().__init__(f"At path '{path}': {reason}")


def mfjs_message(error: MFJSError) -> str:
    """The real message after its `Invalid request: ` prefix, so that
    `errors.invalid_request(mfjs_message(e))` reads exactly as the service's 400."""
    return f"{error.where} is not a valid moonshot flavored json schema, details: <{error}>"


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
        return _text(cx)
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
            name = _regex_string(cx.rng.choice(patterns), cx.rng)
        elif s.get("additionalProperties", True) is not False:
            name = _words(cx.rng, 1) + str(len(extra))
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
    child = cx.named(_singular(cx.name))
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


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


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
    lo, hi, lo_ex, hi_ex = _bounds(s, _number_hint(cx.name))
    low = math.floor(lo) + 1 if lo_ex else math.ceil(lo)
    high = math.ceil(hi) - 1 if hi_ex else math.floor(hi)
    if low > high:
        raise SchemaGenerationError(path, f"no integer between {lo} and {hi}")
    return cx.rng.randint(low, high)


def _gen_number(s: dict, cx: _Ctx, path: Path) -> float:
    if "multipleOf" in s:
        return _multiple(s, cx, path, integer=False)
    lo, hi, lo_ex, hi_ex = _bounds(s, _number_hint(cx.name))
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
    k_lo, k_hi = _multipliers(_bounds(s, _number_hint(cx.name)), step)
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


def _gen_string(s: dict, cx: _Ctx, path: Path) -> str:
    if "pattern" in s:
        return _pattern_string(s, cx, path)
    make = _FORMATS.get(s.get("format", ""))
    if make is not None:
        return make(cx.rng)
    return _fit(_text(cx), s.get("minLength", 0), s.get("maxLength"), cx.rng)


def _fit(text: str, least: int, most: int | None, rng: random.Random) -> str:
    """Pad with words or cut, so a readable string meets minLength/maxLength."""
    while len(text) < least:
        text += " " + _words(rng, 1)
    if most is not None and len(text) > most:
        text = text[:most].rstrip() or text[:most]
    return text + "x" * (least - len(text))


def _pattern_string(s: dict, cx: _Ctx, path: Path) -> str:
    pattern, least, most = s["pattern"], s.get("minLength", 0), s.get("maxLength")
    for attempt in range(12):
        try:
            text = _regex_string(pattern, cx.rng) if attempt < 10 else _text(cx)
        except (re.error, _Unsupported):
            text = _text(cx)
        fits = least <= len(text) <= (len(text) if most is None else most)
        if fits and _search(pattern, text):
            return text
    raise SchemaGenerationError((*path, "pattern"), f"no string found for pattern {pattern!r}")


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


class _Unsupported(Exception):
    """A regex construct the small generator does not produce (lookarounds are skipped)."""


@lru_cache(maxsize=256)
def _parsed(pattern: str) -> Any:
    return sre_p.parse(pattern)


def _regex_string(pattern: str, rng: random.Random) -> str:
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
            raise _Unsupported(str(op))


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
    raise _Unsupported(str(op))


_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)}
_SILENT = {sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT}
_SIMPLE_OPS: dict[Any, Callable[[Any, random.Random, dict], str]] = {
    sre_c.LITERAL: lambda arg, _rng, _g: chr(arg),
    sre_c.NOT_LITERAL: lambda arg, rng, _g: rng.choice(_PRINTABLE.replace(chr(arg), "")),
    sre_c.ANY: lambda _arg, rng, _g: rng.choice(string.ascii_letters),
    sre_c.IN: _pick_in,
    sre_c.GROUPREF: lambda arg, _rng, groups: groups.get(arg, ""),
}


# --------------------------------------------------------------------------- readable content

_CITIES = ("Beijing", "Shanghai", "Tokyo", "Paris", "London", "Berlin", "New York",
           "Singapore", "Sydney", "Toronto", "Hangzhou", "Madrid")
_COUNTRIES = ("China", "Japan", "France", "Germany", "Canada", "Brazil", "India", "Spain")
_FIRST = ("Alice", "Bob", "Chen", "Diana", "Ethan", "Fatima", "Hiro", "Maria", "Omar", "Wei")
_LAST = ("Zhang", "Smith", "Wang", "Garcia", "Tanaka", "Brown", "Kim", "Lopez", "Li", "Novak")
_LANGUAGES = ("English", "Chinese", "Japanese", "French", "German", "Spanish")
_COLORS = ("red", "blue", "green", "black", "white", "orange", "purple")
_CURRENCIES = ("USD", "CNY", "EUR", "JPY", "GBP")
_STATUSES = ("active", "pending", "done", "failed")
_STREETS = ("Maple Street", "Nanjing Road", "Park Avenue", "High Street", "Elm Road")


def _words(rng: random.Random, count: int) -> str:
    vocab = words()
    return " ".join(vocab[int(rng.random() * len(vocab))] for _ in range(count))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST).lower()}.{rng.choice(_LAST).lower()}@example.com"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "time": _time,
    "email": _email,
    "idn-email": _email,
    "uri": lambda rng: f"https://example.com/{_words(rng, 1)}",
    "url": lambda rng: f"https://example.com/{_words(rng, 1)}",
    "iri": lambda rng: f"https://example.com/{_words(rng, 1)}",
    "uri-reference": lambda rng: f"/{_words(rng, 1)}/{rng.randint(1, 99)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda rng: "2001:db8::" + format(rng.getrandbits(16), "x"),
    "hostname": lambda rng: f"{_words(rng, 1)}.example.com",
    "idn-hostname": lambda rng: f"{_words(rng, 1)}.example.com",
    "duration": lambda rng: f"P{rng.randint(1, 30)}D",
}

_TEXT_KINDS: dict[str, Callable[[random.Random], str]] = {
    "city": lambda rng: rng.choice(_CITIES),
    "country": lambda rng: rng.choice(_COUNTRIES),
    "person": _person,
    "first": lambda rng: rng.choice(_FIRST),
    "last": lambda rng: rng.choice(_LAST),
    "email": _email,
    "url": _FORMATS["uri"],
    "date": _date,
    "datetime": _FORMATS["date-time"],
    "time": lambda rng: _time(rng)[:5],
    "phone": lambda rng: f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    "id": lambda rng: f"{_words(rng, 1)}_{rng.randint(100, 999)}",
    "uuid": _FORMATS["uuid"],
    "language": lambda rng: rng.choice(_LANGUAGES),
    "color": lambda rng: rng.choice(_COLORS),
    "currency": lambda rng: rng.choice(_CURRENCIES),
    "status": lambda rng: rng.choice(_STATUSES),
    "address": lambda rng: f"{rng.randint(1, 200)} {rng.choice(_STREETS)}",
    "file": lambda rng: f"{_words(rng, 1)}.{rng.choice(('txt', 'pdf', 'csv', 'png'))}",
    "title": lambda rng: _words(rng, rng.randint(2, 4)).title(),
    "text": lambda rng: _words(rng, rng.randint(5, 9)).capitalize() + ".",
    "query": lambda rng: _words(rng, rng.randint(2, 3)),
}
_KIND_OF: dict[str, str] = {
    **dict.fromkeys(("city", "town", "location", "destination", "origin"), "city"),
    **dict.fromkeys(("country", "nation"), "country"),
    **dict.fromkeys(("name", "author", "user", "username", "person", "owner", "customer",
                     "fullname", "assignee", "recipient", "sender"), "person"),
    **dict.fromkeys(("firstname", "given"), "first"),
    **dict.fromkeys(("lastname", "surname", "family"), "last"),
    **dict.fromkeys(("email", "mail"), "email"),
    **dict.fromkeys(("url", "uri", "link", "website", "homepage", "href"), "url"),
    **dict.fromkeys(("date", "birthday", "deadline", "due"), "date"),
    **dict.fromkeys(("datetime", "timestamp"), "datetime"),
    **dict.fromkeys(("time",), "time"),
    **dict.fromkeys(("phone", "tel", "telephone", "mobile"), "phone"),
    **dict.fromkeys(("id", "identifier", "sku"), "id"),
    **dict.fromkeys(("uuid", "guid"), "uuid"),
    **dict.fromkeys(("language", "lang", "locale"), "language"),
    **dict.fromkeys(("color", "colour"), "color"),
    **dict.fromkeys(("currency",), "currency"),
    **dict.fromkeys(("status", "state"), "status"),
    **dict.fromkeys(("address", "street"), "address"),
    **dict.fromkeys(("file", "filename", "path", "filepath"), "file"),
    **dict.fromkeys(("title", "subject", "headline", "topic", "label"), "title"),
    **dict.fromkeys(("description", "summary", "text", "content", "message", "comment",
                     "body", "note", "notes", "reason", "answer", "explanation", "prompt",
                     "instructions", "details", "feedback", "review"), "text"),
    **dict.fromkeys(("query", "q", "search", "keyword", "keywords", "term", "terms"), "query"),
}
_NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "age": (18, 80), "year": (1990, 2030), "month": (1, 12), "day": (1, 28), "days": (1, 14),
    "hour": (0, 23), "hours": (1, 12), "minute": (0, 59), "minutes": (1, 60),
    "second": (0, 59), "seconds": (1, 60), "count": (1, 10), "limit": (1, 20), "n": (1, 5),
    "num": (1, 10), "quantity": (1, 10), "page": (1, 10), "size": (1, 50), "top": (1, 10),
    "k": (1, 10), "price": (1, 500), "amount": (1, 500), "cost": (1, 500),
    "lat": (-90, 90), "latitude": (-90, 90), "lon": (-180, 180), "lng": (-180, 180),
    "longitude": (-180, 180), "temperature": (-10, 35), "temp": (-10, 35),
    "percent": (0, 100), "percentage": (0, 100), "rating": (1, 5), "stars": (1, 5),
}


@lru_cache(maxsize=1024)
def _tokens(name: str) -> tuple[str, ...]:
    """`departureCity` → ("departurecity", "city", "departure", ...): the whole name, then
    its words last-first, then their singulars."""
    parts = re.findall(r"[a-z]+|[A-Z][a-z]*|\d+", name)
    lowered = [p.lower() for p in parts]
    return ("".join(lowered), *reversed(lowered), *(_singular(p) for p in reversed(lowered)))


def _text(cx: _Ctx) -> str:
    kind = next((_KIND_OF[t] for t in _tokens(cx.name) if t in _KIND_OF), None)
    make = _TEXT_KINDS.get(kind) if kind else None
    return make(cx.rng) if make else _words(cx.rng, 1 + int(cx.rng.random() * 2))


def _number_hint(name: str) -> tuple[int, int]:
    return next((_NUMBER_RANGES[t] for t in _tokens(name) if t in _NUMBER_RANGES), (0, 100))


_TYPES: dict[str, Callable[[dict, _Ctx, Path], Any]] = {
    "object": _gen_object,
    "array": _gen_array,
    "string": _gen_string,
    "integer": _gen_integer,
    "number": _gen_number,
    "boolean": lambda _s, cx, _p: cx.rng.random() < 0.5,
    "null": lambda _s, _cx, _p: None,
    "any": lambda _s, cx, _p: _text(cx),
}


# --------------------------------------------------------------------------- MFJS check

_VALID_TYPES = ("string", "number", "integer", "boolean", "null", "array", "object")
_TYPELESS_OK = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref"}
_MAX_ANY_OF = 500


def check_mfjs(schema: Any, where: str = "response_format.json_schema") -> None:
    """Raise `MFJSError` if the service would refuse `schema` as a tool's `parameters` or a
    `json_schema` response format. `where` names the request field in the message."""
    problem = _mfjs_problem(_key(schema))
    if problem is not None:
        raise MFJSError(*problem, where=where)


@lru_cache(maxsize=512)
def _mfjs_problem(text: bytes) -> tuple[str, str] | None:
    """The first problem as (path, reason); cached because tools repeat every turn."""
    schema = json.loads(text)
    try:
        _check_document(schema)
    except MFJSError as exc:
        return exc.path, exc.reason
    return None


def _check_document(schema: Any) -> None:
    if not isinstance(schema, dict):
        raise MFJSError("root", "schema must be a dict")
    if not schema:  # `{}` accepts anything; walle and the MFJS spec allow it
        return
    if schema.get("type") not in ("object", ["object"]):
        raise MFJSError("root", "the root schema must be of type object")
    _check_node(schema, (), schema, is_property=False)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise MFJSError(_dot([str(p) for p in exc.path]), exc.message) from None


def _check_node(s: Any, path: Path, root: dict, is_property: bool) -> None:
    """walle's order: $defs first, then type conflicts, type, keywords (sorted), children."""
    if not isinstance(s, dict):
        return
    if "$defs" in s:
        _check_defs(s["$defs"], (*path, "$defs"), root)
    _check_type(s, path)
    if is_property and not s.keys() & _TYPELESS_OK:
        raise MFJSError(_dot(path), "type need to be defined explicitly")
    for key in sorted(s.keys() & _KEYWORD_CHECKS.keys()):
        _KEYWORD_CHECKS[key](s[key], s, (*path, key), root)
    _check_ranges(s, path)
    for child, child_path, child_is_property in _children(s, path):
        _check_node(child, child_path, root, child_is_property)


def _children(s: dict, path: Path) -> Iterator[tuple[Any, Path, bool]]:
    for name, sub in s.get("properties", {}).items():
        yield sub, (*path, "properties", name), True
    for key in ("items", "additionalProperties", "not", "contains"):
        if isinstance(s.get(key), dict):
            yield s[key], (*path, key), False
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in s.get(key, []):
            yield sub, (*path, key), False
    for i, sub in enumerate(s.get("prefixItems", [])):
        yield sub, (*path, "prefixItems", str(i)), False
    patterns = s.get("patternProperties")
    for pattern, sub in patterns.items() if isinstance(patterns, dict) else ():
        yield sub, (*path, "patternProperties", pattern), False


def _check_defs(defs: Any, path: Path, root: dict) -> None:
    if not isinstance(defs, dict):
        raise MFJSError(_dot(path), "$defs must be an object")
    for name in sorted(defs):
        if not name or "/" in name:
            raise MFJSError(_dot(path), f"$defs property name '{name}' cannot contain '/' character"
                            if name else "$defs property name cannot be empty")
        if not isinstance(defs[name], dict):
            raise MFJSError(_dot(path), "$defs schema must be object")
        _check_node(defs[name], (*path, name), root, is_property=False)


def _check_type(s: dict, path: Path) -> None:
    here = _dot(path)
    if "type" in s and "anyOf" in s:
        raise MFJSError(here, "when using anyOf, type should be defined in anyOf items "
                              "instead of the parent schema")
    if "type" in s and "$ref" in s:
        raise MFJSError(here, "when using $ref, type should be defined in the referenced schema "
                              "instead of the parent schema")
    if "type" not in s:
        return
    kind = s["type"]
    if isinstance(kind, str):
        if kind not in _VALID_TYPES:
            raise MFJSError(here, "invalid type")
    elif isinstance(kind, list):
        if not all(isinstance(t, str) and t in _VALID_TYPES for t in kind):
            raise MFJSError(here, "invalid type in type array")
        if not kind:
            raise MFJSError(here, "type array cannot be empty")
    else:
        raise MFJSError(here, "type must be string or array of strings")


def _check_properties(value: Any, _s: dict, path: Path, _root: dict) -> None:
    if not isinstance(value, dict):
        raise MFJSError(_dot(path), "properties must be an object")
    for name, sub in value.items():
        if not isinstance(sub, dict):
            raise MFJSError(_dot(path), f"property schema for '{name}' must be an object")


def _check_required(value: Any, s: dict, path: Path, _root: dict) -> None:
    if not isinstance(value, list):
        raise MFJSError(_dot(path), "required must be an array")
    if not all(isinstance(name, str) for name in value):
        raise MFJSError(_dot(path), "items in required array must be strings")
    props = s.get("properties", {})
    for name in value:
        if name not in props:
            raise MFJSError(_dot(path), f"required property '{name}' is not defined in properties")


def _check_enum(value: Any, s: dict, path: Path, _root: dict) -> None:
    if not isinstance(value, list):
        raise MFJSError(_dot(path), "enum must be an array")
    if not value:
        raise MFJSError(_dot(path), "enum array cannot be empty")
    if "type" not in s:
        raise MFJSError(_dot(path[:-1]), "type is not defined")
    kinds = _types(s["type"])
    if len(kinds) > 2 or (len(kinds) == 2 and "null" not in kinds):
        raise MFJSError(_dot(path[:-1]), "when type is array and enum is specified, currently only "
                        "2 types are supported, one must be null, and the other can be "
                        "string/integer/number/boolean")
    for item in value:
        if not any(_enum_matches(item, kind, path) for kind in kinds):
            raise MFJSError(_dot(path), f"enum value ({_go(item)}) does not match any type in "
                                        f"[{' '.join(kinds)}]")


def _enum_matches(item: Any, kind: str, path: Path) -> bool:
    """walle's IsTypeMatch: a non-number against a numeric type is an error of its own."""
    numeric = isinstance(item, int | float) and not isinstance(item, bool)
    if kind in ("number", "integer") and not (numeric and (kind == "number" or item == int(item))):
        raise MFJSError(_dot(path), f"not a valid {kind}")
    checks = {"string": str, "boolean": bool, "array": list, "object": dict}
    return kind in ("number", "integer") or (item is None if kind == "null"
                                              else isinstance(item, checks[kind]))


def _go(value: Any) -> str:
    """Go's `%v`, which walle uses to quote values."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_items(value: Any, _s: dict, path: Path, _root: dict) -> None:
    if not isinstance(value, dict):
        raise MFJSError(_dot(path), "items must be an object")


def _check_ref(value: Any, _s: dict, path: Path, root: dict) -> None:
    if not isinstance(value, str):
        raise MFJSError(_dot(path), "$ref must be a string")
    if value == "#":
        return
    if not value.startswith("#/$defs/"):
        raise MFJSError(_dot(path), "references must start with #/$defs/")
    if not value[len("#/$defs/"):]:
        raise MFJSError(_dot(path), "definition name cannot be empty")
    if "$defs" not in root:
        raise MFJSError(_dot(path), f"$defs not found for reference: {value}")
    try:
        _resolve(root, value, path)
    except SchemaGenerationError:
        raise MFJSError("root", f"invalid $ref path: {value}") from None


def _check_branches(value: Any, _s: dict, path: Path, _root: dict) -> None:
    keyword = path[-1]
    if not isinstance(value, list):
        raise MFJSError(_dot(path), f"{keyword} must be an array")
    if not 0 < len(value) <= _MAX_ANY_OF:
        raise MFJSError(_dot(path), f"{keyword} must have 1-{_MAX_ANY_OF} items")
    if not all(isinstance(sub, dict) for sub in value):
        raise MFJSError(_dot(path), f"schema in {keyword} must be an object")


def _check_kind(expected: type | tuple, text: str) -> Callable[[Any, dict, Path, dict], None]:
    def check(value: Any, _s: dict, path: Path, _root: dict) -> None:
        if not isinstance(value, expected):
            raise MFJSError(_dot(path), text)

    return check


def _check_ranges(s: dict, path: Path) -> None:
    """walle's range rules: a lower bound above its upper bound."""
    for low, high, at in _RANGES:
        a, b = s.get(low), s.get(high)
        if _is_number(a) and _is_number(b) and a > b:
            where = _dot((*path, at) if at else path)
            raise MFJSError(where, f"{low} ({_go(a)}) cannot be greater than {high} ({_go(b)})")


_RANGES = (
    ("minLength", "maxLength", "minLength"),
    ("minItems", "maxItems", "minItems"),
    ("minimum", "maximum", ""),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_KEYWORD_CHECKS: dict[str, Callable[[Any, dict, Path, dict], None]] = {
    "$ref": _check_ref,
    "additionalProperties": _check_kind(
        (bool, dict), "additionalProperties must be a boolean or an object"
    ),
    "anyOf": _check_branches,
    "oneOf": _check_branches,
    "allOf": _check_branches,
    "description": _check_kind(str, "description must be a string"),
    "enum": _check_enum,
    "items": _check_items,
    "pattern": _check_kind(str, "pattern must be a string"),
    "properties": _check_properties,
    "required": _check_required,
}
