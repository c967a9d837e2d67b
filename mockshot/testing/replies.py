"""The reply checker: is a reply what the effective spec (spec + overlay) documents?

mockshot's own suite checks every reply it sends with it; users check their own recorded
replies (cassettes, fixtures, a real service's answers) the same way.
`check_reply(method, path, status, content_type, body)` finds the operation by matching the
path against the spec's templates and validates the body against the documented response
schema for that status; a status the spec does not document for the operation is itself a
failure. SSE bodies are checked frame by frame against ChatCompletionChunk. `hook` and
`async_hook` do it for every response of an httpx(2) client (`event_hooks=`).
"""

from __future__ import annotations

import json
import re
from functools import cache

import jsonschema

from ..spec import load_document

__all__ = ["SpecViolation", "async_hook", "check_reply", "hook", "validate"]

SSE_DATA = re.compile(rb"^data: (.*)$", re.M)


class SpecViolation(AssertionError):
    """A reply the spec does not document: the message says where and what."""


@cache
def _validator(ref: str) -> jsonschema.Draft202012Validator:
    doc = load_document()
    return jsonschema.Draft202012Validator({"$ref": ref, "components": doc["components"]})


@cache
def _routes() -> list[tuple[re.Pattern, str]]:
    doc = load_document()
    out = []
    for template in doc["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
        out.append((re.compile(pattern), template))
    return out


def operation(method: str, path: str) -> tuple[str, dict] | None:
    doc = load_document()
    for pattern, template in _routes():
        if pattern.match(path) and method.lower() in doc["paths"][template]:
            return template, doc["paths"][template][method.lower()]
    return None


def _schema_for(op: dict, status: int, media: str) -> dict | None:
    responses = op.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if response is None:
        raise SpecViolation(f"status {status} is not documented for this operation")
    content = response.get("content", {})
    entry = content.get(media) or next(
        (v for k, v in content.items() if k.split(";")[0] == media), None
    )
    return None if entry is None else entry.get("schema")


def validate(schema: dict, instance: object, where: str) -> None:
    """Raise SpecViolation unless `instance` fits `schema` (a `$ref` into the spec's
    components, or a schema using them); `where` begins the message."""
    if "$ref" in schema:
        validator = _validator(schema["$ref"])
    else:
        doc = load_document()
        validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise SpecViolation(f"{where}: {error.message} at {list(error.absolute_path)}")


def check_reply(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise SpecViolation unless `body` is what the spec documents for this reply."""
    if path.startswith("/_mockshot/"):
        return
    found = operation(method, path)
    if found is None:
        envelope = json.loads(body)
        validate({"$ref": "#/components/schemas/ErrorResponse"}, envelope, f"{method} {path}")
        return
    template, op = found
    media = content_type.split(";")[0].strip()
    where = f"{method} {template} -> {status} {media}"
    schema = _schema_for(op, status, media)
    if schema is None:
        raise SpecViolation(f"{where}: media type {media} is not documented")
    if media == "text/event-stream":
        for frame in SSE_DATA.findall(body):
            if frame == b"[DONE]":
                continue
            data = json.loads(frame)
            chunk_ref = {"$ref": "#/components/schemas/ChatCompletionChunk"}
            validate(chunk_ref if "error" not in data else
                      {"$ref": "#/components/schemas/ErrorResponse"}, data, where)
        return
    if media == "application/jsonl":  # documented as a string; each line is one JSON value
        for line in body.splitlines():
            json.loads(line)
    instance = json.loads(body) if media.endswith("json") else body.decode("utf-8")
    validate(schema, instance, where)


def hook(response) -> None:
    """An httpx/httpx2 response event hook: read the reply and check it against the spec."""
    response.read()
    request = response.request
    check_reply(request.method, request.url.path, response.status_code,
          response.headers.get("content-type", ""), response.content)


async def async_hook(response) -> None:
    """`hook` for an `httpx.AsyncClient` (or httpx2's)."""
    await response.aread()
    request = response.request
    check_reply(request.method, request.url.path, response.status_code,
          response.headers.get("content-type", ""), response.content)
