"""(f) in-app: µs per request with the ASGI app called directly (no SDK, no transport,
no socket) — what mockshot's own request road costs, the figure refactors must keep.

Each request is one `await app(scope, receive, send)` on one event loop; samples are
interleaved across the measured requests so drift hits each alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from common import CHAT_BODY, KEY, Row, section

REQUESTS = {
    "chat": ("POST", "/v1/chat/completions", CHAT_BODY),
    "models": ("GET", "/v1/models", b""),
    "chat-limits": ("POST", "/v1/chat/completions", CHAT_BODY),
}
# settings beyond a virtual clock, per request kind: every limit on, none reached
SETTINGS = {"chat-limits": {"tier": 9, "tiers": ({"tier": 9, "concurrency": 10**6,
                                                  "rpm": 10**9, "tpm": 10**12,
                                                  "tpd": 10**12},)}}


def app_for(kind: str) -> Any:
    from mockshot import Settings, create_app

    return create_app(Settings(clock="virtual", log_level="warning", **SETTINGS.get(kind, {})))


def _scope(method: str, path: str, body: bytes) -> dict:
    headers = [(b"authorization", f"Bearer {KEY}".encode()), (b"host", b"mockshot.local")]
    if body:
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": headers, "scheme": "http", "server": ("mockshot.local", 80),
            "client": ("127.0.0.1", 50000), "root_path": ""}


async def _once(app: Any, method: str, path: str, body: bytes) -> int:
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, body), receive, send)
    return status


async def _measure(calls: int, warmup: int) -> dict[str, list[float]]:
    apps = {name: app_for(name) for name in REQUESTS}
    for name, (method, path, body) in REQUESTS.items():
        for _ in range(warmup):
            if await _once(apps[name], method, path, body) != 200:
                raise SystemExit(f"in-app {name} {path} did not answer 200")
    samples: dict[str, list[float]] = {name: [] for name in REQUESTS}
    for _ in range(calls):
        for name, (method, path, body) in REQUESTS.items():
            start = time.perf_counter_ns()
            await _once(apps[name], method, path, body)
            samples[name].append((time.perf_counter_ns() - start) / 1000)
    return samples


def bench_inapp(args: argparse.Namespace) -> list[Row]:
    """(f): the request road's own cost, per request, called as ASGI."""
    section("(f) in-app: the ASGI app called directly")
    samples = asyncio.run(_measure(args.calls * 5, args.warmup))
    rows = []
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"- {name}: median {med:.1f} µs, min {min(values):.1f} µs "
              f"over {len(values)} requests")
        rows.append(Row(f"in-app {name}, median µs/request", f"{med:.1f}", "—", "—", "—", "—"))
    return rows
