"""Apply an OpenAPI Overlay 1.0 document to the vendored spec.

The vendored spec stays byte-for-byte as published; every correction the real service needs
lives in `openapi/overlay.json` as an action with a `description` saying why. Targets use the
JSONPath subset that plain paths need (`$.a.b['c/d']`); an `update` merges objects
recursively and replaces everything else (lists included, so an enum can be widened in one
action); `remove: true` deletes the target.
"""

from __future__ import annotations

import copy
import re
from typing import Any

__all__ = ["OverlayError", "apply_overlay", "parse_target"]

_SEGMENT = re.compile(r"\.([A-Za-z0-9_$\-]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


class OverlayError(ValueError):
    """An overlay action that does not fit the document: a bad target or a missing parent."""


def parse_target(target: str) -> list[str | int]:
    """`$.components.schemas['Message']` → `["components", "schemas", "Message"]`; a list
    item by its index, `$.paths['/v1/files'].get.parameters[1]` (the vendored spec is
    pinned by its hash, so an index always names the same item)."""
    if not target.startswith("$"):
        raise OverlayError(f"target {target!r} must start with '$'")
    keys, pos = [], 1
    while pos < len(target):
        match = _SEGMENT.match(target, pos)
        if match is None:
            raise OverlayError(f"target {target!r}: cannot parse at {target[pos:]!r}")
        index = match.group(3)
        keys.append(int(index) if index is not None else
                    match.group(1) if match.group(1) is not None else match.group(2))
        pos = match.end()
    return keys


def _merge(target: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _resolve(document: dict, keys: list[str], target: str) -> tuple[Any, str | None]:
    node: Any = document
    for key in keys[:-1]:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            continue
        if not isinstance(node, dict) or key not in node:
            raise OverlayError(f"target {target!r}: no {key!r} in the document")
        node = node[key]
    return node, (keys[-1] if keys else None)


def apply_overlay(document: dict, overlay: dict) -> dict:
    """Return a new document with every action of `overlay` applied in order."""
    result = copy.deepcopy(document)
    for action in overlay.get("actions", []):
        keys = parse_target(action["target"])
        parent, last = _resolve(result, keys, action["target"])
        if action.get("remove"):
            if last is None or last not in parent:
                raise OverlayError(f"cannot remove {action['target']!r}: it does not exist")
            del parent[last]
            continue
        update = action.get("update", {})
        if isinstance(last, int) != isinstance(parent, list) or (
                isinstance(last, int) and last >= len(parent)):
            raise OverlayError(f"target {action['target']!r}: an index names an item of a "
                               "list, a name a member of an object")
        if isinstance(last, int):
            _merge(parent[last], update)
            continue
        if last is None:
            _merge(result, update)
        elif isinstance(parent.get(last), dict) and isinstance(update, dict):
            _merge(parent[last], update)
        else:
            parent[last] = copy.deepcopy(update)
    return result
