"""The coverage report: what a client under test exercised, from a journal.

Pure functions over journal entries as the control API shows them (`entry_view` dicts),
so a live mock (`GET /_mockshot/report`) and a saved journal (`mockshot report --journal`)
give the same report. Three parts, each "seen" against "possible":

- operations: each operation of the spec, with its calls;
- requests: the fields of each operation's body the client sent, against the spec's, and
  the values of the features that change what the service does (`DIMENSIONS`);
- responses: the kinds of reply the client was served (`RESPONSES`): streamed and not,
  tool calls, reasoning, length cuts, each error type and status, conformance variants;

plus every violation the client's requests made. `score` is the share of the feature
values and reply kinds seen, the figure `--fail-under` gates on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..operations import neutral_operation

__all__ = ["DIMENSIONS", "RESPONSES", "coverage", "request_fields"]

Body = dict[str, Any]


def _messages(body: Body) -> list[dict]:
    found = body.get("messages")
    return [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []


def _tool_choice(body: Body) -> list[str]:
    choice = body.get("tool_choice")
    if choice is None:
        return ["(unset)"]
    return ["function" if isinstance(choice, dict) else str(choice)]


def _parts(body: Body) -> list[str]:
    kinds = {"text"} if any(isinstance(m.get("content"), str) for m in _messages(body)) else set()
    for message in _messages(body):
        content = message.get("content")
        if isinstance(content, list):
            kinds.update(str(p.get("type")) for p in content if isinstance(p, dict))
    return sorted(kinds)


def _flag(value: object) -> list[str]:
    return ["true" if value else "false"]


# name → (the values a client can use, how to read them from a chat body)
DIMENSIONS: dict[str, tuple[tuple[str, ...], Callable[[Body], list[str]]]] = {
    "stream": (("false", "true"), lambda b: _flag(b.get("stream"))),
    "stream_options.include_usage": (("false", "true"), lambda b: _flag(
        (b.get("stream_options") or {}).get("include_usage")) if b.get("stream") else []),
    "tools": (("absent", "offered"), lambda b: ["offered" if b.get("tools") else "absent"]),
    "tool_choice": (("(unset)", "auto", "none", "required", "function"), _tool_choice),
    "response_format.type": (("text", "json_object", "json_schema"), lambda b: [
        str((b.get("response_format") or {}).get("type", "text"))]),
    "partial": (("false", "true"), lambda b: _flag(any(m.get("partial")
                                                       for m in _messages(b)))),
    "thinking.type": (("(unset)", "enabled", "disabled"), lambda b: [
        str(b["thinking"].get("type")) if isinstance(b.get("thinking"), dict) else "(unset)"]),
    "message.role": (("system", "user", "assistant", "tool"), lambda b: sorted(
        {str(m.get("role")) for m in _messages(b)})),
    "content part": (("text", "image_url", "video_url"), _parts),
    "n": (("1", ">1"), lambda b: [">1" if (b.get("n") or 1) > 1 else "1"]),
}
RESPONSES = ("json", "stream", "tool_calls", "parallel_tool_calls", "reasoning",
             "finish:stop", "finish:length", "finish:tool_calls", "n>1", "cached_tokens")


def request_fields(spec_document: dict, route: str) -> list[str]:
    """The top-level body fields the spec lists for `route` (`POST /v1/...`), across
    every schema a discriminator may pick."""
    method, _, path = route.partition(" ")
    operation = spec_document.get("paths", {}).get(path, {}).get(method.lower(), {})
    schema = (operation.get("requestBody", {}).get("content", {})
              .get("application/json", {}).get("schema"))
    schemas = spec_document.get("components", {}).get("schemas", {})
    return sorted(_properties(schema, schemas, set())) if schema else []


def _properties(schema: Any, schemas: dict, seen: set[str]) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return set()
        return _properties(schemas.get(name), schemas, seen | {name})
    found = set(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, ()):
            found |= _properties(part, schemas, seen)
    return found


def _body(view: dict) -> Body | None:
    body = view.get("request")
    if isinstance(body, dict) and not ("truncated" in body and "text" in body):
        return body
    return None


def _operations(views: list[dict], routes: Iterable[str]) -> dict[str, dict]:
    counts = Counter(v["operation"] for v in views)
    out = {route: {"calls": counts.get(route, 0), "name": neutral_operation(route)}
           for route in routes}
    for route, count in counts.items():  # routes beside the spec (the Anthropic surface)
        out.setdefault(route, {"calls": count, "name": neutral_operation(route)})
    return dict(sorted(out.items()))


def _fields(views: list[dict], document: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for route in sorted({v["operation"] for v in views}):
        sent: Counter[str] = Counter()
        for view in views:
            body = _body(view)
            if view["operation"] == route and body is not None:
                sent.update(list(body))
        if not sent:
            continue
        known = request_fields(document, route)
        out[route] = {"used": sorted(f for f in sent if f in known),
                      "unused": [f for f in known if f not in sent],
                      "not_in_spec": sorted(f for f in sent if known and f not in known)}
    return out


def _values(views: list[dict]) -> dict[str, dict]:
    seen: dict[str, Counter[str]] = {name: Counter() for name in DIMENSIONS}
    for view in views:
        body = _body(view)
        if body is None or neutral_operation(view["operation"]) != "chat":
            continue
        for name, (_, read) in DIMENSIONS.items():
            seen[name].update(read(body))
    return {name: {"seen": dict(sorted(seen[name].items())),
                   "missing": [v for v in values if v not in seen[name]]}
            for name, (values, _) in DIMENSIONS.items()}


def _responses(views: list[dict]) -> dict[str, Any]:
    kinds = Counter(tag for v in views for tag in v.get("served") or ())
    errors = Counter(f"{v['error']} {v['status']}" for v in views if v.get("error"))
    faults = Counter(v["fault"] for v in views if v.get("fault"))
    variants = Counter(name for v in views for name in v.get("variants") or ())
    return {"seen": dict(sorted(kinds.items())),
            "missing": [k for k in RESPONSES if k not in kinds],
            "errors": dict(sorted(errors.items())), "faults": dict(sorted(faults.items())),
            "variants": dict(sorted(variants.items())),
            "hung_up": sum(1 for v in views if v.get("disconnected"))}


def _violations(views: list[dict]) -> list[dict]:
    return [{"call": v["id"], "operation": v["operation"], "status": v["status"],
             **v["violation"]} for v in views if v.get("violation")]


def coverage(views: list[dict], document: dict) -> dict:
    """The report for the calls in `views` against the effective spec `document`."""
    routes = [f"{method.upper()} {path}" for path, item in document.get("paths", {}).items()
              for method in item if method in ("get", "post", "put", "patch", "delete")]
    values, responses = _values(views), _responses(views)
    total = sum(len(v) for v, _ in DIMENSIONS.values()) + len(RESPONSES)
    missing = sum(len(v["missing"]) for v in values.values()) + len(responses["missing"])
    covered = total - missing
    return {
        "object": "mockshot.report",
        "calls": len(views),
        "operations": _operations(views, routes),
        "fields": _fields(views, document),
        "values": values,
        "responses": responses,
        "violations": _violations(views),
        "score": {"covered": covered, "total": total,
                  "percent": round(100 * covered / total, 1)},
    }
