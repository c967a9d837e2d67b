"""The effective spec as mockshot publishes it: the vendored spec plus the overlay, with its
streams described so conformance tools can check them.

The vendored spec types a streamed reply as one `ChatCompletionChunk`, which no tool can
check against an SSE body. Published, a `text/event-stream` body is what it is — text —
and each of its events is described by an item schema: a `data` field holding either
`[DONE]` or JSON that is a chunk (or, mid-stream, an error envelope). OpenAPI 3.2 has the
field for it (`itemSchema`); 3.1 tools get the same schema as `x-itemSchema` beside a
string `schema`, which 3.1 validators accept.

    GET /_mockshot/openapi.json[?version=3.2]      mockshot openapi [--version 3.2]
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .spec import load_document

__all__ = ["EVENT_SCHEMA", "VERSIONS", "published_document"]

VERSIONS = ("3.1", "3.2")
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One server-sent event: `data: <payload>` then a blank line; no `event:` "
                   "or `id:` lines. The last event's data is `[DONE]`.",
    "required": ["data"],
    "properties": {"data": {"anyOf": [
        {"const": "[DONE]"},
        {"type": "string", "contentMediaType": "application/json",
         "contentSchema": {"oneOf": [{"$ref": "#/components/schemas/ChatCompletionChunk"},
                                     {"$ref": "#/components/schemas/ErrorResponse"}]}},
    ]}},
    "additionalProperties": False,
}
STREAM_BODY = {"type": "string", "description": "Server-sent events; each is described by "
                                                "the item schema"}


def _streams(document: dict) -> list[dict]:
    """Every `text/event-stream` media object of the document's responses."""
    found = []
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                media = (response.get("content") or {}).get("text/event-stream")
                if media is not None:
                    found.append(media)
    return found


@cache
def _published(version: str) -> dict:
    document = copy.deepcopy(load_document())
    for media in _streams(document):
        media.clear()
        if version == "3.2":
            media["itemSchema"] = copy.deepcopy(EVENT_SCHEMA)
        else:
            media.update({"schema": dict(STREAM_BODY), "x-itemSchema": copy.deepcopy(
                EVENT_SCHEMA)})
    document["openapi"] = "3.2.0" if version == "3.2" else document["openapi"]
    return document


def published_document(version: str = "3.1") -> dict:
    """The effective document for `version` (3.1 or 3.2); built once, never to mutate."""
    if version not in VERSIONS:
        raise ValueError(f"OpenAPI version {version!r}: one of {', '.join(VERSIONS)}")
    return _published(version)
