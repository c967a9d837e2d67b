"""Compiled Draft 2020-12 validators, cached by schema text, and the error they explain.

The generator is best-effort where JSON Schema is hard, so every value it returns (and every
`oneOf`/`not`/`contains` candidate) is judged by a real validator; compiling one costs far
more than validating, hence the cache keyed by canonical JSON text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
import orjson

from .context import SchemaGenerationError
from .regex import search

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pure-Python validator is the fallback
    jsonschema_rs = None

__all__ = ["explain", "json_key", "sub_validator", "validator_for"]


def json_key(value: Any, sort: bool = False) -> bytes:
    """Canonical-enough JSON text, the cache key for a schema (orjson for speed; the
    standard library for integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort else None)
    except TypeError:
        return json.dumps(value, sort_keys=sort, separators=(",", ":")).encode()


@lru_cache(maxsize=512)
def _compiled(text: bytes, formats: bool = True) -> Any:
    """A validator per schema text: compiling costs far more than validating, and the same
    tool schemas come back on every turn. Formats are asserted so ours are honest (unless
    `formats` is false: Draft 2020-12's default, where `format` only annotates)."""
    schema = json.loads(text)
    if jsonschema_rs is not None:
        try:
            return jsonschema_rs.Draft202012Validator(schema, validate_formats=formats)
        except Exception:  # a dialect difference (regex, $ref): let jsonschema decide
            pass
    try:
        BoundedValidator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaGenerationError(list(map(str, exc.path)), exc.message) from None
    checker = BoundedValidator.FORMAT_CHECKER if formats else None
    return BoundedValidator(schema, format_checker=checker)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    """jsonschema's `pattern`, on the bounded search (RE2 where it can run the pattern)."""
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# The pure-Python fallback (for schemas jsonschema-rs cannot compile), with `pattern`
# matched like everything else in the generator.
BoundedValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                                {"pattern": _pattern})


def validator_for(schema: Any, formats: bool = True) -> Any:
    return _compiled(json_key(schema), formats)


def sub_validator(sub: Any, root: dict) -> Any:
    """A validator for a subschema whose `#/$defs/...` references still resolve."""
    wrapper = {"allOf": [sub]}
    for defs in ("$defs", "definitions"):
        if defs in root:
            wrapper[defs] = root[defs]
    return validator_for(wrapper)


def explain(check: Any, value: Any, attempts: int) -> SchemaGenerationError:
    """The first reason `value` fails `check`, as the error `generate` gives up with."""
    error = next(iter(check.iter_errors(value)))
    where = [str(p) for p in error.schema_path]
    return SchemaGenerationError(where, f"no valid value in {attempts} draws ({error.message})")
