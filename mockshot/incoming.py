"""`Incoming`: one request on the road, from the moment it is read to its journal entry.

A plain value the road fills in (account, steering overrides, body) and hands to the
operation's handler; handlers add what they learn (the model, the fault that fired).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .scenarios.faults import Fault
from .state.journal import JournalEntry
from .state.store import Charge

__all__ = ["Incoming"]


@dataclass(slots=True)
class Incoming:
    """A request on the road: who sent it, what it asks, and its per-request overrides."""

    operation: str
    account: str  # the account the key bills (the key itself unless grouped)
    surface: str = "openai"
    body: Any = None
    path_params: dict[str, str] = field(default_factory=dict)
    query: str = ""
    headers: Any = None
    key: str = ""  # the API key as sent
    raw: bytes | None = None  # the body as sent (the journal keeps a bounded copy)
    receive: Callable[[], Awaitable[dict]] | None = None  # a streamed body's ASGI receive
    files: Mapping[str, str] = field(default_factory=dict)  # ms:// files found: id → purpose
    nth: int = 0  # the call's ordinal among calls of its operation (non-chat operations)
    batch: bool = False  # a batch line: the batch price, outside the tier's live limits
    seed: int = 0  # X-Mockshot-Seed, else the server's seed
    pinned: bool = False  # the client pinned the seed: the reply is a function of (seed, call)
    scenario: str | None = None  # X-Mockshot-Scenario: only this scenario's rules
    fault: Fault | None = None  # X-Mockshot-Fault: this call's fault
    pacing: dict | None = None  # X-Mockshot-Pacing, parsed
    variants: tuple[str, ...] | None = None  # X-Mockshot-Variant, checked
    active_fault: Fault | None = None  # the fault that fired, for the renderer
    charge: Charge | None = None  # what settling the call debits and remembers
    held: bool = False  # in flight for its tier's concurrency until settled or released
    # the call's journal entry, filled in along the road and handed to the store once, when
    # the call is settled (`journal_id` is its id then); later facts go through the store
    entry: JournalEntry = field(default_factory=lambda: JournalEntry("", "", 0, 0.0, 0.0, 0))
    journal_id: int = 0
