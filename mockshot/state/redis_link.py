"""The Redis store's connections: redis-py's asyncio ones, per event loop; scripts by SHA.

redis-py's asyncio connections belong to the event loop that opened them, and a mock's
store is used from more than one: the served mock's loop (every request), and plain code
(`Store.sync`: tests, the scripting API, scenario files at start-up). So each loop that
uses the store gets its own client and idle connections, made on first use; a guard task
on that loop closes them when the loop shuts down (`asyncio.run` and uvicorn cancel
pending tasks at the end, so the connections close on the loop they belong to). Plain
code runs its operation on the link's own loop, in a thread of its own, so it never needs
a loop of the caller's and never blocks one.

Scripts are sent by SHA (`EVALSHA`: the script's text crosses the network once per
server), all loaded at start-up (`check`), and loaded again on the `NOSCRIPT` a restarted
or flushed server answers. The hot path (`call`) packs its command itself and sends it
on a bare connection: redis-py's client costs more per command than the script does.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import redis.asyncio as aredis
from redis.asyncio.connection import BlockingConnectionPool, Connection
from redis.exceptions import NoScriptError, RedisError, ResponseError

from .failures import StoreError
from .redis_url import parse_url

__all__ = ["Link", "Script", "StoreUnreachable"]

T = TypeVar("T")
MAX_CONNECTIONS = 64  # per loop, off the hot path; more callers wait for a free one
SOCKET_TIMEOUT = 30.0  # seconds a script's answer may take before the call fails


class StoreUnreachable(RuntimeError):
    """The Redis server named by `--store` does not answer."""


class Script:
    """A Lua script and its SHA."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class _Loop:
    """What one event loop uses: a client, idle hot-path connections, the guard task."""

    __slots__ = ("client", "guard", "idle", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, client: aredis.Redis) -> None:
        self.loop, self.client = loop, client
        self.idle: list[Connection] = []
        self.guard: asyncio.Task | None = None


class Link:
    """Clients for `url`, one per event loop, and a private loop for plain code."""

    def __init__(self, url: str) -> None:
        self.host, self.port, self.db = parse_url(url)
        self._loops: dict[int, _Loop] = {}
        self._lock = threading.Lock()
        self._own: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- clients -------------------------------------------------------------------------
    def _here(self) -> _Loop:
        """The running loop's client and idle connections (made on the loop's first use,
        with the guard that closes them)."""
        loop = asyncio.get_running_loop()
        found = self._loops.get(id(loop))
        if found is not None:
            return found
        pool = BlockingConnectionPool(host=self.host, port=self.port, db=self.db,
                                      max_connections=MAX_CONNECTIONS, timeout=None)
        made = _Loop(loop, aredis.Redis(connection_pool=pool))
        with self._lock:  # a closed loop's entry goes (its loop never ran its guard)
            for key, old in list(self._loops.items()):
                if old.loop.is_closed():
                    del self._loops[key]
            made.guard = loop.create_task(self._guard(id(loop), made), name="mockshot-redis")
            self._loops[id(loop)] = made
        return made

    def client(self) -> aredis.Redis:
        """The running loop's redis-py client (for the operations off the hot path)."""
        return self._here().client

    async def _guard(self, key: int, here: _Loop) -> None:
        try:
            await asyncio.get_running_loop().create_future()  # until the loop shuts down
        finally:
            with self._lock:
                self._loops.pop(key, None)
            for connection in here.idle:
                await connection.disconnect()
            await here.client.aclose()

    async def run(self, script: Script, keys: tuple[Any, ...], *args: Any) -> Any:
        """One script, one round trip (two the first time a server sees the script)."""
        return await self._send(script, lambda c: c.pack_command(
            "EVALSHA", script.sha, len(keys), *keys, *args), keys, args)

    async def call(self, script: Script, key: bytes, *args: bytes) -> Any:
        """`run` for the hot path: one key and byte arguments, packed here in one join
        (redis-py's packer costs ~1 µs an argument)."""
        parts = [b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n1\r\n" % (
            4 + len(args), script.sha.encode())]
        for arg in (key, *args):
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        packed = b"".join(parts)
        return await self._send(script, lambda _: packed, (key,), args)

    async def _send(self, script: Script, pack: Callable[[Connection], Any],
                    keys: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        """Send a packed EVALSHA on a connection of this loop's own and read its answer.

        The hot path: a redis-py connection taken from the loop's idle list and given
        back, without the client's pool, retries and per-command bookkeeping (about a
        third of a command's cost in the client). A connection an error or a cancel
        leaves in an unknown state is closed, never given back."""
        here = self._here()
        try:
            connection = here.idle.pop() if here.idle else await self._connect()
        except (RedisError, OSError) as exc:
            raise self.unavailable(exc) from None
        try:
            await connection.send_packed_command(pack(connection), check_health=False)
            try:
                answer = await connection.read_response()
            except NoScriptError:  # a server that restarted or flushed its scripts
                await connection.send_packed_command(connection.pack_command(
                    "EVAL", script.source, len(keys), *keys, *args), check_health=False)
                answer = await connection.read_response()
        except ResponseError:  # an answer was read whole: the connection is fine
            here.idle.append(connection)
            raise
        except BaseException as exc:
            await connection.disconnect()
            if isinstance(exc, RedisError | OSError):
                raise self.unavailable(exc) from None
            raise
        here.idle.append(connection)
        return answer

    def unavailable(self, exc: BaseException) -> StoreError:
        """A server gone or too slow is a StoreError: the road answers a clean 500 and the
        next call tries again on a new connection."""
        return StoreError(f"the store redis://{self.host}:{self.port}/{self.db} cannot be "
                          f"reached ({exc})")

    async def ask(self, operation: Awaitable[T]) -> T:
        """An operation of redis-py's client (off the hot path), its failures as `_send`'s."""
        try:
            return await operation
        except ResponseError:
            raise
        except (RedisError, OSError) as exc:
            raise self.unavailable(exc) from None

    async def _connect(self) -> Connection:
        connection = Connection(host=self.host, port=self.port, db=self.db,
                                socket_timeout=SOCKET_TIMEOUT)
        await connection.connect()
        return connection

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
