"""Test partitions of one mock: a bounded map from `X-Mockshot-Test` ids to child mocks.

A served mock shared by parallel tests (xdist workers, several CI jobs) gives each test id
its own child mock, made on first use. The map is bounded like the journal: past
`max_partitions` the least recently used partition is forgotten (a test that ended
without `DELETE /_mockshot/tests/{id}` must not grow a long-running mock forever).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_TEST_ID", "Partitions"]

log = logging.getLogger("mockshot")
MAX_TEST_ID = 1024  # characters of a test id (pytest node ids with parameters fit easily)


class Partitions:
    """Child mocks by test id, least recently used first; safe across threads (the
    plugin drops a partition from the test's thread while the server's loop serves)."""

    def __init__(self, make: Callable[[str], Any], bound: int) -> None:
        self._make = make
        self._bound = bound
        self._children: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def get(self, test_id: str) -> Any:
        """The partition for `test_id`, made on first use (ValueError for a bad id)."""
        if not test_id or len(test_id) > MAX_TEST_ID:
            raise ValueError(f"a test id is 1 to {MAX_TEST_ID} characters, "
                             f"got {len(test_id)}")
        with self._lock:
            found = self._children.get(test_id)
            if found is not None:
                self._children.move_to_end(test_id)
                return found
        made = self._make(test_id)  # outside the lock: loading scenario files takes a while
        with self._lock:
            found = self._children.setdefault(test_id, made)
            self._children.move_to_end(test_id)
            while len(self._children) > self._bound:
                gone, _ = self._children.popitem(last=False)
                self.evicted += 1
                log.warning("mockshot: forgot test partition %r (more than %d open; end "
                            "each with DELETE /_mockshot/tests/{id})", gone, self._bound)
            return found

    def put(self, test_id: str, child: Any) -> Any:
        """Install a partition made elsewhere (the pytest plugin makes one per test with
        the test's own settings), replacing one of the same id; the child."""
        with self._lock:
            self._children[test_id] = child
            self._children.move_to_end(test_id)
            while len(self._children) > self._bound:
                self._children.popitem(last=False)
                self.evicted += 1
            return child

    def drop(self, test_id: str) -> bool:
        """Forget a partition; whether it existed."""
        with self._lock:
            return self._children.pop(test_id, None) is not None

    def names(self) -> list[str]:
        with self._lock:
            return list(self._children)
