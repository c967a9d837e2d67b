"""The HTTP edges of the request road: reading a JSON body, writing a JSON reply.

Every way a body can be wrong (too large, not UTF-8, not JSON, not an object, a content
type that is not JSON) becomes a 400 in Moonshot's envelope here, before any handler runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .errors import APIError, invalid_request

__all__ = ["error_response", "json_response", "parse_json", "read_body", "read_json"]

JSON_TYPES = ("application/json", "application/x-ndjson", "text/json")


JSON_MEDIA = b"application/json; charset=utf-8"


class JSONReply:
    """A JSON reply sent as two raw ASGI messages.

    Every reply on the hot path is one of these; building a Starlette Response (header
    normalisation, background tasks) cost more than the rest of a models call."""

    __slots__ = ("body", "headers", "status_code")
    media_type = JSON_MEDIA.decode()

    def __init__(self, body: bytes, status_code: int = 200,
                 headers: dict[str, str] | None = None) -> None:
        self.body, self.status_code, self.headers = body, status_code, headers

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        raw = [(b"content-type", JSON_MEDIA), (b"content-length", b"%d" % len(self.body))]
        if self.headers:
            raw.extend((k.lower().encode("latin-1"), v.encode("latin-1"))
                       for k, v in self.headers.items())
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


def json_response(body: bytes | dict | list, status: int = 200,
                  headers: dict[str, str] | None = None) -> JSONReply:
    return JSONReply(body if isinstance(body, bytes) else orjson.dumps(body), status, headers)


def error_response(error: APIError) -> JSONReply:
    return JSONReply(error.to_json(), error.status, error.headers or None)


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
    return parse_json(headers, await read_body(headers, receive, limit))


def parse_json(headers: dict[str, str], raw: bytes) -> Any:
    """`raw` as the JSON object a request must carry, or the 400 saying what is wrong."""
    _check_content_type(headers)
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
