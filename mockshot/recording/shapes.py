"""The shape of a reply, apart from its content: what `mockshot diff` compares.

A JSON value's shape is each path it has (array items merged under `[]`) with the JSON
types seen there, and the format of every id (`chatcmpl-<hex24>`, `<name>_<n>`). A
stream's shape is its sequence of chunk kinds (role, reasoning, content, tool_call,
finish, usage, [DONE], error …, runs collapsed), the shape of each kind's chunks, and
where usage is carried. Two replies with different words but the same shape agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..scenarios.recorded import frame_form

__all__ = ["StreamShape", "event_kind", "generalise", "id_format", "json_paths",
           "stream_shape"]

TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9]+")
HEX = frozenset("0123456789abcdef")
DIGITS = re.compile(r"[0-9]+")
Paths = dict[str, set[str]]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _token(match: re.Match) -> str:
    token = match.group()
    if "-" in token:
        return "<uuid>"
    if len(token) >= 8 and set(token) <= HEX:
        return f"<hex{len(token)}>"
    if len(token) >= 12 and any(c.isdigit() for c in token):
        return f"<alnum{len(token)}>"
    return DIGITS.sub("<n>", token)


def generalise(text: str) -> str:
    """`text` with its random and counted parts as placeholders (uuids, hex and
    alphanumeric runs with digits, numbers): what stays is its format."""
    return TOKEN.sub(_token, text)


def id_format(value: str, name: str | None = None) -> str:
    """An id's format; a tool call's own function name reads `<name>`."""
    return generalise(value.replace(name, "<name>") if name else value)


def _is_id(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key == "system_fingerprint"


def json_paths(value: Any, types: Paths | None = None, ids: Paths | None = None,
               where: str = "") -> tuple[Paths, Paths]:
    """Every path of `value` with its types, and every id path with its formats."""
    types = {} if types is None else types
    ids = {} if ids is None else ids
    types.setdefault(where or ".", set()).add(json_type(value))
    if isinstance(value, dict):
        function = value.get("function")
        name = value.get("name") or (function.get("name") if isinstance(function, dict)
                                     else None)
        for key, item in value.items():
            path = f"{where}.{key}" if where else key
            if _is_id(key) and isinstance(item, str):
                ids.setdefault(path, set()).add(
                    id_format(item, name if isinstance(name, str) else None))
            json_paths(item, types, ids, path)
    elif isinstance(value, list):
        for item in value:
            json_paths(item, types, ids, f"{where}[]")
    return types, ids


@dataclass(slots=True)
class StreamShape:
    """A stream's kinds in order (runs collapsed), each kind's paths and ids, and
    where usage came."""

    sequence: list[str] = field(default_factory=list)
    kinds: dict[str, tuple[Paths, Paths]] = field(default_factory=dict)
    usage: set[str] = field(default_factory=set)


def _openai_kind(chunk: dict) -> str:
    if "error" in chunk:
        return "error"
    choices = chunk.get("choices") or []
    if not choices:
        return "usage" if chunk.get("usage") else "empty"
    choice = choices[0]
    delta = choice.get("delta") or {}
    if choice.get("finish_reason"):
        return "finish"
    if "role" in delta:
        return "role"
    if delta.get("tool_calls"):
        return "tool_call" if any("id" in c for c in delta["tool_calls"]) else "tool_arguments"
    if "reasoning_content" in delta:
        return "reasoning"
    return "content" if "content" in delta else "empty"


def _openai_usage(chunk: dict) -> set[str]:
    found = set()
    if any("usage" in c for c in chunk.get("choices") or ()):
        found.add("inside the finish chunk's choice")
    if chunk.get("usage"):
        found.add("a usage chunk (choices: [])" if not chunk.get("choices")
                  else "top level of a chunk with choices")
    return found


def _anthropic_kind(event: dict) -> str:
    kind = str(event.get("type"))
    if kind == "content_block_start":
        return f"{kind}:{(event.get('content_block') or {}).get('type')}"
    if kind == "content_block_delta":
        return f"{kind}:{(event.get('delta') or {}).get('type')}"
    return kind


def _anthropic_usage(event: dict) -> set[str]:
    if event.get("type") == "message_start" and "usage" in (event.get("message") or {}):
        return {"message_start.message.usage"}
    return {f"{event.get('type')}.usage"} if "usage" in event else set()


def _event(raw: bytes) -> tuple[str | None, Any]:
    """An SSE event's `event:` name and its JSON data ("[DONE]", or None when the event
    is malformed)."""
    form = frame_form(raw, 0)
    if "data" not in form:
        return None, None
    if form["data"] == "[DONE]":
        return form.get("event"), "[DONE]"
    try:
        return form.get("event"), orjson.loads(form["data"])
    except orjson.JSONDecodeError:
        return None, None


def event_kind(raw: bytes, surface: str) -> tuple[str, Any]:
    """What one SSE event is (`role`, `content`, `finish`, `[DONE]`, `malformed` …, or
    an Anthropic event type) and its JSON data."""
    _, data = _event(raw)
    if data == "[DONE]":
        return "[DONE]", None
    if not isinstance(data, dict):
        return "malformed", None
    return (_openai_kind(data) if surface == "openai" else _anthropic_kind(data)), data


def stream_shape(events: list[bytes], surface: str) -> StreamShape:
    """The shape of a stream given as its SSE events, in `surface`'s framing."""
    shape = StreamShape()
    for raw in events:
        kind, data = event_kind(raw, surface)
        if data is not None:
            shape.usage |= _openai_usage(data) if surface == "openai" else _anthropic_usage(data)
            types, ids = shape.kinds.setdefault(kind, ({}, {}))
            json_paths(data, types, ids)
        if not shape.sequence or shape.sequence[-1] != kind:
            shape.sequence.append(kind)
    return shape
