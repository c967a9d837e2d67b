"""The forwarding recorder: a reply provider that sends the call to the upstream, relays
its answer to the client as it arrives, and writes the exchange to a cassette.

It sits after the scripted rules and recorded replies (a call they answer is not
forwarded) and before the generator, so it answers every call they leave. The body goes
as the client sent it, with the client's own headers but the hop-by-hop ones (and
`X-Mockshot-Test`, this mock's own); the answer
comes back with its status, content type and the headers that matter (`Retry-After`,
request and trace ids, rate-limit counters) — in record and replay alike, so a replay
is indistinguishable from the session it recorded. A stream is cut into SSE events as
they arrive, each sent on at once and kept with the wait before it; a stream the client
abandons is not written (it would record an answer nobody saw end).

httpx is imported here only, when the first call is forwarded.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from ..errors import APIError, clip
from ..surfaces.turns import Context, Relay
from .cassettes import Cassette
from .exchange import Captured, match_for, reply_for

__all__ = ["Recorder", "kept_headers", "split_events"]

log = logging.getLogger("mockshot.record")

# Not forwarded: the hop-by-hop headers, and X-Mockshot-Test, which picks this mock's own
# test partition (the other steering headers go on, so a mockshot upstream can be steered)
LOCAL = frozenset({"host", "content-length", "connection", "keep-alive", "te", "trailer",
                   "transfer-encoding", "upgrade", "proxy-connection", "accept-encoding",
                   "x-mockshot-test"})
KEPT = ("content-type", "retry-after")
KEPT_ENDINGS = ("request-id", "trace-id")
KEPT_STARTS = ("x-ratelimit-", "ratelimit-")
TERMINATORS = (b"\n\n", b"\r\n\r\n")


def kept_headers(headers: Any) -> dict[str, str]:
    """The reply headers a recording keeps (and the client sees), names lower-case."""
    return {name.lower(): value for name, value in headers.items()
            if name.lower() in KEPT or name.lower().endswith(KEPT_ENDINGS)
            or name.lower().startswith(KEPT_STARTS)}


def split_events(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The whole SSE events at the start of `buffer` (each with its blank line), and
    the bytes after them, still incomplete."""
    events = []
    while True:
        ends = [at + len(t) for t in TERMINATORS if (at := buffer.find(t)) >= 0]
        if not ends:
            return events, buffer
        end = min(ends)
        events.append(buffer[:end])
        buffer = buffer[end:]


def upstream_root(url: str) -> str:
    """The upstream's root URL: a trailing `/` or `/v1` (an SDK's base URL) is dropped."""
    root = url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


class Recorder:
    """Forwards chat calls to `upstream` and records each exchange in `cassette`."""

    def __init__(self, upstream: str, cassette: Cassette, transport: Any = None) -> None:
        self.root = upstream_root(upstream)
        self.cassette = cassette
        self._transport = transport  # an httpx transport (tests, in-process upstreams)
        self._clients: Any = weakref.WeakKeyDictionary()  # a client per event loop using it

    def _client(self) -> Any:
        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(
                transport=self._transport, timeout=httpx.Timeout(900.0, connect=30.0))
        return client

    async def _send(self, incoming: Any) -> Any:
        """The upstream's response to the call, its body not read yet."""
        import httpx

        path = incoming.operation.partition(" ")[2]
        url = self.root + path + (f"?{incoming.query}" if incoming.query else "")
        headers = {k: v for k, v in (incoming.headers or {}).items() if k not in LOCAL}
        client = self._client()
        try:
            request = client.build_request("POST", url, headers=headers, content=incoming.raw)
            return await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    async def answer(self, context: Context) -> Relay | None:
        import httpx

        if context.incoming.batch:  # a batch line is answered in its batch's result file
            return None
        started = time.perf_counter()  # a duration of the outside world's, like elapsed_ms
        response = await self._send(context.incoming)
        kept = kept_headers(response.headers)
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.items()]
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            source = self._relay(context, response, kept, started)
            return Relay(response.status_code, raw, source=source)
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        finally:
            await response.aclose()
        elapsed = (time.perf_counter() - started) * 1000
        self._write(context, Captured(response.status_code, kept, body, elapsed))
        return Relay(response.status_code, raw, body=body)

    async def _relay(self, context: Context, response: Any, kept: dict[str, str],
                     started: float) -> AsyncIterator[bytes]:
        """Each event as it arrives; the exchange is written once the stream has ended
        (a broken upstream ends it too: what arrived is what the client saw)."""
        import httpx

        frames: list[tuple[bytes, float]] = []
        last, buffer, ended = started, b"", False
        try:
            try:
                async for chunk in response.aiter_bytes():
                    events, buffer = split_events(buffer + chunk)
                    for event in events:
                        now = time.perf_counter()
                        frames.append((event, (now - last) * 1000))
                        last = now
                        yield event
            except httpx.HTTPError as exc:
                log.warning("the upstream's stream broke off (%s); recording what came", exc)
            if buffer:  # the stream ended inside an event: kept as it came
                frames.append((buffer, (time.perf_counter() - last) * 1000))
                yield buffer
            ended = True
        finally:
            await response.aclose()
            if ended:
                self._write(context, Captured(response.status_code, kept, frames=frames))
            else:
                log.warning("not recorded: the client hung up before the stream ended")

    def _write(self, context: Context, captured: Captured) -> None:
        options = self.cassette.options
        match = match_for(context.call, context.incoming.surface, options)
        self.cassette.add(match, reply_for(context.call, context.incoming, captured, options))
        self.cassette.save()
        log.info("recorded %s %d to %s", context.incoming.operation, captured.status,
                 self.cassette.path)

    def _unreachable(self, exc: Exception) -> APIError:
        return APIError(502, "server_error", clip(
            f"mockshot record: the upstream {self.root} did not answer: "
            f"{type(exc).__name__}: {exc}"))

    async def aclose(self) -> None:
        """Close this event loop's client (those of other loops go with their loops)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
