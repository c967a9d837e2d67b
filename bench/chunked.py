"""Reading a streamed reply off a raw socket: HTTP/1.1 chunked decoding and SSE events.

Both load generators here speak raw HTTP/1.1 (no client library in the measured path), so
a `stream: true` reply has to be taken apart by hand: uvicorn sends it with
`Transfer-Encoding: chunked`, one HTTP chunk per ASGI body message, and the SSE events
(`data: …\\n\\n`) sit inside the decoded body, not necessarily one per chunk.

`read_stream` is the blocking one-stream client of the sampling and pacing sections: it
stamps each event with the perf_counter of the recv() that completed it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

__all__ = ["DONE", "Chunked", "Stream", "is_chunked", "read_stream", "split_events"]

DONE = b"data: [DONE]"


def is_chunked(head: bytes) -> bool:
    """Whether a response head announces a chunked body (every SSE reply does)."""
    return b"\r\ntransfer-encoding: chunked" in head.lower()


class Chunked:
    """Incremental chunked-body decoder: `feed` bytes as they arrive, read the payloads
    from `parts`; `done` once the zero-size chunk and its blank line are in. Garbage
    raises ValueError, so a load generator can count it as a failure."""

    __slots__ = ("buf", "done", "parts")

    def __init__(self) -> None:
        self.buf = b""
        self.parts: list[bytes] = []
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Decode every chunk `data` completes; return bytes past the end of the body (a
        reply nobody asked for) once done, else b""."""
        buf = self.buf + data if self.buf else data
        at = 0
        while (eol := buf.find(b"\r\n", at)) >= 0:
            size = int(buf[at:eol].split(b";", 1)[0], 16)
            end = eol + 2 + size
            if len(buf) < end + 2:
                break
            if buf[end:end + 2] != b"\r\n":
                raise ValueError(f"chunk not followed by CRLF: {buf[end:end + 20]!r}")
            if size == 0:  # last chunk; uvicorn sends no trailers
                self.done, self.buf = True, b""
                return buf[end + 2:]
            self.parts.append(buf[eol + 2:end])
            at = end + 2
        self.buf = buf[at:]
        return b""

    def body(self) -> bytes:
        """The decoded body so far."""
        return b"".join(self.parts)


def split_events(text: bytes) -> tuple[list[bytes], bytes]:
    """Complete SSE events (without their blank-line terminator) and the unfinished rest."""
    *events, rest = text.split(b"\n\n")
    return events, rest


@dataclass
class Stream:
    """One streamed reply as the client saw it: `events` are (arrival, event) pairs, the
    event without its blank line; times are perf_counter seconds."""

    status: int
    sent: float
    events: list[tuple[float, bytes]] = field(default_factory=list)

    def payloads(self) -> list[bytes]:
        """The events' bytes, [DONE] included."""
        return [event for _, event in self.events]


def _recv(sock: socket.socket) -> tuple[bytes, float]:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("server closed the connection mid-reply")
    return data, time.perf_counter()


def read_stream(port: int, request: bytes, timeout: float = 30.0) -> Stream:
    """Send `request` on a fresh connection and read its SSE reply to the last chunk;
    ValueError if the reply is not a stream ending in `data: [DONE]`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sent = time.perf_counter()
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            more, at = _recv(sock)
            data += more
        head, _, data = data.partition(b"\r\n\r\n")
        if not is_chunked(head):
            raise ValueError(f"not a stream: {head[:15]!r} {data[:300]!r}")
        stream, body, rest, seen = Stream(int(head[9:12]), sent), Chunked(), b"", 0
        while True:
            body.feed(data)
            new, rest = split_events(rest + b"".join(body.parts[seen:]))
            seen = len(body.parts)
            stream.events += [(at, event) for event in new]
            if body.done:
                break
            data, at = _recv(sock)
    if not stream.events or stream.events[-1][1] != DONE or rest:
        raise ValueError(f"stream did not end with [DONE]: {stream.events[-1:]!r} {rest!r}")
    return stream
