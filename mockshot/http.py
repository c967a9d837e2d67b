"""The HTTP edges of the request road: reading a JSON body, writing a JSON reply.

Every way a body can be wrong (too large, not UTF-8, not JSON, not an object, a content
type that is not JSON) becomes a 400 in Moonshot's envelope here, before any handler runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import Response

from .errors import APIError, invalid_request

__all__ = ["error_response", "json_response", "read_json"]

JSON_TYPES = ("application/json", "application/x-ndjson", "text/json")


class JSONResponse(Response):
    media_type = "application/json; charset=utf-8"


def json_response(body: bytes | dict | list, status: int = 200, headers=None) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return JSONResponse(content, status_code=status, headers=headers)


def error_response(error: APIError) -> Response:
    return JSONResponse(error.to_json(), status_code=error.status, headers=error.headers or None)


def _check_content_type(headers: dict[str, str]) -> None:
    value = headers.get("content-type")
    if value is None:
        return
    media = value.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return
    raise invalid_request(
        f"unsupported content type {media or value!r}; send the body as application/json"
    )


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


async def read_body(headers: dict[str, str], receive: Callable, limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise invalid_request(f"total message size {declared} exceeds limit {limit}")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise invalid_request(f"total message size {size} exceeds limit {limit}")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_json(headers: dict[str, str], receive: Callable, limit: int) -> Any:
    """The request's JSON object, or a 400 that says what is wrong with the body."""
    _check_content_type(headers)
    raw = await read_body(headers, receive, limit)
    if not raw.strip():
        raise invalid_request("the request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise invalid_request(
                f"the request body is not valid UTF-8 (byte {bad.start})"
            ) from None
        raise invalid_request(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise invalid_request(f"the request body must be a JSON object, not {_kind(body)}")
    return body


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
