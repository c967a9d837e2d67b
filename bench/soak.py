"""(j) soak: mixed traffic against a served mock for a while at concurrency 64 — chats and
streams (some abandoned mid-way), tool calls, uploads and their content, batches, balance,
models, estimates and refused requests — watching for 5xx, dropped connections, memory
that grows after warm-up, and tasks or file descriptors left behind by abandoned streams.

    .venv/bin/python bench/bench.py --only soak [--duration 60]

tests/test_soak.py runs the same traffic briefly in CI (`soak(url, seconds, workers)`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from common import Row, section

__all__ = ["Outcome", "bench_soak", "growth", "serve", "soak"]

HELLO = [{"role": "user", "content": "Tell me about the weather today."}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
LINE = (b'{"custom_id": "r%d", "method": "POST", "url": "/v1/chat/completions", "body": '
        b'{"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}}\n')


@dataclass
class Outcome:
    """What the traffic met: statuses by kind, transport errors, and the server's stats."""

    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)  # /_mockshot/stats over the run

    @property
    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)


async def _chat(http: Any, key: str, rng: random.Random) -> int:
    body = {"model": rng.choice(["kimi-k2.6", "moonshot-v1-8k"]), "messages": HELLO}
    if rng.random() < 0.3:
        body.update(tools=TOOLS)
    reply = await http.post("/v1/chat/completions", json=body, headers=_auth(key))
    return reply.status_code


async def _stream(http: Any, key: str, rng: random.Random) -> int:
    """A stream read whole, or abandoned after a few chunks (the client hangs up)."""
    abandon = rng.random() < 0.5
    body = {"model": "kimi-k2.6", "messages": HELLO, "stream": True}
    async with http.stream("POST", "/v1/chat/completions", json=body,
                           headers=_auth(key)) as reply:
        seen = 0
        async for _ in reply.aiter_lines():
            seen += 1
            if abandon and seen > 4:
                break
        return reply.status_code


async def _files(http: Any, key: str, rng: random.Random) -> int:
    data = ("soak text " * rng.randint(10, 400)).encode()
    made = await http.post("/v1/files", headers=_auth(key), data={"purpose": "file-extract"},
                           files={"file": ("soak.txt", data, "text/plain")})
    if made.status_code != 200:
        return made.status_code
    file_id = made.json()["id"]
    content = await http.get(f"/v1/files/{file_id}/content", headers=_auth(key))
    await http.delete(f"/v1/files/{file_id}", headers=_auth(key))
    return content.status_code


async def _batch(http: Any, key: str, rng: random.Random) -> int:
    lines = b"".join(LINE % i for i in range(rng.randint(1, 5)))
    made = await http.post("/v1/files", headers=_auth(key), data={"purpose": "batch"},
                           files={"file": ("in.jsonl", lines, "application/jsonl")})
    if made.status_code != 200:
        return made.status_code
    batch = await http.post("/v1/batches", headers=_auth(key), json={
        "input_file_id": made.json()["id"], "endpoint": "/v1/chat/completions",
        "completion_window": "24h"})
    if batch.status_code != 200:
        return batch.status_code
    return (await http.get(f"/v1/batches/{batch.json()['id']}", headers=_auth(key))).status_code


async def _small(http: Any, key: str, rng: random.Random) -> int:
    path = rng.choice(["/v1/models", "/v1/users/me/balance"])
    return (await http.get(path, headers=_auth(key))).status_code


async def _refused(http: Any, key: str, rng: random.Random) -> int:
    body = rng.choice([{"model": "kimi-k2.6", "messages": []}, {"model": "nope"}, {}])
    return (await http.post("/v1/chat/completions", json=body, headers=_auth(key))).status_code


async def _estimate(http: Any, key: str, rng: random.Random) -> int:
    reply = await http.post("/v1/tokenizers/estimate-token-count", headers=_auth(key),
                            json={"model": "kimi-k2.6", "messages": HELLO})
    return reply.status_code


