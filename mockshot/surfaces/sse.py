"""An SSE response that stops the moment its client hangs up.

Starlette's StreamingResponse notices a disconnect only on its next write under ASGI 2.4
servers; a paced stream may sleep for seconds before that. `EventStream` listens for
`http.disconnect` beside the producer and cancels the producer at once, so an abandoned
generation leaves no task behind and logs nothing; `on_close(disconnected)` lets the
journal record how the stream ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["EventStream"]

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EventStream:
    status_code = 200
    streaming = True  # the road marks the journal entry as a stream

    def __init__(
        self,
        frames: AsyncIterator[bytes],
        on_close: Callable[[bool], Awaitable[None] | None] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.frames = frames
        self.on_close = on_close
        self.plan: tuple[list[bytes], list[float]] | None = None  # frames and waits, if known
        self.headers = HEADERS + (headers or [])

    async def _pump(self, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.headers})
        async for frame in self.frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _listen(receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def __call__(self, scope, receive, send) -> None:
        producer = asyncio.ensure_future(self._pump(send))
        listener = asyncio.ensure_future(self._listen(receive))
        disconnected = False
        try:
            await asyncio.wait({producer, listener}, return_when=asyncio.FIRST_COMPLETED)
            if not producer.done():
                disconnected = True
                producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        except OSError:  # the server could not write: the client is gone
            disconnected = True
        except asyncio.CancelledError:  # the server gave up on the connection
            disconnected = True
            raise
        finally:
            for task in (producer, listener):  # nothing outlives the response
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
            with contextlib.suppress(BaseException):
                await self.frames.aclose()
            if self.on_close:
                closed = self.on_close(disconnected)
                if inspect.isawaitable(closed):
                    await closed
