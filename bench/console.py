"""(k) console: what the console costs the request road, and how its reads scale.

- chat µs per in-app request with nobody watching and with one console feed open (a
  watcher registered, as `/_mockshot/events` does, drained as the feed drains it): the
  announcement is the only difference, so the two medians say what a watcher costs;
- the control API reads the console makes, in-app, on a journal of 10,000 entries
  (`--journal-size 10000`): a page of 50 newest first (at the start and in the middle of
  the journal, and filtered by status), one entry whole, and the accounts panel.

    .venv/bin/python bench/bench.py --only console
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from common import Row, section
from inapp import REQUESTS, _once

ENTRIES = 10_000
READS = {
    "journal page, newest 50": "/_mockshot/journal?order=newest&limit=50",
    "journal page in the middle": "/_mockshot/journal?order=newest&limit=50&before=5000",
    "journal page, status=429": "/_mockshot/journal?order=newest&limit=50&status=429",
    "one entry whole": "/_mockshot/journal/9999",
    "accounts panel": "/_mockshot/accounts",
}


def _app(journal_size: int = 1000) -> Any:
    from mockshot import Settings, create_app

    return create_app(Settings(clock="virtual", log_level="warning",
                               journal_size=journal_size))


async def _chat_us(app: Any) -> float:
    method, path, body = REQUESTS["chat"]
    start = time.perf_counter_ns()
    await _once(app, method, path, body)
    return (time.perf_counter_ns() - start) / 1000


async def _watched(calls: int) -> tuple[float, float]:
    """Median chat µs of two identical apps, one with a watcher, samples interleaved so
    drift hits both alike."""
    quiet, watched = _app(), _app()
    for _ in range(200):  # warm both
        await _chat_us(quiet), await _chat_us(watched)
    watcher = watched.mock.changes.watch()
    alone, seen = [], []
    for _ in range(calls):
        alone.append(await _chat_us(quiet))
        seen.append(await _chat_us(watched))
        if watcher.wake.is_set():
            watcher.take()  # what the feed does when it wakes
    watched.mock.changes.unwatch(watcher)
    return statistics.median(alone), statistics.median(seen)


def _filled() -> Any:
    from mockshot.state.journal import JournalEntry

    app = _app(ENTRIES)
    store = app.mock.store
    for index in range(ENTRIES):
        store.sync(store.settle(JournalEntry(
            "POST /v1/chat/completions", f"sk-{index % 20}", 429 if index % 7 == 0 else 200,
            float(index), 1.0, index, model="kimi-k2.6", request=REQUESTS["chat"][2],
            request_bytes=len(REQUESTS["chat"][2]), request_is_json=True)))
    return app


async def _read_ms(app: Any, path: str, times: int) -> float:
    route, _, query = path.partition("?")
    samples = []
    for _ in range(times):
        start = time.perf_counter_ns()
        status = await _get(app, route, query)
        samples.append((time.perf_counter_ns() - start) / 1e6)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    return statistics.median(samples)


async def _get(app: Any, path: str, query: str) -> int:
    from inapp import _scope

    scope = {**_scope("GET", path, b""), "query_string": query.encode()}
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def bench_console(args: argparse.Namespace) -> list[Row]:
    """(k): a watcher's cost per chat call, and the console's reads at 10,000 entries."""
    section("(k) console: a watcher's cost, and reads of a 10,000-entry journal")
    alone, seen = asyncio.run(_watched(max(args.calls, 1000)))
    print(f"- in-app chat, median µs: nobody watching {alone:.1f}, one console feed open "
          f"{seen:.1f} ({seen / alone - 1:+.1%})")
    rows = [Row("in-app chat µs, console feed open vs not", f"{seen:.1f}", f"{alone:.1f}",
                f"{seen / alone:.2f}", "—", "—")]
    app = _filled()
    for name, path in READS.items():
        ms = asyncio.run(_read_ms(app, path, 20))
        print(f"- {name} (`{path}`): median {ms:.2f} ms")
        rows.append(Row(f"console read at 10,000 entries: {name}, ms", f"{ms:.2f}", "—", "—",
                        "< 100", "yes" if ms < 100 else "**no**"))
    return rows
