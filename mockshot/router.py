"""A small router for the mock's few, fixed routes: exact paths by dict lookup, templated
ones (`/v1/files/{file_id}`) by regex, 404/405 in Moonshot's envelope.

It replaces Starlette's router and middleware stack on the hot path: those try every route
in turn and wrap every call in two middlewares, which cost more than the whole chat
handler once generation was made cheap. Responses are still Starlette's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from .errors import APIError, method_not_allowed, not_found_path
from .http import error_response
from .mock import Mock

__all__ = ["MockApp", "Route"]

access_log = logging.getLogger("mockshot.access")

Endpoint = Callable[[dict, Callable, Callable, dict[str, str]], Awaitable[None]]
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # an OpenAPI path template
    endpoint: Endpoint


@dataclass(slots=True)
class _Templated:
    pattern: re.Pattern
    methods: dict[str, Endpoint] = field(default_factory=dict)


class MockApp:
    """The ASGI app. `mock` is the instance behind it (its store, clock, scenarios)."""

    def __init__(self, routes: list[Route], mock: Mock,
                 error_renderers: dict[str, Callable[[APIError], Any]] | None = None) -> None:
        self.mock = mock
        self._renderers = error_renderers or {}  # path prefix → its surface's envelope
        self.state = SimpleNamespace(mock=mock)
        self._exact: dict[tuple[str, str], Endpoint] = {}
        self._methods: dict[str, list[str]] = {}
        self._templated: dict[str, _Templated] = {}
        for route in routes:
            self._methods.setdefault(route.path, []).append(route.method)
            if "{" in route.path:
                regex = "^" + _PARAM.sub(_group, route.path) + "$"
                entry = self._templated.setdefault(route.path, _Templated(re.compile(regex)))
                entry.methods[route.method] = route.endpoint
            else:
                self._exact[(route.method, route.path)] = route.endpoint

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        scope["mockshot.send"] = send  # the server's own send, for the `reset` fault
        method, path = scope["method"], scope["path"]
        found = self._exact.get((method, path))
        if found is not None:
            await found(scope, receive, send, {})
            return
        await self._slow_path(scope, receive, send, method, path)

    async def _slow_path(self, scope, receive, send, method: str, path: str) -> None:
        allowed = self._methods.get(path)
        for entry in self._templated.values():
            match = entry.pattern.match(path)
            if match is None:
                continue
            if method in entry.methods:
                await entry.methods[method](scope, receive, send, match.groupdict())
                return
            allowed = list(entry.methods)
        error = method_not_allowed(method, path, allowed) if allowed else not_found_path(
            method, path)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info("%s %s %d (no such route)", method, path, error.status)
        render = next((r for prefix, r in self._renderers.items() if path.startswith(prefix)),
                      error_response)
        await render(error)(scope, receive, send)


def _group(param: re.Match) -> str:
    """`{name}` matches one path segment; `{name:path}` the rest of the path (test ids
    are pytest node ids, which hold slashes)."""
    return f"(?P<{param.group(1)}>{'.+' if param.group(2) else '[^/]+'})"


async def _lifespan(receive: Callable, send: Callable) -> None:
    """Nothing to start or stop: acknowledge, so any ASGI server may run the app."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
