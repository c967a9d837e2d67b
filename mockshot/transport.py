"""In-process clients: the openai/anthropic SDKs talk to a mock with no socket at all.

httpx's stock `ASGITransport` buffers a whole response and is async only. These transports
run the app as a task and hand each body chunk to the client as the app sends it, so a
stream really streams in-process; the sync one drives the app on a private event loop in a
background thread. Closing a response early disconnects the app (it sees
`http.disconnect`), exactly as a client hanging up on a socket would.

Works with `httpx` and with `httpx2` (which newer SDKs use): pass the module, or let
`http_client()` pick the one the installed openai SDK imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

__all__ = ["async_http_client", "http_client", "httpx_module"]

_END = object()
CLOSE_GRACE = 1.0  # seconds an app gets to notice a disconnect before it is cancelled


def httpx_module() -> ModuleType:
    """The httpx flavour the installed openai SDK uses (httpx2 in newer SDKs)."""
    try:
        import openai._base_client as base

        if hasattr(base, "httpx2"):
            return importlib.import_module("httpx2")
    except ImportError:
        pass
    try:
        return importlib.import_module("httpx2")
    except ImportError:
        return importlib.import_module("httpx")


def _scope(request: Any) -> dict:
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }


class _Exchange:
    """One request/response with the app, on the loop that runs the app."""

    def __init__(self, app: Any, scope: dict, body: bytes) -> None:
        self.app, self.scope, self.body = app, scope, body
        self.started: asyncio.Future = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue = asyncio.Queue(maxsize=1)
        self.ended = False
        self.closed = False
        self.disconnected = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        sent_body = False

        async def receive() -> dict:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await self.disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if self.disconnected.is_set():
                raise OSError("client disconnected")
            if message["type"] == "http.response.start":
                self.started.set_result((message["status"], message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    await self._hand_over(message["body"])
                if not message.get("more_body", False):
                    await self._end()

        def reset() -> None:  # the app dropped the connection (a `reset` fault)
            if not self.started.done():
                self.started.set_exception(ConnectionResetError("connection reset by mockshot"))

        send.mockshot_reset = reset  # type: ignore[attr-defined]
        try:
            await self.app(self.scope, receive, send)
        except BaseException as exc:
            if not self.started.done():
                self.started.set_exception(exc)
            if not isinstance(exc, asyncio.CancelledError | OSError):
                raise
        finally:
            await self._end()

    async def _hand_over(self, chunk: bytes) -> None:
        """Return only once the client has taken the chunk, as a socket write to a reader
        that keeps up would: the app's next wait then starts after the client has it."""
        if self.closed:
            raise OSError("client disconnected")
        await self.chunks.put(chunk)
        await self.chunks.join()

    async def _end(self) -> None:
        if not self.ended and not self.closed:
            self.ended = True
            await self.chunks.put(_END)

    async def next_chunk(self) -> bytes | None:
        chunk = await self.chunks.get()
        self.chunks.task_done()
        return None if chunk is _END else chunk

    async def close(self) -> None:
        """The client hung up: tell the app, let it notice, then stop waiting for it."""
        self.closed = True
        self.disconnected.set()
        while not self.chunks.empty():  # release a send blocked on a full queue
            self.chunks.get_nowait()
            self.chunks.task_done()
        if self.task.done():
            return
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, OSError):
            await asyncio.wait_for(asyncio.shield(self.task), CLOSE_GRACE)
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self.task


def _async_transport(app: Any, httpx: ModuleType) -> Any:
    class Stream(httpx.AsyncByteStream):
        def __init__(self, exchange: _Exchange) -> None:
            self.exchange = exchange

        async def __aiter__(self) -> AsyncIterator[bytes]:
            while (chunk := await self.exchange.next_chunk()) is not None:
                yield chunk

        async def aclose(self) -> None:
            await self.exchange.close()

    class Transport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: Any) -> Any:
            body = await request.aread()
            exchange = _Exchange(app, _scope(request), body)
            try:
                status, headers = await exchange.started
            except ConnectionResetError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            return httpx.Response(status, headers=headers, stream=Stream(exchange))

    return Transport()


async def _finish_tasks() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _Portal:
    """A private event loop in a daemon thread, for driving the app from sync code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="mockshot-inprocess")
        self.thread.start()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        """Stop the loop and its thread (a closed client leaks neither). Tasks still
        pending are cancelled and run to their end first, as `asyncio.run` does, so what
        they hold (a store's connections on this loop) is let go."""
        if self.loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_finish_tasks(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


def _sync_transport(app: Any, httpx: ModuleType) -> Any:
    portal = _Portal()

    class Stream(httpx.SyncByteStream):
        def __init__(self, exchange: _Exchange) -> None:
            self.exchange = exchange

        def __iter__(self) -> Iterator[bytes]:
            while (chunk := portal.call(self.exchange.next_chunk())) is not None:
                yield chunk

        def close(self) -> None:
            portal.call(self.exchange.close())

    class Transport(httpx.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            body = request.read()

            async def start() -> tuple:
                exchange = _Exchange(app, _scope(request), body)
                return exchange, await exchange.started

            try:
                exchange, (status, headers) = portal.call(start())
            except ConnectionResetError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            return httpx.Response(status, headers=headers, stream=Stream(exchange))

        def close(self) -> None:
            portal.close()

    return Transport()


def http_client(app: Any, module: ModuleType | None = None, **kwargs: Any) -> Any:
    """A sync `httpx.Client` wired to `app` in-process: pass it as `http_client=`."""
    httpx = module or httpx_module()
    kwargs.setdefault("base_url", "http://mockshot.local")
    return httpx.Client(transport=_sync_transport(app, httpx), **kwargs)


def async_http_client(app: Any, module: ModuleType | None = None, **kwargs: Any) -> Any:
    """An async `httpx.AsyncClient` wired to `app` in-process."""
    httpx = module or httpx_module()
    kwargs.setdefault("base_url", "http://mockshot.local")
    return httpx.AsyncClient(transport=_async_transport(app, httpx), **kwargs)
