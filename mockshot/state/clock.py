"""The one clock every timestamp and every wait comes from.

A served mock runs on `RealClock`; tests run on `VirtualClock`, where waiting costs no real
time and `advance()` moves time on (streams finish at once, batches progress on demand).
Nothing else in the package reads the time of day (the journal's `elapsed_ms` is a
perf_counter duration, not a timestamp).
"""

from __future__ import annotations

import asyncio
import mmap
import os
import struct
import time
from typing import Protocol

__all__ = ["LATEST_TIME", "Clock", "FileCell", "MemoryCell", "RealClock", "TimeCell",
           "VirtualClock", "make_clock"]

VIRTUAL_EPOCH = 1767225600.0  # 2026-01-01T00:00:00Z: fixed, so a seed reproduces bytes
LATEST_TIME = 253402300799.0  # 9999-12-31T23:59:59Z: later times break date formatting


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time; with `speed` > 1 time runs that much faster from the moment the
    clock was made (a scaled clock: waits shrink, timestamps advance faster)."""

    virtual = False

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._origin = time.time()

    def now(self) -> float:
        if self.speed == 1.0:
            return time.time()
        return self._origin + (time.time() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds / self.speed)


class TimeCell(Protocol):
    """Where a virtual clock keeps its time: this process's memory, or a place several
    processes share (`FileCell` for workers, `redis_time.RedisTime` for hosts), so moving
    the clock moves it for every worker. A shared cell may also offer `async refresh()`
    (read the shared time now) and `async flush()` (this process's moves have reached
    the shared place), which `VirtualClock.synced` and `settled` await."""

    def get(self) -> float: ...

    def set(self, value: float) -> None: ...

    def add(self, seconds: float) -> float:
        """Move on by `seconds` (never past LATEST_TIME); the new time."""
        ...


class _Adds:
    """`add` as a read and a write, for cells whose writes are local."""

    __slots__ = ()

    def add(self, seconds: float) -> float:
        moved = min(self.get() + seconds, LATEST_TIME)  # type: ignore[attr-defined]
        self.set(moved)  # type: ignore[attr-defined]
        return moved


class MemoryCell(_Adds):
    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def get(self) -> float:
        return self.value

    def set(self, value: float) -> None:
        self.value = value


class FileCell(_Adds):
    """The time as 8 bytes of a file every worker maps into memory: a read is a memory
    read, a write is seen by every process at once (and survives a restart)."""

    def __init__(self, path: str | os.PathLike, start: float) -> None:
        fresh = not os.path.exists(path) or os.path.getsize(path) != 8
        with open(path, "a+b") as handle:
            if fresh:
                handle.truncate(0)
                handle.write(struct.pack("<d", start))
                handle.flush()
            self._map = mmap.mmap(handle.fileno(), 8)

    def get(self) -> float:
        return struct.unpack_from("<d", self._map)[0]

    def set(self, value: float) -> None:
        struct.pack_into("<d", self._map, 0, value)


class VirtualClock:
    """Time that moves only when told to: by `advance`, `set`, or a simulated wait.

    It never passes `LATEST_TIME`, whatever the waits add up to: past it, timestamps no
    longer format as dates, and past 2**64 no reply can carry `created` at all.
    """

    virtual = True

    def __init__(self, start: float = VIRTUAL_EPOCH, cell: TimeCell | None = None) -> None:
        self._cell = cell or MemoryCell(start)

    def now(self) -> float:
        return self._cell.get()

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock cannot go back; use set() to move it anywhere")
        return self._cell.add(seconds)

    def set(self, timestamp: float) -> float:
        if not 0 <= timestamp <= LATEST_TIME:
            raise ValueError(f"the clock must stay a Unix timestamp from 0 to {LATEST_TIME:.0f}")
        self._cell.set(timestamp)
        return timestamp

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._cell.add(seconds)
        await asyncio.sleep(0)

    async def synced(self) -> float:
        """The time as the shared cell has it now (another host may have moved it)."""
        refresh = getattr(self._cell, "refresh", None)
        if refresh is not None:
            await refresh()
        return self._cell.get()

    async def settled(self) -> None:
        """Return once this process's moves are seen by every process sharing the cell."""
        flush = getattr(self._cell, "flush", None)
        if flush is not None:
            await flush()


def make_clock(kind: str, start: float | None = None, speed: float = 1.0,
               cell: TimeCell | None = None) -> Clock:
    if kind == "virtual":
        return VirtualClock(VIRTUAL_EPOCH if start is None else start, cell)
    if kind == "real":
        return RealClock(speed)
    raise ValueError(f"clock must be 'real' or 'virtual', not {kind!r}")
