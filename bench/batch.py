"""(h) batch: a 10,000-line batch answered in-app, lines per second, as a ratio to in-app
chat calls per second measured in the same run on the same app (goal >= 0.5).

Every request is one `await app(scope, receive, send)` (no SDK, no socket), as in (f). The
batch's lines are the same chat body the chat calls send, each with its own custom_id; the
clock (virtual) is moved past the batch's in_progress and finalizing phases, so the one
`GET /v1/batches/{id}` that follows answers all 10,000 lines and writes the output file.
The chat figure is measured before and after the batch, and the mean of the two is used.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import orjson
from common import CHAT_BODY, KEY, Row, section, times, verdict

LINES = 10_000
BOUNDARY = "mockshot-bench-batch"
GOAL = 0.5


async def call(app: Any, method: str, path: str, body: bytes = b"",
               content_type: str = "application/json") -> tuple[int, bytes]:
    """One request through the ASGI app; its status and body."""
    headers = [(b"authorization", f"Bearer {KEY}".encode())]
    if body:
        headers += [(b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": headers}
    status, reply = 0, bytearray()

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        status = message.get("status", status)
        reply.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(reply)


async def chat_rate(app: Any, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        status, _ = await call(app, "POST", "/v1/chat/completions", CHAT_BODY)
        if status != 200:
            raise SystemExit(f"in-app chat answered {status}")
    return calls / (time.perf_counter() - start)


def input_file() -> bytes:
    body = orjson.loads(CHAT_BODY)
    lines = b"".join(orjson.dumps({"custom_id": f"line-{i}", "method": "POST",
                                   "url": "/v1/chat/completions", "body": body}) + b"\n"
                     for i in range(LINES))
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="lines.jsonl"\r\n\r\n').encode() + lines + f"\r\n--{BOUNDARY}--\r\n".encode()


async def batch_rate(app: Any) -> tuple[float, dict]:
    status, kept = await call(app, "POST", "/v1/files", input_file(),
                              f"multipart/form-data; boundary={BOUNDARY}")
    if status != 200:
        raise SystemExit(f"upload answered {status}: {kept[:200]!r}")
    request = {"input_file_id": orjson.loads(kept)["id"], "endpoint": "/v1/chat/completions",
               "completion_window": "24h"}
    _, created = await call(app, "POST", "/v1/batches", orjson.dumps(request))
    batch_id = orjson.loads(created)["id"]
    app.mock.clock.advance(3600)
    start = time.perf_counter()
    status, shown = await call(app, "GET", f"/v1/batches/{batch_id}")
    seconds = time.perf_counter() - start
    done = orjson.loads(shown)
    if done["status"] != "completed" or done["request_counts"]["completed"] != LINES:
        raise SystemExit(f"the batch did not complete: {shown[:300]!r}")
    return LINES / seconds, done


async def measure(calls: int, warmup: int) -> tuple[list[float], float]:
    from mockshot import Settings, create_app

    app = create_app(Settings(clock="virtual", log_level="warning"))
    await chat_rate(app, max(warmup, 3000))  # the caches a long run warms
    before = await chat_rate(app, calls)
    lines, _ = await batch_rate(app)
    after = await chat_rate(app, calls)
    return [before, after], lines


def bench_batch(args: argparse.Namespace) -> list[Row]:
    """(h): batch lines per second against live chat calls per second, in-app."""
    section(f"(h) batch: {LINES:,} lines answered in-app vs in-app chat calls")
    chats, lines = asyncio.run(measure(args.calls, args.warmup))
    chat = statistics.mean(chats)
    ratio = lines / chat
    print(f"- chat: {chats[0]:.0f} and {chats[1]:.0f} calls/s (before, after the batch)\n"
          f"- batch: {lines:.0f} lines/s ({LINES / lines:.2f} s for the one read that "
          f"answered every line and wrote the output file)\n- ratio: {ratio:.2f}")
    return [Row(f"batch of {LINES:,} lines in-app: lines/s (vs in-app chat calls/s)",
                f"{lines:.0f} lines/s", f"{chat:.0f} chat/s", times(ratio), f">= {GOAL}",
                verdict(ratio >= GOAL))]
