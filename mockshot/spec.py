"""The contract: the vendored OpenAPI document plus its overlay, compiled once.

`Spec` holds the effective document (spec + overlay), the operations the router serves,
and a compiled request-body validator per operation (one per discriminator value where the
spec picks a schema by `model`, so a kimi-k2.6 request is checked against the kimi-k2.6
schema and its errors name kimi-k2.6 fields). Validation on the hot path uses jsonschema-rs
(~0.3 µs a chat request); the pure-Python `jsonschema` is the fallback when it cannot load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import APIError, Violation, clip
from .overlay import apply_overlay

__all__ = ["Operation", "Spec", "Validator", "load_spec", "spec_dir"]

SPEC_FILE = "moonshot-ai-openapi.json"
OVERLAY_FILE = "overlay.json"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def spec_dir() -> Path:
    """Where the spec lives: inside an installed wheel, else the repo's `openapi/`."""
    packaged = Path(str(resources.files("mockshot"))) / "_openapi"
    if (packaged / SPEC_FILE).exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "openapi"


@dataclass(frozen=True, slots=True)
class Operation:
    """One method + path of the spec, named `<method> <path>` (the spec has no operationIds)."""

    method: str
    path: str
    summary: str

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


class Validator:
    """A compiled schema: `check(body)` raises a 400 naming the first offending field."""

    def __init__(self, schema: dict, components: dict) -> None:
        self._root = {**schema, "components": components}
        self._fast = _compile(self._root)

    def check(self, instance: Any) -> None:
        if self._fast.is_valid(instance):
            return
        error = next(iter(self._fast.iter_errors(instance)))
        found = APIError(400, "invalid_request_error", "")
        found.message = "Invalid request: " + clip(_describe(error, self._root, (), found))
        raise found


def _compile(schema: dict) -> Any:
    try:
        import jsonschema_rs

        return jsonschema_rs.Draft202012Validator(schema)
    except ImportError:  # pragma: no cover - exercised only without the wheel
        import jsonschema

        return _SlowValidator(jsonschema.Draft202012Validator(schema))


class _SlowValidator:
    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def iter_errors(self, instance: Any):
        import jsonschema

        error = jsonschema.exceptions.best_match(self._validator.iter_errors(instance))
        error.instance_path = list(error.absolute_path)
        error.schema_path = list(error.absolute_schema_path)
        yield error


def field_path(parts: Any) -> str:
    """`["messages", 0, "role"]` → `messages[0].role`, the way users write it."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _pointer(parts: list) -> str:
    """RFC 6901: `["messages", 0, "role"]` → `/messages/0/role`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _violation(root: dict, where: list, schema_path: list) -> Violation:
    """The schema rule an error broke: its keyword and that keyword's value."""
    keyword = str(schema_path[-1]) if schema_path else "schema"
    try:
        expected = _node(root, schema_path)
    except (KeyError, IndexError, TypeError):
        expected = None
    if not isinstance(expected, str | int | float | bool | list | type(None)):
        expected = None  # a subschema: the message says it better than a dump would
    return Violation(_pointer(where), keyword, expected)


def _describe(error: Any, root: dict, prefix: tuple = (), found: APIError | None = None) -> str:
    """A message that names the field and what was expected. For `oneOf`/`anyOf`, the
    branch the value was evidently meant for (by its `type` tag, else by its JSON type)
    is asked what is wrong, as deep as such choices nest. `found` learns the violation."""
    where = [*prefix, *error.instance_path]
    schema_path = list(error.schema_path)
    if found is not None:
        found.violation = _violation(root, where, schema_path)
    if schema_path and schema_path[-1] in ("oneOf", "anyOf"):
        options = _node(root, schema_path)
        branch = _intended_branch(options, error.instance, root)
        if branch is not None:
            branch_root = {**branch, "components": root["components"]}
            inner = next(iter(_compile(branch_root).iter_errors(error.instance)), None)
            if inner is not None:
                return _describe(inner, branch_root, tuple(where), found)
        kinds = sorted({_kind(option, root) for option in options})
        shown = json.dumps(error.instance, ensure_ascii=False)[:80]
        return f"{field_path(where)}: {shown} is not valid, expected {' or '.join(kinds)}"
    if schema_path and schema_path[-1] == "required":
        missing = _missing(error.message)
        if missing:
            return f"{field_path([*where, missing])}: {error.message}"
    return f"{field_path(where)}: {error.message}"


