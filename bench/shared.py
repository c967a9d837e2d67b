"""(j) shared state: served chat req/s with one and two worker processes, and what a
shared store costs a chat request against the memory store.

- served: `mockshot serve` in memory (one process), on SQLite (`--state-dir`) and on Redis
  (`--store`), each with one and with two workers, loaded in turns by the raw-socket
  generator (pinned to core 1, as in (b)); the servers are not pinned, so two workers
  may use both cores — beside the generator and redis-server on a 2-core machine.
- in-app: µs per chat request with the ASGI app called directly over each store
  (medians, interleaved), and callgrind's instructions per request in the mockshot
  process (redis-server's own work is in another process and not counted).

Needs `redis-server` (Debian's package); it is started on a free loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (
    CHAT_BODY,
    HERE,
    Row,
    free_port,
    http_request,
    mockshot_cmd,
    running,
    section,
    times,
)
from inapp import _once
from instructions import count
from loadgen import Target, python_load

sys.path.insert(0, str(HERE.parent))
from tests.redis_server import RedisServer

ENV = {"MOCKSHOT_INITIAL_BALANCE": "1e12"}  # no run drains the account into 429s
RUNNER = r"""
import asyncio, json, sys
sys.path.insert(0, {bench!r})
from inapp import CHAT_BODY, _once
from mockshot import Settings, create_app

app = create_app(Settings(**json.loads(sys.argv[1])))

async def run(count):
    for _ in range(count):
        await _once(app, "POST", "/v1/chat/completions", CHAT_BODY)

asyncio.run(run(int(sys.argv[2])))
"""


def served_configs(url: str, folder: Path) -> dict[str, list[str]]:
    return {"memory, 1 process": [],
            "sqlite, 1 process": ["--state-dir", str(folder / "one")],
            "sqlite, 2 workers": ["--workers", "2", "--state-dir", str(folder / "two")],
            "redis, 1 process": ["--store", url.replace("/0", "/1")],
            "redis, 2 workers": ["--workers", "2", "--store", url.replace("/0", "/2")]}


def measure_served(url: str, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    configs = served_configs(url, folder)
    ports = {name: free_port() for name in configs}
    with contextlib.ExitStack() as stack:
        for name, flags in configs.items():
            cmd = mockshot_cmd(ports[name], "--log-level", "warning", "--clock", "virtual",
                               *flags)
            ready = http_request("POST", "/v1/chat/completions", ports[name], CHAT_BODY)
            stack.enter_context(running(cmd, ports[name], ready, env=ENV))
        targets = {name: Target(http_request("POST", "/v1/chat/completions", port, CHAT_BODY))
                   for name, port in ports.items()}
        results = python_load(targets, ports, args)
    for name, result in results.items():
        if result.failed or not result.ok:
            raise SystemExit(f"{name}: {result.failed} failed requests, {result.ok} ok")
    return {name: result.rps for name, result in results.items()}


def store_settings(url: str, folder: Path) -> dict[str, dict]:
    base = {"clock": "virtual", "log_level": "warning", "balance": 1e12}
    return {"memory": base, "sqlite": {**base, "state_dir": str(folder / "inapp")},
            "redis": {**base, "store": url.replace("/0", "/3")}}


async def _inapp(settings: dict[str, dict], calls: int) -> dict[str, list[float]]:
    from mockshot import Settings, create_app

    apps = {name: create_app(Settings(**values)) for name, values in settings.items()}
    for name, app in apps.items():
        for _ in range(200):
            if await _once(app, "POST", "/v1/chat/completions", CHAT_BODY) != 200:
                raise SystemExit(f"in-app chat on {name} did not answer 200")
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(calls):
        for name, app in apps.items():
            start = time.perf_counter_ns()
            await _once(app, "POST", "/v1/chat/completions", CHAT_BODY)
            samples[name].append((time.perf_counter_ns() - start) / 1000)
    return samples


def instructions(settings: dict[str, dict]) -> dict[str, float]:
    script = RUNNER.format(bench=str(HERE))
    found = {}
    for name, values in settings.items():
        kind = json.dumps(values)
        found[name] = (count(script, kind, 1000) - count(script, kind, 0)) / 1000
    return found


def bench_shared(args: argparse.Namespace) -> list[Row]:
    """(j): one and two workers; each store's cost per request."""
    section("(j) shared state: workers, and the SQLite and Redis stores against memory")
    with tempfile.TemporaryDirectory(prefix="mockshot-bench-") as tmp, \
            RedisServer(Path(tmp) / "redis") as server:
        folder, url = Path(tmp), server.url(0)
        rows = []
        for name, rps in measure_served(url, folder, args).items():
            print(f"- served, {name}: {rps:,.0f} req/s")
            rows.append(Row(f"served chat req/s, {name}", f"{rps:,.0f}", "—", "—", "—", "—"))
        settings = store_settings(url, folder)
        samples = asyncio.run(_inapp(settings, args.calls))
        base = statistics.median(samples["memory"])
        for name, values in samples.items():
            med = statistics.median(values)
            print(f"- in-app chat on {name}: median {med:.1f} µs ({med - base:+.1f} µs)")
            rows.append(Row(f"in-app chat on {name}, median µs", f"{med:.1f}", "—",
                            times(med / base), "—", "—"))
        if shutil.which("valgrind") is None:
            print("valgrind is not installed: no instruction counts")
            return rows
        for name, per in instructions(settings).items():
            print(f"- in-app chat on {name}: {per:,.0f} instructions per request")
            rows.append(Row(f"in-app chat on {name}, instructions/request", f"{per:,.0f}",
                            "—", "—", "—", "—"))
    return rows
