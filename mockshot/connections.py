"""HTTP connections no client can hold open: a deadline for reading each request, and an
end to the connection after an answer given before the request was read.

uvicorn has no header-read timeout of its own: a socket that sends half a request line, or
headers and half a body, stays open for ever (its keep-alive timer runs only between
requests), and a few hundred such sockets starve a served mock. `guarded_protocol` is
uvicorn's httptools protocol with one timer per request, from the connection's start (or
the first byte of the next request) until the request is read to its end:

- when it fires, a request with bytes in gets 408 in Moonshot's envelope and the
  connection is closed (a connection that sent nothing is closed silently); the app, if it
  was waiting for the body, sees the client gone;
- an answer sent before its request was read (a 400 for a body over the limit, a 401
  before the body came) ends the connection: mockshot stops writing (FIN), drops whatever
  the client still sends until it hangs up or the deadline passes, then closes, so the
  client reads its answer rather than a reset and no one streams a body nobody reads.

Reads are timed only while a request is in flight; the app's own time (a paced stream)
is never cut short.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings

__all__ = ["guarded_protocol"]


def _no_delay(transport: asyncio.Transport) -> None:
    """Send each write at once. A reply goes out as two writes (head, body); with Nagle's
    algorithm on, the body waited for the client's delayed ACK of the head: 40 ms on
    every request after a connection's first."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def timeout_reply(seconds: float) -> bytes:
    """A whole 408 response in Moonshot's envelope, closing the connection."""
    body = orjson.dumps({"error": {"message": (
        f"Invalid request: the request was not received within {seconds:g} s "
        "(request_timeout); mockshot closes connections that send this slowly"),
        "type": "invalid_request_error"}})
    head = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8"
            b"\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
    return head + body


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a read deadline per request (see the module)."""

    read_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        self._reading = False  # a request has begun and is not read to its end
        self._current = None  # that request's cycle, once its headers are in
        self._draining = False  # answered early: drop what comes until the deadline
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return
        self._arm()
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._reading, self._current = True, None
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._current = cycle = self.cycle
        respond = cycle.send

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start" and self._reading:
                cycle.keep_alive = False  # the body is not read: say the connection ends
            await respond(message)

        send.__self__ = cycle  # as on the bound method: the `reset` fault finds the transport
        cycle.send = send  # looked up when the app is called, after this returns

    def on_message_complete(self) -> None:
        self._reading = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._reading and not self.transport.is_closing():
            self._answered_early()
            return
        super().on_response_complete()

    def _answered_early(self) -> None:
        """Stop writing, keep reading (and dropping) until the client hangs up or the
        request's deadline passes; a close now could reset the answer away."""
        self._draining = True
        self.server_state.total_requests += 1
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self._current if self._reading else None
        answered = self._draining or (cycle is not None and cycle.response_started)
        if self._reading and not answered:
            if cycle is not None:
                cycle.disconnected = True  # the app's own answer, if any, goes nowhere
                cycle.message_event.set()
            self.transport.write(timeout_reply(self.read_timeout))
        self.transport.close()


def guarded_protocol(read_timeout: float) -> type[GuardedProtocol]:
    """The protocol class for one server (uvicorn instantiates it per connection)."""
    return type("GuardedProtocol", (GuardedProtocol,), {"read_timeout": read_timeout})


def server_config(app: Any, settings: Settings, log_level: str | None = None) -> uvicorn.Config:
    """uvicorn's configuration for a served mock (one process or each worker)."""
    return uvicorn.Config(
        app,
        http=guarded_protocol(settings.request_timeout),  # slow clients cannot hold on
        log_level=(log_level or settings.log_level).lower(),
        access_log=False,  # mockshot writes its own access line (mockshot.access)
        lifespan="off",
        timeout_graceful_shutdown=2,
        server_header=False,
        date_header=True,
    )
