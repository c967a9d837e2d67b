"""What reply providers see and answer: the call's `Context`, and a `Turn` or a `Relay`.

A `Turn` is a decided completion, rendered by the surface in its own framing; a `Relay`
is bytes another server sent (a recording replayed, an upstream's answer forwarded),
sent verbatim. A `Chain` is the providers a mock asks: those for a call a scenario rule
took, and those for a call none took (replies.py asks them; mockshot/recording/ adds to
them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from random import Random
from typing import Protocol

from ..engine.completion import ChatCall, Completion
from ..incoming import Incoming
from ..mock import Mock
from ..scenarios.book import Decision
from ..scenarios.rules import Probe
from ..state.store import Begun

__all__ = ["Chain", "Context", "Relay", "ReplyProvider", "Turn"]


@dataclass(slots=True)
class Turn:
    """A decided reply: the completion, the generator that continues to draw for it, and
    a scenario's pacing (a fault that fired is `incoming.active_fault`)."""

    completion: Completion
    rng: Random
    pacing: dict | None = None


@dataclass(slots=True)
class Relay:
    """A reply another server sent, sent verbatim: the status and headers, then a whole
    `body`, or `frames` each after its wait in `waits` (a replay), or the frames
    `source` yields as they arrive (a forward)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes | None = None
    frames: list[bytes] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    source: AsyncIterator[bytes] | None = None


@dataclass(slots=True)
class Context:
    """What every provider sees of the call being answered."""

    mock: Mock
    incoming: Incoming
    call: ChatCall
    probe: Probe
    base: bytes  # the call's fingerprint
    begun: Begun
    decision: Decision | None


class ReplyProvider(Protocol):
    async def answer(self, context: Context) -> Turn | Relay | None:
        """This provider's turn for the call, or None to leave it to the next."""


@dataclass(frozen=True, slots=True)
class Chain:
    """The providers asked, in order: `ruled` for a call a scenario rule took (its
    recording, else its script), `unruled` for a call none took (a recorder, the
    generator). Split so a call pays only for the providers that could answer it."""

    ruled: tuple[ReplyProvider, ...]
    unruled: tuple[ReplyProvider, ...]
