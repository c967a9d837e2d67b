"""The request road for one operation, start to finish.

    account → steering headers → read body → scenario step → handler → settle (journal)

Errors raised anywhere on the road are `APIError` values rendered in one place, by the
surface the call came in on; anything else is a mockshot bug and answers 500
`server_error` with no stack trace (the trace goes to the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response

from .errors import APIError, Violation
from .http import ClientGone, JSONReply, error_response, parse_json, read_body
from .incoming import Incoming
from .mock import Mock
from .operations import neutral_operation
from .resources.files.references import referenced_files
from .scenarios.book import fault_of
from .scenarios.faults import Fault, ResetConnection, truncate
from .scenarios.firing import fire_fault, scripted_error
from .scenarios.rules import Probe
from .state.failures import StoreError
from .state.journal import JournalEntry, body_copy, reply_copy, stream_copy
from .state.store import Begin
from .steering import steer

__all__ = ["OPENAI", "Handler", "Surface", "endpoint", "neutral_operation", "partition_of"]

log = logging.getLogger("mockshot")
access_log = logging.getLogger("mockshot.access")

Handler = Callable[[Mock, Incoming], Awaitable[Response]]
Headers = dict[str, str]


def request_headers(scope: dict) -> Headers:
    """The request's headers as a plain dict, names lower-case (last value wins)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def scripted_step(mock: Mock, incoming: Incoming) -> None:
    """Scenario rules and faults for operations other than chat (chat decides later, once
    its request is parsed): an error, a fault before the response, or nothing. The call is
    counted (`nth`) whether or not rules exist yet."""
    operation = neutral_operation(incoming.operation)
    probe = Probe(operation, incoming.operation, api_key=incoming.key,
                  headers=incoming.headers, request=incoming.body)
    begun, decision = await mock.scenarios.begin(Begin(operation, incoming.account, 0), probe,
                                                 incoming.scenario)
    incoming.nth = begun.nth
    if decision is not None:
        incoming.entry.rule, incoming.entry.rule_use = decision.rule.name, decision.use
    fault = fault_of(decision, incoming.fault)
    if fault is not None:
        parts = [incoming.operation.encode()]
        if not incoming.pinned:
            parts.append(str(begun.nth).encode())
        await fire_fault(mock.clock, incoming, fault, incoming.seed, *parts)
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


def partition_of(root: Mock, headers: Headers) -> Mock:
    """The mock a call belongs to: the partition its `X-Mockshot-Test` names, else `root`."""
    test_id = headers.get("x-mockshot-test")
    if test_id is None:
        return root
    try:
        return root.partition(test_id)
    except ValueError as exc:
        raise APIError(400, "invalid_request_error", f"X-Mockshot-Test: {exc}") from None


def endpoint(root: Mock, name: str, handler: Handler, takes_body: bool,
             surface: Surface = OPENAI, chat: bool = False, streamed: bool = False) -> Callable:
    """The road for one operation (of the root mock, or of the call's test partition;
    `streamed`: the handler reads the body itself)."""

    async def run(scope: dict, receive: Callable, send: Callable,
                  path_params: dict[str, str]) -> None:
        started = time.perf_counter()
        mock = root
        incoming = Incoming(name, "", surface.name,
                            entry=JournalEntry(name, "", 0, 0.0, 0.0, mock.settings.seed,
                                               surface.name))
        try:
            headers = incoming.headers = request_headers(scope)
            mock = partition_of(root, headers)
            incoming.key = mock.authenticate(surface.credentials(headers))
            incoming.account = mock.accounts.of(incoming.key)
            await steer(mock, headers, incoming)
            incoming.entry.seed = incoming.seed
            incoming.path_params = path_params
            incoming.query = scope.get("query_string", b"").decode("latin-1")
            if takes_body:
                incoming.raw = await read_body(headers, receive, mock.settings.max_body_bytes)
                incoming.body = parse_json(headers, incoming.raw)
                await referenced_files(mock.store, incoming)
            elif streamed:  # the handler reads the body as it arrives (an upload)
                incoming.receive = receive
            if not chat:
                await scripted_step(mock, incoming)
            response = await handler(mock, incoming)
            if incoming.active_fault and incoming.active_fault.kind == "truncated_body":
                response = truncated(response, incoming.active_fault)
        except APIError as error:
            note_error(incoming.entry, error)
            response = surface.render_error(error)
        except ResetConnection:
            incoming.entry.reset = True
            response = Reset()
        except StoreError as exc:  # a full disk: a clean 500, and the next call tries again
            response = surface.render_error(store_unavailable(exc))
        except ClientGone:  # nobody is left to answer
            with contextlib.suppress(StoreError):
                await record(mock, incoming, 499, started)
            return
        except Exception as exc:  # a mockshot bug, never the client's fault
            log.exception("unhandled error in %s", name)
            response = surface.render_error(
                APIError(500, "server_error", f"mockshot internal error: {type(exc).__name__}")
            )
        try:
            await record(mock, incoming, response.status_code, started, response)
        except StoreError as exc:  # the call could not be settled: it is not acknowledged
            response = surface.render_error(store_unavailable(exc))
        await response(scope, receive, send)

    return run