def _missing(message: str) -> str | None:
    """The property a `required` error names (`"model" is a required property`)."""
    head = message.split(" is a required property", 1)[0]
    return head.strip('"\'') if head != message else None


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean",
               int: "integer", float: "number", type(None): "null"}


def _resolved(option: dict, root: dict) -> dict:
    return _node(root, option["$ref"].lstrip("#/").split("/")) if "$ref" in option else option


def _intended_branch(options: list, instance: Any, root: dict) -> dict | None:
    """The one branch `instance` was meant for: by a matching `type` tag (content parts,
    tools), else the only branch of its JSON type; None when that is ambiguous."""
    branches = [_resolved(option, root) for option in options]
    if isinstance(instance, dict) and "type" in instance:
        tagged = [b for b in branches
                  if instance["type"] in _tag_values(b.get("properties", {}).get("type", {}))]
        if len(tagged) == 1:
            return tagged[0]
    kind = _JSON_TYPES.get(type(instance))
    matches = []
    for branch in branches:
        types = branch.get("type")
        types = types if isinstance(types, list) else [types]
        if kind in types or (kind == "integer" and "number" in types):
            matches.append(branch)
    return matches[0] if len(matches) == 1 else None


def _tag_values(schema: dict) -> list:
    return schema.get("enum") or ([schema["const"]] if "const" in schema else [])


def _node(root: dict, path: list) -> Any:
    node: Any = root
    for part in path:
        node = node[part]
    return node


def _kind(schema: dict, root: dict) -> str:
    if "$ref" in schema:
        schema = _node(root, schema["$ref"].lstrip("#/").split("/"))
    if "title" in schema:
        return f"a {schema['title']!r} object"
    kind = schema.get("type", "value")
    return f"{'an' if str(kind)[0] in 'aeiou' else 'a'} {kind}"


class Spec:
    """The effective OpenAPI document and what the request road needs from it."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.components = document.get("components", {})
        self.operations = [
            Operation(method, path, item[method].get("summary", ""))
            for path, item in document["paths"].items()
            for method in HTTP_METHODS
            if method in item
        ]
        self._validators: dict[tuple[str, str, str], Validator] = {}

    def operation_schema(self, method: str, path: str) -> dict | None:
        op = self.document["paths"][path][method.lower()]
        content = op.get("requestBody", {}).get("content", {})
        return content.get("application/json", {}).get("schema")

    def discriminated(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """`(property, {value: schema ref})` where the body schema is picked by a field."""
        schema = self.operation_schema(method, path) or {}
        disc = schema.get("discriminator")
        return (disc["propertyName"], disc.get("mapping", {})) if disc else None

    def validator(self, method: str, path: str, ref: str = "") -> Validator:
        """The compiled validator for an operation's body (or one discriminated schema)."""
        key = (method, path, ref)
        found = self._validators.get(key)
        if found is None:
            schema = {"$ref": ref} if ref else self.operation_schema(method, path)
            if schema is None:
                raise APIError(500, "server_error", f"{method} {path} takes no JSON body")
            found = self._validators[key] = Validator(schema, self.components)
        return found

    def compile_all(self) -> None:
        """Compile every validator at start-up, so no request pays for it."""
        for op in self.operations:
            if self.operation_schema(op.method, op.path) is None:
                continue
            disc = self.discriminated(op.method, op.path)
            for ref in set(disc[1].values()) if disc else [""]:
                self.validator(op.method, op.path, ref)


@cache
def load_document(directory: str | None = None) -> dict:
    """Spec + overlay, read once per process (callers must not mutate it)."""
    base = Path(directory) if directory else spec_dir()
    document = json.loads((base / SPEC_FILE).read_text(encoding="utf-8"))
    overlay = json.loads((base / OVERLAY_FILE).read_text(encoding="utf-8"))
    return apply_overlay(document, overlay)


def load_spec(directory: str | None = None) -> Spec:
    return Spec(load_document(directory))
