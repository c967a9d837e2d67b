"""The Redis store's connections: one asyncio client per event loop, and scripts by SHA.

redis-py's asyncio connections belong to the event loop that opened them, and a mock's
store is used from more than one: the served mock's loop (every request), and plain code
(`Store.sync`: tests, the scripting API, scenario files at start-up). So each loop that
uses the store gets its own client, made on first use; a guard task on that loop closes
the client when the loop shuts down (`asyncio.run` and uvicorn cancel pending tasks at
the end, so the connections close on the loop they belong to). Plain code runs its
operation on the link's own loop, in a thread of its own, so it never needs a loop of
the caller's and never blocks one.

Scripts are sent by SHA (`EVALSHA`: the script's text crosses the network once per
server), loaded on the `NOSCRIPT` a fresh or flushed server answers.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import threading
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import redis.asyncio as aredis
from redis.asyncio.connection import BlockingConnectionPool
from redis.exceptions import NoScriptError, RedisError

from .redis_url import parse_url

__all__ = ["Link", "Script", "StoreUnreachable"]

T = TypeVar("T")
MAX_CONNECTIONS = 64  # per loop; more callers wait for a free connection


class StoreUnreachable(RuntimeError):
    """The Redis server named by `--store` does not answer."""


class Script:
    """A Lua script and its SHA."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class Link:
    """Clients for `url`, one per event loop, and a private loop for plain code."""

    def __init__(self, url: str) -> None:
        self.host, self.port, self.db = parse_url(url)
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, aredis.Redis,
                                       asyncio.Task]] = {}
        self._lock = threading.Lock()
        self._own: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- clients -------------------------------------------------------------------------
    def client(self) -> aredis.Redis:
        """The running loop's client (made, with its guard, on the loop's first use)."""
        loop = asyncio.get_running_loop()
        found = self._clients.get(id(loop))
        if found is not None:
            return found[1]
        pool = BlockingConnectionPool(host=self.host, port=self.port, db=self.db,
                                      max_connections=MAX_CONNECTIONS, timeout=None)
        client = aredis.Redis(connection_pool=pool)
        with self._lock:  # a closed loop's entry goes (its loop never ran its guard)
            for key, (old, *_) in list(self._clients.items()):
                if old.is_closed():
                    del self._clients[key]
            guard = loop.create_task(self._guard(id(loop), client), name="mockshot-redis")
            self._clients[id(loop)] = (loop, client, guard)
        return client

    async def _guard(self, key: int, client: aredis.Redis) -> None:
        try:
            await asyncio.get_running_loop().create_future()  # until the loop shuts down
        finally:
            with self._lock:
                self._clients.pop(key, None)
            await client.aclose()

    async def run(self, script: Script, keys: tuple[Any, ...], *args: Any) -> Any:
        """One script, one round trip (two the first time a server sees the script)."""
        client = self.client()
        try:
            return await client.execute_command("EVALSHA", script.sha, len(keys), *keys,
                                                *args)
        except NoScriptError:
            return await client.execute_command("EVAL", script.source, len(keys), *keys,
                                                *args)

    def check(self, scripts: Iterable[Script] = ()) -> None:
        """Fail now, with where and why, if the server cannot be reached (at start-up,
        rather than as a 500 on the first request); load `scripts` meanwhile, so no
        request pays for a NOSCRIPT."""
        async def ping() -> None:
            async with self.client().pipeline(transaction=False) as pipe:
                pipe.ping()
                for script in scripts:
                    pipe.script_load(script.source)
                await pipe.execute()

        try:
            self.sync(ping())
        except RedisError as exc:
            self.close()
            raise StoreUnreachable(f"the store redis://{self.host}:{self.port}/{self.db} "
                                   f"cannot be reached ({exc})") from None

    # -- plain code ----------------------------------------------------------------------
    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._own is None:
                self._own = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._own.run_forever, daemon=True,
                                                name="mockshot-redis")
                self._thread.start()
                atexit.register(self.close)  # its connections close before the process ends
            return self._own

    def sync(self, operation: Awaitable[T]) -> T:
        """Run one operation on the link's own loop and wait for it (plain code only)."""
        async def run() -> T:
            return await operation

        return asyncio.run_coroutine_threadsafe(run(), self._own_loop()).result()

    def close(self) -> None:
        """Close the private loop's client and stop its thread (other loops close theirs
        as they shut down)."""
        with self._lock:
            own, self._own = self._own, None
        if own is None:
            return
        atexit.unregister(self.close)

        async def shut() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), own).result()
        own.call_soon_threadsafe(own.stop)
        if self._thread is not None:
            self._thread.join(5)
        own.close()
