"""`GET /_mockshot/events`: the console's live feed, as server-sent events.

Three events, each a small JSON object: `hello` (the journal's newest id when the feed
opens), `journal` (the newest id now: the console fetches what it lacks through the
journal API) and `state` (rules, scenario states, accounts, the clock or the journal were
steered through the control API). A burst of calls makes one `journal` event per tenth of
a second at most. With a store other processes share (SQLite, Redis), calls another
worker or host served announce nothing here, so the feed also looks at the journal's
newest id each second while it is open; with nobody watching it does nothing at all.
A comment line every 15 seconds keeps idle proxies from closing the feed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson

from ..mock import Mock
from ..state.memory import MemoryStore
from ..surfaces.sse import EventStream

if TYPE_CHECKING:
    from ..control.api import Call

__all__ = ["events"]

COALESCE = 0.1  # seconds: a burst of announcements becomes one event
KEEP_ALIVE = 15.0  # seconds between comment lines on a quiet feed
SHARED_POLL = 1.0  # seconds between looks at a shared store's journal


def frame(event: str, data: dict) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def latest_id(mock: Mock) -> int | None:
    entries = await mock.store.journal()
    return entries[-1].id if entries else None


async def feed(mock: Mock) -> AsyncIterator[bytes]:
    """The events of `mock` (a root mock or one test's partition) until the client goes."""
    changes, test_id = mock.root.changes, mock.test_id
    shared = not isinstance(mock.store, MemoryStore)
    watcher = changes.watch()
    try:
        newest = await latest_id(mock)
        yield frame("hello", {"latest_id": newest, "test": test_id})
        quiet = 0.0
        while True:
            wait = SHARED_POLL if shared else KEEP_ALIVE
            try:
                await asyncio.wait_for(watcher.wake.wait(), wait)
            except TimeoutError:
                quiet += wait
                seen = await latest_id(mock) if shared else newest
                if seen != newest:
                    newest, quiet = seen, 0.0
                    yield frame("journal", {"latest_id": newest, "test": test_id})
                elif quiet >= KEEP_ALIVE:
                    quiet = 0.0
                    yield b": keep-alive\n\n"
                continue
            latest, steered = watcher.take()
            if test_id in latest:
                newest = latest[test_id]
                yield frame("journal", {"latest_id": newest, "test": test_id})
            if test_id in steered:
                yield frame("state", {"test": test_id})
            quiet = 0.0
            await asyncio.sleep(COALESCE)
    finally:
        changes.unwatch(watcher)


async def events(call: Call) -> EventStream:
    return EventStream(feed(call.mock))