KINDS = [(_chat, 30), (_stream, 25), (_small, 15), (_refused, 10), (_estimate, 8),
         (_files, 8), (_batch, 4)]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _worker(http: Any, index: int, until: float, outcome: Outcome) -> None:
    rng = random.Random(index)
    kinds, weights = zip(*KINDS, strict=True)
    key = f"sk-soak-{index % 8}"
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0]
        try:
            outcome.statuses[(kind.__name__.strip("_"), await kind(http, key, rng))] += 1
        except Exception as exc:  # a dropped connection, a timeout: what the soak counts
            outcome.errors.append(f"{kind.__name__}: {type(exc).__name__}: {exc}")


async def _watch(http: Any, until: float, outcome: Outcome, every: float) -> None:
    while time.monotonic() < until:
        outcome.samples.append((await http.get("/_mockshot/stats")).json())
        await asyncio.sleep(every)


async def soak(url: str, seconds: float, workers: int = 64) -> Outcome:
    """Run the mixed traffic against `url` for `seconds` with `workers` clients."""
    from mockshot.transport import httpx_module

    httpx = httpx_module()
    outcome = Outcome()
    outcome.samples.append(await _settled_stats(httpx, url, wait=0.0))
    limits = httpx.Limits(max_connections=workers + 4, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(_watch(http, until, outcome, max(seconds / 30, 0.2)),
                             *(_worker(http, i, until, outcome) for i in range(workers)))
    # The pool's keep-alive connections are the client's, not a leak: they are closed
    # by now, so the last sample, like the first, is taken over one fresh connection.
    outcome.samples.append(await _settled_stats(httpx, url, wait=1.0))
    return outcome


async def _settled_stats(httpx: Any, url: str, wait: float) -> dict[str, Any]:
    """The server's stats over a connection of its own, after `wait` seconds in which
    the server sees closed sockets and abandoned streams finish."""
    await asyncio.sleep(wait)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return (await http.get("/_mockshot/stats")).json()


def growth(outcome: Outcome) -> float:
    """Resident memory growth after warm-up (the first third), as a fraction."""
    rss = [s["rss_kib"] for s in outcome.samples if s.get("rss_kib")]
    warm = rss[len(rss) // 3]
    return (rss[-1] - warm) / warm


def serve() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--clock", "real",
         "--no-pacing", "--log-level", "critical"], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split(" at ")[1].strip().removesuffix("/v1")


def report(outcome: Outcome, seconds: float) -> list[Row]:
    total = sum(outcome.statuses.values())
    first, last = outcome.samples[0], outcome.samples[-1]
    print(f"- {total} calls in {seconds:.0f} s ({total / seconds:.0f}/s); "
          f"5xx: {outcome.server_errors}; transport errors: {len(outcome.errors)}")
    by_kind = Counter()
    for (kind, _), n in outcome.statuses.items():
        by_kind[kind] += n
    print("- by kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
    print(f"- RSS growth after warm-up: {growth(outcome):+.1%}; tasks {first['tasks']} → "
          f"{last['tasks']}, fds {first['fds']} → {last['fds']}, journal "
          f"{last['journal_entries']} entries")
    return [Row("soak: 5xx / transport errors", f"{outcome.server_errors} / "
                f"{len(outcome.errors)}", "—", "—", "0", "yes" if not outcome.server_errors
                and not outcome.errors else "**no**"),
            Row("soak: RSS growth after warm-up", f"{growth(outcome):+.1%}", "—", "—",
                "< 10%", "yes" if growth(outcome) < 0.10 else "**no**")]


def bench_soak(args: argparse.Namespace) -> list[Row]:
    seconds = max(getattr(args, "duration", 60.0) or 60.0, 60.0)
    section(f"(j) soak: mixed traffic at concurrency 64 for {seconds:.0f} s")
    process, url = serve()
    try:
        outcome = asyncio.run(soak(url, seconds))
    finally:
        process.terminate()
        process.wait()
    return report(outcome, seconds)


