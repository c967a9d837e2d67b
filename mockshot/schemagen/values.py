"""The walk that draws one value for a (sub)schema.

`draw(s, cx, path)` is the recursion `schema_gen.generate` starts: applicators first (`$ref`,
`allOf`, `anyOf`, `oneOf`, `not`), then `const`/`enum`/`default`, then a draw by type.
Objects and arrays recurse through `draw` for their members, so they live here with it;
numbers and strings are leaves and live in `number_draws` and `string_draws`. `path` is the
schema location, so a failure can say where the schema could not be met.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

from .context import GIVE_UP_AFTER, DrawContext, Path, SchemaGenerationError
from .merge import merge
from .mfjs import pointer
from .numbers import draw_integer, draw_number
from .readable import singular, some_words, text_for
from .regex import regex_string, search
from .strings import draw_string
from .validators import json_key, sub_validator

__all__ = ["draw"]


def draw(s: Any, cx: DrawContext, path: Path) -> Any:
    """A value for `s` (best effort: the caller validates). Applicators come first because
    they can change every other keyword; `default`/`examples` are reused only on a first
    draw, since on a redraw they may be the very thing that failed. Once the budget is cut
    every draw is a placeholder: it lies past the text any reply shows."""
    if cx.budget.cut:
        return None
    cx.budget.step(path)
    if s is True or s == {}:
        return _charged(text_for(cx.name, cx.rng), cx)
    if s is False or not isinstance(s, dict):
        raise SchemaGenerationError(path, "the schema `false` admits no value")
    for keyword, applicator in _APPLICATORS:
        if keyword in s:
            return applicator(s, cx, path)
    if "const" in s:
        return _charged(deepcopy(s["const"]), cx)
    if "enum" in s:
        return _charged(_pick_enum(s, cx, path), cx)
    if not cx.fresh and ("default" in s or "examples" in s) and cx.rng.random() < 0.3:
        chosen = cx.rng.choice([*s.get("examples", []), *_listed(s, "default")])
        return _charged(deepcopy(chosen), cx)
    make = _TYPES.get(_pick_type(s, cx, path))
    if make is None:
        raise SchemaGenerationError((*path, "type"), f"unknown type {s['type']!r}")
    return make(s, cx, path)


def _charged(value: Any, cx: DrawContext) -> Any:
    """A value taken whole (a const, an enum member, an example), its JSON size spent."""
    cx.budget.spend(len(value) + 2 if isinstance(value, str) else len(json_key(value)))
    return value


def _listed(s: dict, key: str) -> list:
    return [s[key]] if key in s else []


def _pick_enum(s: dict, cx: DrawContext, path: Path) -> Any:
    options = s["enum"]
    if not options:
        raise SchemaGenerationError((*path, "enum"), "enum is empty")
    return deepcopy(cx.rng.choice(options))


def _draw_ref(s: dict, cx: DrawContext, path: Path) -> Any:
    if cx.refs >= GIVE_UP_AFTER:
        raise SchemaGenerationError((*path, "$ref"), "recursive $ref never terminates")
    target = _resolve(cx.root, s["$ref"], path)
    rest = {k: v for k, v in s.items() if k != "$ref"}
    merged = merge([rest, target]) if rest and isinstance(target, dict) else target
    return draw(merged, cx.deeper(cx.refs + 1), (*path, "$ref"))


def _resolve(root: dict, ref: Any, path: Path) -> Any:
    """Local references only (`#`, `#/$defs/x`, `#/definitions/x`, any JSON pointer)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaGenerationError((*path, "$ref"), f"cannot resolve $ref {ref!r}")
    try:
        return pointer(root, ref)
    except LookupError:
        raise SchemaGenerationError((*path, "$ref"), f"$ref {ref} does not resolve") from None


def _draw_all_of(s: dict, cx: DrawContext, path: Path) -> Any:
    parts: list = [{k: v for k, v in s.items() if k != "allOf"}]
    refs = cx.refs
    for sub in s["allOf"]:
        if isinstance(sub, dict) and "$ref" in sub:
            target = _resolve(cx.root, sub["$ref"], (*path, "allOf"))
            sub, refs = merge([{k: v for k, v in sub.items() if k != "$ref"}, target]), refs + 1
        parts.append(sub)
    if refs >= GIVE_UP_AFTER:
        raise SchemaGenerationError((*path, "allOf"), "recursive $ref never terminates")
    return draw(merge(parts), cx.deeper(refs), (*path, "allOf"))


