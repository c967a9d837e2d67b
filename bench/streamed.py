"""(d) streaming: `stream: true` chat at concurrency 32, instant pacing, beside a bare
Starlette StreamingResponse of the same shape.

mockshot runs as users serve it (`--clock real`, pacing on) and each request carries
`X-Mockshot-Pacing: instant`, so no wait is left and what is timed is the cost of
planning, framing and writing the SSE chunks. The bare app streams the same number of
events of the same mean size (measured from mockshot's own streams first), so the ratio
is what mockshot adds per stream, not a difference in bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics

import orjson
from chunked import DONE, read_stream
from common import (
    CHAT_BODY,
    MESSAGES,
    MODEL,
    SERVER_CORE,
    Row,
    bare_cmd,
    free_port,
    http_request,
    mockshot_cmd,
    ms,
    running,
    section,
    times,
    verdict,
)
from loadgen import LoadResult, StreamConnection, Target, python_load

STREAM_BODY = orjson.dumps({"model": MODEL, "messages": MESSAGES, "stream": True})
PATH = "/v1/chat/completions"
INSTANT = {"X-Mockshot-Pacing": "instant"}
SAMPLES = 20  # mockshot streams read to size the bare app's
BALANCE = {"MOCKSHOT_INITIAL_BALANCE": "1e12"}  # so a long run never drains into 429s


def stream_request(port: int, path: str = PATH, pacing: dict[str, str] | None = None) -> bytes:
    """The streaming chat request, with the pacing header (instant unless given)."""
    return http_request("POST", path, port, STREAM_BODY, INSTANT if pacing is None else pacing)


def stream_shape(port: int, request: bytes, count: int) -> tuple[float, float]:
    """Mean SSE chunks per stream and mean bytes per chunk (`data: ` to blank line, the
    [DONE] event left out) over `count` streams read one at a time."""
    sizes: list[list[int]] = []
    for _ in range(count):
        events = [event for _, event in read_stream(port, request).events if event != DONE]
        sizes.append([len(event) + 2 for event in events])
    return (statistics.mean(len(s) for s in sizes),
            sum(map(sum, sizes)) / sum(map(len, sizes)))


def bare_path(chunks: float, size: float) -> str:
    """The bare app's streaming route for this shape (see bench/bare_app.py)."""
    return f"{PATH}?chunks={round(chunks)}&chunk_bytes={round(size)}"


def servers(stack: contextlib.ExitStack, ports: dict[str, int]) -> None:
    """mockshot (`--clock real`) and the bare app, both on SERVER_CORE, both ready."""
    cmds = {"mockshot": mockshot_cmd(ports["mockshot"], "--log-level", "warning",
                                     "--clock", "real"),
            "bare": bare_cmd(ports["bare"])}
    for name, port in ports.items():
        ready = http_request("POST", PATH, port, CHAT_BODY)
        stack.enter_context(running(cmds[name], port, ready, core=SERVER_CORE, env=BALANCE))


def shaped_requests(ports: dict[str, int]) -> dict[str, bytes]:
    """Measure mockshot's streams, check the bare app reproduces their shape, and return
    both apps' requests."""
    mock_request = stream_request(ports["mockshot"])
    chunks, size = stream_shape(ports["mockshot"], mock_request, SAMPLES)
    bare_request = stream_request(ports["bare"], bare_path(chunks, size))
    bare_chunks, bare_size = stream_shape(ports["bare"], bare_request, 1)
    print(f"- mockshot shape over {SAMPLES} streams: {chunks:.1f} chunks of {size:.1f} bytes "
          f"mean; bare app ({bare_path(chunks, size)}): {bare_chunks:.0f} chunks of "
          f"{bare_size:.1f} bytes")
    return {"mockshot": mock_request, "bare": bare_request}


def measure_streaming(args: argparse.Namespace) -> dict[str, LoadResult]:
    """Serve both, size the bare stream, then load both in alternating turns; any failed
    or truncated stream aborts the run."""
    ports = {"mockshot": free_port(), "bare": free_port()}
    with contextlib.ExitStack() as stack:
        servers(stack, ports)
        requests = shaped_requests(ports)
        targets = {name: Target(request, StreamConnection) for name, request in requests.items()}
        results = python_load(targets, ports, args)
    for name, result in results.items():
        if result.failed or not result.ok:
            raise SystemExit(f"{name}: {result.failed} failed streams, {result.ok} ok")
    return results


def bench_streaming(args: argparse.Namespace) -> list[Row]:
    """(d): what a streamed reply costs mockshot when no pacing wait hides it."""
    section(f"(d) streaming: `stream: true` chat, instant pacing, {args.concurrency} "
            "keep-alive connections")
    print("- mockshot: `serve --clock real`, every request `X-Mockshot-Pacing: instant`; bare: "
          "Starlette StreamingResponse of the same chunk count and mean size")
    print("- load: the raw-socket generator (chunked decoding, every stream read to "
          "`data: [DONE]`), same turns as (b)")
    res = measure_streaming(args)
    for name, one in res.items():
        print(f"- {name}: {one.rps:,.0f} streams/s, {one.events_per_s:,.0f} chunks/s "
              f"({one.ok} ok, 0 failed), whole-stream p50 {ms(one.p50)} ms, "
              f"p99 {ms(one.p99)} ms")
    mock, bare = res["mockshot"], res["bare"]
    share, chunk_share = mock.rps / bare.rps, mock.events_per_s / bare.events_per_s
    label = f"(c={args.concurrency}, instant)"
    return [
        Row(f"streamed chat completions/s {label}", f"{mock.rps:,.0f}", f"{bare.rps:,.0f}",
            f"{share:.0%}", "≥ 50%", verdict(share >= 0.5)),
        Row(f"streamed SSE chunks/s {label}", f"{mock.events_per_s:,.0f}",
            f"{bare.events_per_s:,.0f}", f"{chunk_share:.0%}", "≥ 50%",
            verdict(chunk_share >= 0.5)),
        Row("streamed whole-stream latency p50 ms", ms(mock.p50), ms(bare.p50),
            times(mock.p50 / bare.p50), "—", verdict(None)),
    ]