def store_unavailable(exc: StoreError) -> APIError:
    log.warning("state not kept: %s", exc)
    return APIError(500, "server_error", f"mockshot could not keep its state ({exc}); the "
                                         "call was not completed, try it again")


def note_error(entry: JournalEntry, error: APIError) -> None:
    """What the journal keeps of an error answer: its type, its Retry-After, and — for a
    refused request — the contract rule it broke (report mode: the client still gets the
    real service's answer; the violation is only recorded)."""
    entry.error = error.type
    retry = error.headers.get("Retry-After")
    if retry is not None:
        with contextlib.suppress(ValueError):
            entry.retry_after = float(retry)
    if error.violation is not None:
        entry.violation = error.violation.as_dict(error.message)
    elif error.status == 400 and error.type == "invalid_request_error":
        entry.violation = Violation("", "request", None).as_dict(error.message)


def truncated(response: Response, fault: Fault) -> Response:
    """The same reply with its JSON body cut short (a consistent Content-Length, so the
    client's JSON parser, not its HTTP layer, is what fails)."""
    body = getattr(response, "body", None)
    if body is None:
        return response
    return JSONReply(truncate(body, fault), response.status_code)


class Reset:
    """An ASGI reply that drops the connection without sending a byte.

    Served by uvicorn, the connection's transport is aborted (the client sees a reset);
    in-process, the transport raises its connection error. The raw `send` comes from
    `scope["mockshot.send"]`, set by the router before anything wraps it.
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


async def record(mock: Mock, incoming: Incoming, status: int, started: float,
                 response: object = None) -> None:
    """Settle the call in one store step (its charge and its journal entry, which nothing
    changes afterwards but `Store.update`), tell a watching console, and write an
    access-log line when INFO is on."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    entry = incoming.entry
    entry.account, entry.status, entry.at = incoming.account, status, mock.clock.now()
    entry.elapsed_ms = round(elapsed_ms, 3)
    if incoming.raw is not None:
        entry.request, entry.request_bytes = body_copy(incoming.raw)
        entry.request_is_json = incoming.body is not None
    streams = getattr(response, "streaming", False)
    if streams:
        entry.chunks_sent = 0
        plan = getattr(response, "plan", None)
        if plan is not None:
            entry.frames, entry.frame_ms, entry.reply_bytes = stream_copy(*plan)
    elif response is not None:
        entry.reply, entry.reply_bytes = reply_copy(getattr(response, "body", None))
    if incoming.charge is not None:
        entry.cost = incoming.charge.amount
    release = incoming.account if incoming.held and not streams else None
    incoming.journal_id = await mock.store.settle(entry, incoming.charge, release)
    if mock.changes.watched:
        mock.changes.journal(mock.test_id, incoming.journal_id)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s %d %.2fms model=%s", incoming.operation, status, elapsed_ms,
                        entry.model or "-")
