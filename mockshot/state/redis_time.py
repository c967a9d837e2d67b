"""A virtual clock's time kept in Redis, so moving the clock on one host moves every host.

`now()` is read on every request and must cost no round trip, so each host reads a copy
that the store keeps current: every `begin` brings the shared time back in its answer
(every API call begins, so a call sees the time as of its own admission, and the store's
windows use the shared time itself), and `refresh` reads it when asked (the control API's
clock and account views). A move (`set`, `advance`, a virtual wait) changes the copy at
once and goes to Redis: from plain code before it returns; on an event loop as a task,
in order, which `flush` awaits — the control API flushes before it answers, and `begin`
flushes first, so no host reads a time older than its own last move. A `begin` answer that
crossed a move of this host's is not taken (the move is newer).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .clock import LATEST_TIME
from .redis_scripts import CLOCK

if TYPE_CHECKING:
    from .redis import RedisStore

__all__ = ["RedisTime"]


class RedisTime:
    """The `TimeCell` of a virtual clock shared through a `RedisStore`."""

    def __init__(self, store: RedisStore, start: float) -> None:
        self._store = store
        self.moves = 0  # local moves so far: a begin answer older than one is dropped
        self._pending: asyncio.Task | None = None
        self.value = float(store.sync(store._run(CLOCK, "start", repr(start))))

    def get(self) -> float:
        return self.value

    def set(self, value: float) -> None:
        self.value = value
        self._send("set", value)

    def add(self, seconds: float) -> float:
        before = self.value
        self.value = min(before + seconds, LATEST_TIME)
        self._send("add", seconds, before)
        return self.value

    def seen(self, value: float, moves: int) -> None:
        """The shared time as an answer read it, unless this host moved it since."""
        if moves == self.moves:
            self.value = value

    async def refresh(self) -> float:
        await self.flush()
        moves = self.moves
        self.seen(float(await self._store._run(CLOCK, "read", "")), moves)
        return self.value

    async def flush(self) -> None:
        """Wait for this host's moves to reach Redis (those sent from this loop)."""
        task = self._pending
        if task is not None and not task.done() and task.get_loop() is \
                asyncio.get_running_loop():
            await task

    def _send(self, what: str, value: float, before: float = 0.0) -> None:
        self.moves += 1
        args = (what, repr(value), repr(before), repr(LATEST_TIME))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # plain code: the move is in Redis before this returns
            self.seen(float(self._store.sync(self._store._run(CLOCK, *args))), self.moves)
            return
        previous = self._pending

        async def send() -> None:
            if previous is not None and previous.get_loop() is loop:
                await previous
            await self._store._run(CLOCK, *args)

        self._pending = loop.create_task(send())
