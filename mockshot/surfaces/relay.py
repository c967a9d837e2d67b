"""Sending a `Relay`: bytes another server sent, verbatim, on either surface.

A replayed recording is a list of frames with the wait before each, so it is paced on
the mock's clock like any stream (and a stream fault asked for by header breaks it in
the surface's own framing); a forwarded answer is frames as the upstream sends them. A
whole body goes out as it came, with its own content type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from ..errors import APIError
from ..incoming import Incoming
from ..mock import Mock
from .sse import HEADERS, EventStream
from .streams import faulty_frames, paced_stream
from .turns import Relay

__all__ = ["RawReply", "relay_response"]


class RawReply:
    """A whole body with the status and headers it was recorded with (its length is
    worked out here, as the server that sent it did)."""

    __slots__ = ("body", "headers", "status_code")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        raw = [*self.headers, (b"content-length", b"%d" % len(self.body))]
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


def _stream_headers(relay: Relay) -> list[tuple[bytes, bytes]]:
    """The recorded headers; the SSE defaults before them when none names a type."""
    if any(name == b"content-type" for name, _ in relay.headers):
        return relay.headers
    return [*HEADERS, *relay.headers]


def forwarded(mock: Mock, incoming: Incoming, source: AsyncIterator[bytes]) -> EventStream:
    """The upstream's frames as they arrive; the journal learns how far it got."""
    sent = 0

    async def frames() -> AsyncIterator[bytes]:
        nonlocal sent
        async for frame in source:
            sent += 1
            yield frame

    async def on_close(disconnected: bool) -> None:
        await source.aclose()  # type: ignore[attr-defined]
        await mock.store.update(incoming.journal_id, chunks_sent=sent, disconnected=disconnected)
        if incoming.held:
            await mock.store.release(incoming.account)

    return EventStream(frames(), on_close)


def _replayed(mock: Mock, incoming: Incoming, relay: Relay,
              error_frame: Callable[[APIError], bytes], done: bytes) -> EventStream:
    fault = incoming.active_fault
    frames = faulty_frames(fault, relay.frames, error_frame, done) if relay.frames else []
    waits = list(relay.waits)
    if fault is not None and fault.kind == "slow_first_token" and waits:
        waits[0] += fault.ms / 1000
    return paced_stream(mock, incoming, frames, waits)


def relay_response(mock: Mock, incoming: Incoming, relay: Relay,
                   error_frame: Callable[[APIError], bytes], done: bytes):
    """The response that sends `relay` (`error_frame` and `done` are the surface's, for
    a stream fault a header asked for on a replay)."""
    if relay.body is not None:
        return RawReply(relay.status, relay.headers, relay.body)
    if relay.source is not None:
        stream = forwarded(mock, incoming, relay.source)
    else:
        stream = _replayed(mock, incoming, relay, error_frame, done)
    stream.status_code, stream.headers = relay.status, _stream_headers(relay)
    return stream
