"""The HTTP edges of the request road: reading a JSON body, writing a JSON reply.

Every way a body can be wrong (too large, compressed, not UTF-8, not JSON, nested too
deeply, not an object, a content type that is not JSON) becomes a 4xx in Moonshot's
envelope here, before any handler runs, so nothing behind the road ever meets such a body.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import accumulate
from typing import Any

import orjson

from .errors import APIError, clip, invalid_request
from .limits import MAX_DEPTH

__all__ = ["check_encoding", "error_response", "json_response", "parse_json", "read_body",
           "read_json"]

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
        f"unsupported content type {clip(media or value, 100)!r}; send the body as "
        "application/json"
    )


def check_encoding(headers: dict[str, str]) -> None:
    """A compressed body would otherwise read as bad UTF-8 or bad JSON: say what it is."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise APIError(415, "invalid_request_error", (
            f"Invalid request: Content-Encoding {clip(encoding, 100)!r} is not supported; "
            "send the body uncompressed"))


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


async def read_body(headers: dict[str, str], receive: Callable, limit: int) -> bytes:
    check_encoding(headers)
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
        raise _not_json(raw, exc) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth_of(raw) > MAX_DEPTH:
        raise too_deep()  # the count bounds the depth, so most bodies skip the measure
    if not isinstance(body, dict):
        raise invalid_request(f"the request body must be a JSON object, not {_kind(body)}")
    return body


def _not_json(raw: bytes, exc: orjson.JSONDecodeError) -> APIError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return invalid_request(f"the request body is not valid UTF-8 (byte {bad.start})")
    if "depth limit" in str(exc):  # orjson's own limit (1024) is far beyond ours
        return too_deep()
    return invalid_request(f"the request body is not valid JSON: {exc}")


def too_deep() -> APIError:
    return invalid_request(f"the request body nests arrays and objects more than "
                           f"{MAX_DEPTH} levels deep; mockshot accepts at most {MAX_DEPTH}")


_KEEP = bytes(set(range(256)) - set(b'"[]{}'))  # deleted before strings are dropped
_SIGNED = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # opening +1, closing -1 as int8


def depth_of(raw: bytes) -> int:
    """How deep valid JSON text nests arrays and objects: the running sum of its brackets
    once the strings are dropped, all in C-level passes (escaped backslashes and quotes go
    first, then everything but quotes and brackets; what lies between quotes is a string)."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = raw.translate(None, _KEEP).split(b'"')[::2]
    brackets = b"".join(outside).translate(_SIGNED)
    return max(accumulate(memoryview(brackets).cast("b")), default=0)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
