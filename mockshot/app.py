"""The ASGI app and the request road, start to finish.

    route → account → read body → handler (validate → decide → render) → settle (journal)

Routes come from the spec's paths; a path the spec does not have answers 404 and a method
it does not list answers 405, both in Moonshot's envelope. Errors raised anywhere on the
road are `APIError` values rendered in one place; anything else is a mockshot bug and
answers 500 `server_error` with no stack trace (the trace goes to the log).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import errors
from .chat import fire_fault, scripted_error
from .errors import APIError
from .faults import Fault, ResetConnection, parse_fault, truncate
from .http import error_response, json_response, read_json
from .mock import Incoming, Mock
from .resources import account, anthropic, chat
from .rules import Probe
from .scenarios import fault_of
from .settings import Settings, fits_seed
from .spec import Operation

__all__ = ["create_app"]

log = logging.getLogger("mockshot")
access_log = logging.getLogger("mockshot.access")

Handler = Callable[[Mock, Incoming], Awaitable[Response]]

CHAT_ROUTES = frozenset({"POST /v1/chat/completions"})

HANDLERS: dict[str, Handler] = {
    "GET /v1/models": account.list_models,
    "GET /v1/users/me/balance": account.balance,
    "POST /v1/tokenizers/estimate-token-count": account.estimate_token_count,
    "POST /v1/chat/completions": chat.create_chat_completion,
}


async def not_served(mock: Mock, incoming: Incoming) -> Response:
    """Operations of the spec that this version of mockshot does not serve yet."""
    raise APIError(
        501,
        "not_implemented_error",
        f"mockshot does not serve {incoming.operation} yet",
    )


def _overrides(mock: Mock, request: Request, incoming: Incoming) -> None:
    """Per-request steering headers: X-Mockshot-Seed, -Scenario and -Fault."""
    headers = request.headers
    seed = headers.get("x-mockshot-seed")
    incoming.seed = mock.settings.seed
    if seed is not None:
        try:
            incoming.seed = int(seed)
        except ValueError:
            raise errors.invalid_request(
                f"X-Mockshot-Seed must be an integer, got {seed!r}"
            ) from None
        if not fits_seed(incoming.seed):
            raise errors.invalid_request(
                f"X-Mockshot-Seed must fit in a signed 64-bit integer, got {seed}"
            )
    incoming.scenario = headers.get("x-mockshot-scenario")
    fault = headers.get("x-mockshot-fault")
    if fault is not None:
        try:
            incoming.fault = parse_fault(fault)
        except (ValueError, TypeError) as exc:
            raise errors.invalid_request(f"X-Mockshot-Fault {fault!r}: {exc}") from None


def neutral_operation(name: str) -> str:
    """`GET /v1/files/{file_id}` → `files`: the operation names scenario rules use."""
    return NEUTRAL.get(name) or name.split(" ", 1)[1].split("/")[2]


NEUTRAL = {
    "GET /v1/models": "models",
    "GET /v1/users/me/balance": "balance",
    "POST /v1/tokenizers/estimate-token-count": "estimate",
}


async def scripted_step(mock: Mock, incoming: Incoming) -> None:
    """Scenario rules and faults for operations other than chat (chat decides later, once
    its request is parsed): an error, a fault before the response, or nothing."""
    probe = Probe(neutral_operation(incoming.operation), incoming.operation,
                  api_key=incoming.account, headers=incoming.headers, request=incoming.body)
    if not (mock.scenarios.has_rules() or incoming.fault):
        return
    probe.nth = mock.store.count_call(probe.operation)
    decision = mock.scenarios.decide(probe, incoming.scenario)
    if decision is not None:
        incoming.journal.update(rule=decision.rule.name, rule_use=decision.use)
    base = incoming.operation.encode() + str(probe.nth).encode()
    await fire_fault(mock, incoming, fault_of(decision, incoming.fault), base)
    if decision is not None and decision.reply.error is not None:
        raise scripted_error(decision.reply.error, incoming, None)


@dataclass(frozen=True, slots=True)
class Surface:
    """How one wire format authenticates and renders errors (OpenAI-compatible by default;
    the Anthropic-compatible surface reads `x-api-key` too and has its own envelope)."""

    credentials: Callable[[Headers], str | None] = lambda headers: headers.get("authorization")
    render_error: Callable[[APIError], Response] = error_response
    name: str = "openai"


OPENAI = Surface()


def endpoint(mock: Mock, name: str, handler: Handler, takes_body: bool,
             surface: Surface = OPENAI, chat: bool = False) -> Callable:
    """The road for one operation."""

    async def run(request: Request) -> Response:
        started = time.perf_counter()
        incoming = Incoming(name, "", surface.name)
        try:
            incoming.account = mock.authenticate(surface.credentials(request.headers))
            incoming.headers = request.headers
            _overrides(mock, request, incoming)
            incoming.path_params = request.path_params
            if takes_body:
                incoming.body = await read_json(request, mock.settings.max_body_bytes)
            if not chat:
                await scripted_step(mock, incoming)
            response = await handler(mock, incoming)
            if incoming.active_fault and incoming.active_fault.kind == "truncated_body":
                response = truncated(response, incoming.active_fault)
        except APIError as error:
            response = surface.render_error(error)
        except ResetConnection:
            incoming.journal["reset"] = True
            response = Reset()
        except Exception as exc:  # a mockshot bug, never the client's fault
            log.exception("unhandled error in %s", name)
            response = surface.render_error(
                APIError(500, "server_error", f"mockshot internal error: {type(exc).__name__}")
            )
        record(mock, incoming, response.status_code, started)
        return response

    return run


def truncated(response: Response, fault: Fault) -> Response:
    """The same reply with its JSON body cut short (a consistent Content-Length, so the
    client's JSON parser, not its HTTP layer, is what fails)."""
    body = getattr(response, "body", None)
    if body is None:
        return response
    return Response(truncate(body, fault), response.status_code,
                    media_type=response.media_type)


class Reset:
    """An ASGI reply that drops the connection without sending a byte.

    Served by uvicorn, the connection's transport is aborted (the client sees a reset);
    in-process, the transport raises its connection error. The raw `send` comes from
    `scope["mockshot.send"]`, set by the outermost app before Starlette wraps it.
    """

    status_code = 0

    async def __call__(self, scope, receive, send) -> None:
        raw = scope.get("mockshot.send", send)
        if hasattr(raw, "mockshot_reset"):
            raw.mockshot_reset()
            return
        transport = getattr(getattr(raw, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()
            for _ in range(3):  # let the server see the connection go before we return
                await asyncio.sleep(0)


def record(mock: Mock, incoming: Incoming, status: int, started: float) -> None:
    """Settle the call: a journal entry, and an access-log line when INFO is on."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    entry = incoming.journal  # the same dict a stream's on_close completes later
    entry.update({
        "operation": incoming.operation,
        "account": incoming.account,
        "model": incoming.model,
        "status": status,
        "seed": incoming.seed,
        "at": mock.clock.now(),
        "elapsed_ms": round(elapsed_ms, 3),
        "request": incoming.body,
    })
    mock.store.journal_append(entry)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s %d %.2fms model=%s", incoming.operation, status, elapsed_ms,
                        incoming.model or "-")


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


def _not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    method, path = request.method, request.url.path
    if status == 405:
        allowed = [m for m in getattr(exc, "headers", {}).get("Allow", "").split(", ") if m]
        return error_response(errors.method_not_allowed(method, path, allowed))
    return error_response(errors.not_found_path(method, path))


def extra_routes() -> list[tuple[str, str, Handler, Surface]]:
    """Surfaces beside the spec's own paths (each validated by its own schema)."""
    anthropic.request_validator()  # compiled at start-up, so no request pays for it
    surface = Surface(anthropic.credentials, anthropic.error_response, "anthropic")
    return [("POST", anthropic.PATH, anthropic.create_message, surface)]


def create_app(settings: Settings | None = None, *, mock: Mock | None = None) -> Starlette:
    """Build a mock server app; `app.state.mock` is its `Mock`."""
    mock = mock or Mock(settings)
    routes = [Route("/_mockshot/health", health, methods=["GET"])]
    by_path: dict[str, list[Operation]] = {}
    for op in mock.spec.operations:
        by_path.setdefault(op.path, []).append(op)
    for path, ops in by_path.items():
        for op in ops:
            handler = HANDLERS.get(op.name, not_served)
            takes_body = mock.spec.operation_schema(op.method, op.path) is not None
            run = endpoint(mock, op.name, handler, takes_body, chat=op.name in CHAT_ROUTES)
            routes.append(Route(path, run, methods=[op.method.upper()]))
    for method, path, handler, surface in extra_routes():
        run = endpoint(mock, f"{method} {path}", handler, method == "POST", surface,
                       chat=path.endswith("/messages"))
        routes.append(Route(path, run, methods=[method]))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _not_found, 404: _not_found, 405: _not_found},
    )
    app.state.mock = mock
    return MockApp(app, mock)


class MockApp:
    """The outermost ASGI app: keeps the server's own `send` in the scope (for `Reset`)."""

    def __init__(self, app: Starlette, mock: Mock) -> None:
        self.app = app
        self.mock = mock
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        scope["mockshot.send"] = send
        await self.app(scope, receive, send)