def _branches(s: dict, key: str, cx: DrawContext) -> list:
    """The order to try branches in: random, or cheapest first once recursion runs deep."""
    branches = list(s[key])
    if cx.short:
        return sorted(branches, key=lambda b: (b"$ref" in json_key(b), len(json_key(b))))
    cx.rng.shuffle(branches)
    return branches


def _draw_any_of(s: dict, cx: DrawContext, path: Path) -> Any:
    rest = {k: v for k, v in s.items() if k != "anyOf"}
    failure = SchemaGenerationError((*path, "anyOf"), "anyOf is empty")
    for branch in _branches(s, "anyOf", cx):
        try:
            return draw(merge([rest, branch]), cx, (*path, "anyOf"))
        except SchemaGenerationError as exc:
            failure = exc
    raise failure


def _draw_one_of(s: dict, cx: DrawContext, path: Path) -> Any:
    """A value matching exactly one branch: draw from a branch, then count the matches."""
    rest = {k: v for k, v in s.items() if k != "oneOf"}
    checks = [sub_validator(b, cx.root) for b in s["oneOf"]]
    for branch in _branches(s, "oneOf", cx):
        for _ in range(3):
            try:
                value = draw(merge([rest, branch]), cx, (*path, "oneOf"))
            except SchemaGenerationError:
                break
            if sum(c.is_valid(value) for c in checks) == 1:
                return value
    raise SchemaGenerationError((*path, "oneOf"), "no draw matched exactly one branch")


def _draw_not(s: dict, cx: DrawContext, path: Path) -> Any:
    rest = {k: v for k, v in s.items() if k != "not"}
    check = sub_validator(s["not"], cx.root)
    for _ in range(10):
        value = draw(rest, cx, path)
        if not check.is_valid(value):
            return value
    raise SchemaGenerationError((*path, "not"), "every draw matched the `not` schema")


_APPLICATORS: tuple[tuple[str, Callable[[dict, DrawContext, Path], Any]], ...] = (
    ("$ref", _draw_ref),
    ("allOf", _draw_all_of),
    ("anyOf", _draw_any_of),
    ("oneOf", _draw_one_of),
    ("not", _draw_not),
)


# --------------------------------------------------------------------------- types

