"""What changed, for whoever watches: the journal grew, or the state was steered.

The road announces every settled call here, so the check has to cost nothing when nobody
watches: `watched` is a plain attribute the caller tests before calling `journal()`. A
watcher (the console's `/_mockshot/events` stream) is told only the latest entry id and
that the state moved, never the entries themselves, so a burst of 10,000 calls costs it
one wake-up and the console fetches one page. Watchers may sit on another event loop
than the announcer (a `ServedMock` serves in its own thread): each is woken on its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["Changes", "Watcher"]


@dataclass(eq=False)
class Watcher:
    """One listener: what it has not yet been told, and the event that wakes it."""

    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    latest: dict[str | None, int] = field(default_factory=dict)  # test → newest entry id
    steered: set[str | None] = field(default_factory=set)  # tests whose state was steered

    def take(self) -> tuple[dict[str | None, int], set[str | None]]:
        """What happened since the last take, and clear it."""
        latest, steered = self.latest, self.steered
        self.latest, self.steered = {}, set()
        self.wake.clear()
        return latest, steered

    def poke(self) -> None:
        """Wake the watcher, from its own loop or from any other thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.wake.set()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.wake.set)


class Changes:
    """The announcements of one root mock and its partitions."""

    def __init__(self) -> None:
        self.watchers: list[Watcher] = []
        self.watched = False

    def watch(self) -> Watcher:
        watcher = Watcher(asyncio.get_running_loop())
        self.watchers = [*self.watchers, watcher]  # announcers iterate a snapshot
        self.watched = True
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers = [w for w in self.watchers if w is not watcher]
        self.watched = bool(self.watchers)

    def journal(self, test_id: str | None, entry_id: int) -> None:
        """A call was settled as entry `entry_id` of `test_id`'s journal."""
        for watcher in self.watchers:
            if entry_id > watcher.latest.get(test_id, -1):
                watcher.latest[test_id] = entry_id
            watcher.poke()

    def steered(self, test_id: str | None) -> None:
        """Rules, scenario states, accounts, the clock or the journal were changed."""
        for watcher in self.watchers:
            watcher.steered.add(test_id)
            watcher.poke()
