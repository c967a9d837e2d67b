"""The Moonshot Flavored JSON Schema check: refuse what the real service refuses, in its words.

`check_mfjs(schema, where)` is run on a tool's `parameters` and on a `json_schema` response
format. The messages and most rules are those of MoonshotAI/walle, the open-source validator
the service uses (`At path 'properties.pair.items': items must be an object`); paths name
anyOf branches without an index, as walle does.

This module stands alone: `schema_gen` imports it (and re-exports its names), never the
reverse, so the small helpers it shares in spirit with the generator (the dotted path, the
cache key, the `$ref` walk) are copies of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import jsonschema
import orjson

__all__ = ["MFJSError", "check_mfjs", "mfjs_message"]

Path = tuple[str, ...]


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


def _key(value: Any) -> bytes:
    """The schema's JSON text, the cache key (orjson for speed; the standard library for
    integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


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


def _check_node(s: Any, path: Path, root: dict, is_property: bool, depth: int = 0) -> None:
    """walle's order: $defs first, then type conflicts, type, keywords (sorted), children."""
    if not isinstance(s, dict):
        return
    if depth > MAX_DEPTH:
        raise MFJSError(_dot(path), f"schema depth exceeds maximum limit of {MAX_DEPTH}")
    if "$defs" in s:
        _check_defs(s["$defs"], (*path, "$defs"), root)
    _check_type(s, path)
    if is_property and not s.keys() & _TYPELESS_OK:
        raise MFJSError(_dot(path), "type need to be defined explicitly")
    for key in sorted(s.keys() & _KEYWORD_CHECKS.keys()):
        _KEYWORD_CHECKS[key](s[key], s, (*path, key), root)
    _check_ranges(s, path)
    for child, child_path, child_is_property in _children(s, path):
        _check_node(child, child_path, root, child_is_property, depth + 1)


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


MAX_ENUM = 1000
MAX_DEPTH = 30


def _check_enum(value: Any, s: dict, path: Path, _root: dict) -> None:
    if not isinstance(value, list):
        raise MFJSError(_dot(path), "enum must be an array")
    if not value:
        raise MFJSError(_dot(path), "enum array cannot be empty")
    if len(value) > MAX_ENUM:
        raise MFJSError(_dot(path), f"enum array cannot have more than {MAX_ENUM} items")
    if "type" not in s:
        raise MFJSError(_dot(path[:-1]), "type is not defined")
    kinds = [s["type"]] if isinstance(s["type"], str) else list(s["type"])
    for kind in ("object", "array"):
        if kind in kinds:
            raise MFJSError(_dot(path[:-1]),
                            f"type {kind} is not allowed in combination with enum")
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
    if not _resolves(root, value):
        raise MFJSError("root", f"invalid $ref path: {value}")


def pointer(root: Any, ref: str) -> Any:
    """The node the local JSON pointer `ref` (`#/$defs/x/...`) names; LookupError if none."""
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise LookupError(ref) from None
    return node


def _resolves(root: dict, ref: str) -> bool:
    try:
        pointer(root, ref)
    except LookupError:
        return False
    return True


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
