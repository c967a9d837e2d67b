"""The raw-socket load generator: asyncio protocols on uvloop, HTTP/1.1 by hand, pinned to
CLIENT_CORE, keeping `--concurrency` keep-alive connections busy in turns.

`Connection` reads sized replies (non-streaming chat); `StreamConnection` reads chunked SSE
replies to the end and counts their events, so one generator serves (b) and (d).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

from chunked import DONE, Chunked, is_chunked
from common import CLIENT_CORE, content_length, pinned_to, watchful_sleep

# Other work shares this machine (test suites start and stop at any moment), and a run
# of one server then the other lets that noise land on one side only: sequential 5 s runs
# of the bare app moved between 16k and 34k req/s here. So both servers stay up (both on
# SERVER_CORE, the idle one costs nothing) and the load alternates between them in SLICE
# second turns, the way (a) interleaves blocks of calls.

SLICE = 1.0  # seconds of load one server gets before the other's turn


@dataclass
class LoadResult:
    """What a load run measured for one server; latencies in seconds."""

    rps: float
    ok: int
    failed: int
    p50: float | None = None
    p99: float | None = None
    events_per_s: float | None = None  # SSE chunks per second, for streams


@dataclass
class Target:
    """One server under load: its connections and what they counted. Only 200s that
    complete while `measuring` count; any non-200 or dropped connection is a failure."""

    request: bytes
    protocol: type[Connection] | None = None  # Connection unless given
    conns: list[Connection] = field(default_factory=list)
    active: bool = False
    measuring: bool = False
    closing: bool = False
    ok: int = 0
    failed: int = 0
    events: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def done(self, status: int, latency: float, events: int = 0) -> None:
        """One reply in: a failure whenever it is not 200, counted only inside a turn."""
        if status != 200:
            self.failed += 1
        elif self.measuring:
            self.ok += 1
            self.events += events
            self.latencies.append(latency)

    async def connect(self, port: int, count: int) -> None:
        """Open the keep-alive connections once; every turn reuses them."""
        loop, protocol = asyncio.get_running_loop(), self.protocol or Connection
        for _ in range(count):
            _, conn = await loop.create_connection(lambda: protocol(self), "127.0.0.1", port)
            self.conns.append(conn)

    async def turn(self, seconds: float, measure: bool) -> None:
        """Keep every connection busy for `seconds`, then let in-flight replies land."""
        self.active, self.measuring, start = True, measure, time.perf_counter()
        for conn in self.conns:
            conn.send()
        await watchful_sleep(seconds)
        self.active = self.measuring = False
        if measure:
            self.elapsed += time.perf_counter() - start
        await self.drain()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait out in-flight replies, so the next server's turn starts on a quiet core."""
        deadline = time.perf_counter() + timeout
        while any(conn.busy for conn in self.conns):
            if time.perf_counter() > deadline:
                raise SystemExit("a server stopped answering mid-run")
            await asyncio.sleep(0.0005)

    def close(self) -> LoadResult:
        """Hang up and summarise: req/s over measured time only, nearest-rank p50/p99."""
        self.closing = True
        for conn in self.conns:
            conn.transport.close()
        lat = sorted(self.latencies)
        p50, p99 = (lat[int(q * (len(lat) - 1))] for q in (0.50, 0.99)) if lat else (None,) * 2
        return LoadResult(self.ok / self.elapsed, self.ok, self.failed, p50, p99,
                          self.events / self.elapsed if self.events else None)


class Connection(asyncio.Protocol):
    """One keep-alive connection: send, read the reply by Content-Length, send again
    while the target's turn lasts."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.buf = b""
        self.need: int | None = None
        self.status = 0
        self.sent_at = 0.0
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def send(self) -> None:
        self.busy, self.sent_at = True, time.perf_counter()
        self.transport.write(self.target.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parse(data)
        except ValueError:  # unparseable reply: count it and drop the connection
            self.target.failed += 1
            self.busy = False
            self.transport.close()

    def parse(self, data: bytes) -> None:
        """Accumulate until a whole reply is in, then record it and maybe send again."""
        buf = self.buf + data if self.buf else data
        if self.need is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            self.status = int(buf[9:12])
            self.need = end + 4 + content_length(buf[:end])
        if len(buf) < self.need:
            self.buf = buf
            return
        if len(buf) > self.need:  # one request in flight: extra bytes mean a broken reply
            self.target.failed += 1
        self.buf, self.need, self.busy = b"", None, False
        self.target.done(self.status, time.perf_counter() - self.sent_at)
        if self.target.active:
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.busy = False
        if not self.target.closing:
            self.target.failed += 1


class StreamConnection(Connection):
    """A keep-alive connection for `stream: true`: decode the chunked body, and count a
    reply only if it ends with `data: [DONE]`; its SSE events (less [DONE]) are counted
    as chunks."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.body: Chunked | None = None

    def parse(self, data: bytes) -> None:
        """Head first (must be chunked), then chunks until the last one."""
        if self.body is None:
            buf = self.buf + data if self.buf else data
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            self.status = int(buf[9:12])
            if not is_chunked(buf[:end]):
                raise ValueError(f"not a chunked reply: {buf[:300]!r}")
            self.buf, self.body, data = b"", Chunked(), buf[end + 4:]
        extra = self.body.feed(data)
        if self.body.done:
            self.finish(self.body.body(), extra)

    def finish(self, body: bytes, extra: bytes) -> None:
        """Record one whole stream, then maybe send again."""
        if extra or not body.endswith(DONE + b"\n\n"):
            self.target.failed += 1
        self.body, self.busy = None, False
        self.target.done(self.status, time.perf_counter() - self.sent_at,
                         body.count(b"\n\n") - 1)
        if self.target.active:
            self.send()


def turns(args: argparse.Namespace) -> int:
    """How many measured turns each server gets: `--duration` split into SLICE pieces."""
    return max(1, round(args.duration / SLICE))


async def drive(targets: dict[str, Target], ports: dict[str, int],
                args: argparse.Namespace) -> dict[str, LoadResult]:
    """Connect to every server, warm each up, then alternate measured turns."""
    for name, target in targets.items():
        await target.connect(ports[name], args.concurrency)
        await target.turn(args.warmup_seconds, measure=False)
    for _ in range(turns(args)):
        for target in targets.values():
            await target.turn(args.duration / turns(args), measure=True)
    return {name: target.close() for name, target in targets.items()}


def python_load(targets: dict[str, Target], ports: dict[str, int],
                args: argparse.Namespace) -> dict[str, LoadResult]:
    """Run `drive` on a uvloop loop with this thread pinned to CLIENT_CORE, and say how
    busy that kept the client's core: near 100% would mean the client, not the server,
    set the pace."""
    import uvloop

    wall, cpu = time.perf_counter(), time.thread_time()
    with pinned_to(CLIENT_CORE), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        results = runner.run(drive(targets, ports, args))
    busy = (time.thread_time() - cpu) / (time.perf_counter() - wall)
    print(f"- load generator: {busy:.0%} of core {CLIENT_CORE} busy over the run")
    return results