_INFERRED = (
    ("object", ("properties", "required", "additionalProperties", "patternProperties",
                "minProperties", "maxProperties", "dependentRequired")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)
_SHORTEST = ("null", "boolean", "integer", "number", "string", "array", "object")


def _pick_type(s: dict, cx: DrawContext, path: Path) -> str:
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


def _draw_object(s: dict, cx: DrawContext, path: Path) -> dict:
    out: dict = {}
    cx.budget.spend(2)
    for name in _object_keys(s, cx, path):
        if cx.budget.cut:
            return out
        cx.budget.spend(len(name) + 4)
        out[name] = draw(_property_schema(s, name), cx.named(name), (*path, "properties", name))
    need = s.get("minProperties", 0) - len(out)
    if need > 0:
        out.update(_extra_properties(s, out, need, cx, path))
    return out


def _object_keys(s: dict, cx: DrawContext, path: Path) -> list[str]:
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
    patterns = [v for p, v in s.get("patternProperties", {}).items() if search(p, name)]
    own = s.get("properties", {}).get(name)
    if own is None:
        own = patterns.pop(0) if patterns else s.get("additionalProperties", True)
    return {"allOf": [own, *patterns]} if patterns else own


def _extra_properties(s: dict, out: dict, need: int, cx: DrawContext, path: Path) -> dict:
    """Names for `minProperties`: unused declared ones, then pattern or invented ones.
    An object sure to be cut draws its first values and repeats them (as long arrays do)."""
    names = [k for k in s.get("properties", {}) if k not in out]
    patterns = list(s.get("patternProperties", {}))
    extra: dict = {}
    drawn: list = []
    long = need > DRAWN_ITEMS and 6 * need > cx.budget.room()
    for _ in range(need * 4):
        if len(extra) == need or cx.budget.cut:
            return extra
        if names:
            name = names.pop(0)
        elif patterns:
            name = regex_string(cx.rng.choice(patterns), cx.rng)
        elif s.get("additionalProperties", True) is not False:
            name = some_words(cx.rng, 1) + str(len(extra))
        else:
            break
        if name not in out and name not in extra:
            cx.budget.spend(len(name) + 4)
            if long and len(drawn) >= DRAWN_ITEMS:
                extra[name] = _charged(drawn[len(extra) % DRAWN_ITEMS], cx)
            else:
                extra[name] = draw(_property_schema(s, name), cx.named(name), (*path, "properties"))
                drawn.append(extra[name])
    if len(extra) < need and not cx.budget.cut:
        raise SchemaGenerationError((*path, "minProperties"), "not enough allowed properties")
    return extra


def _array_length(s: dict, cx: DrawContext) -> int:
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


DRAWN_ITEMS = 64  # items of a long array drawn one by one; the rest repeat them


def _draw_array(s: dict, cx: DrawContext, path: Path) -> list:
    prefix, items = s.get("prefixItems", []), s.get("items", True)
    child = cx.named(singular(cx.name))
    length = _array_length(s, cx)
    long = length > DRAWN_ITEMS and 2 * length > cx.budget.room()  # sure to be cut
    unique = s.get("uniqueItems", False) and not long  # a cut array shows no end to check
    out: list = []
    seen: set[bytes] = set()
    cx.budget.spend(2)
    for i in range(min(length, DRAWN_ITEMS) if long else length):
        if cx.budget.cut:
            return out
        sub, at = (prefix[i], ("prefixItems", str(i))) if i < len(prefix) else (items, ("items",))
        cx.budget.spend(2)
        item = _unique_item(sub, child, path + at, seen) if unique else draw(sub, child, path + at)
        if item is _MISSING:
            if len(out) >= s.get("minItems", 0):
                break
            raise SchemaGenerationError((*path, "uniqueItems"), "not enough distinct items")
        out.append(item)
    if long:
        _repeat_items(out, length, cx)
    elif "contains" in s:
        _add_contained(s, out, cx, path)
    return out


def _repeat_items(out: list, length: int, cx: DrawContext) -> None:
    """Fill a long array by repeating its drawn items until the budget is spent: it is cut
    before its end anyway, so fresh draws would only cost time."""
    drawn = [(item, len(json_key(item)) + 2) for item in out]
    at = 0
    while drawn and len(out) < length and not cx.budget.cut:
        item, size = drawn[at % len(drawn)]
        out.append(item)
        cx.budget.spend(size)
        at += 1


def _unique_item(sub: Any, cx: DrawContext, path: Path, seen: set[bytes]) -> Any:
    for _ in range(6):
        item = draw(sub, cx, path)
        key = json_key(item, sort=True)
        if key not in seen:
            seen.add(key)
            return item
    return _MISSING


_MISSING = object()


def _add_contained(s: dict, out: list, cx: DrawContext, path: Path) -> None:
    """Best effort: put in enough items matching `contains` (validation has the last word)."""
    check = sub_validator(s["contains"], cx.root)
    missing = s.get("minContains", 1) - sum(check.is_valid(x) for x in out)
    sub = {"allOf": [s.get("items", True), s["contains"]]}
    for _ in range(max(missing, 0)):
        item = draw(sub, cx, (*path, "contains"))
        if len(out) < s.get("maxItems", len(out) + 1):
            out.insert(cx.rng.randint(0, len(out)), item)
        else:
            spare = [i for i, x in enumerate(out) if not check.is_valid(x)]
            out[cx.rng.choice(spare) if spare else 0] = item


# --------------------------------------------------------------------------- dispatch

_TYPES: dict[str, Callable[[dict, DrawContext, Path], Any]] = {
    "object": _draw_object,
    "array": _draw_array,
    "string": draw_string,
    "integer": lambda s, cx, p: _charged(draw_integer(s, cx, p), cx),
    "number": lambda s, cx, p: _charged(draw_number(s, cx, p), cx),
    "boolean": lambda _s, cx, _p: _charged(cx.rng.random() < 0.5, cx),
    "null": lambda _s, cx, _p: _charged(None, cx),
    "any": lambda _s, cx, _p: _charged(text_for(cx.name, cx.rng), cx),
}
