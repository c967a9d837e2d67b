"""Streams both surfaces send: the plan (deltas and the wait before each), the faults that
break it, and the paced sending on the mock's clock.

A surface turns the plan's deltas into its own frames; everything about timing and
breakage is decided here, once, from the call's own generator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from ..engine import streaming
from ..engine.completion import ChatCall
from ..engine.streaming import Delta
from ..errors import APIError
from ..incoming import Incoming
from ..mock import Mock
from ..scenarios.faults import STREAM_KINDS, Fault, apply_stream_fault, malformed, stream_error
from ..state.failures import StoreError
from .replies import Turn
from .sse import EventStream

__all__ = ["faulty_frames", "paced_stream", "plan_stream"]


def plan_stream(mock: Mock, incoming: Incoming, call: ChatCall,
                turn: Turn) -> tuple[list[Delta], list[float]]:
    """The stream's deltas and the wait before each, on this model's (or the request's)
    timing; drawn after the completion, so chunking never changes the content."""
    deltas = streaming.plan(turn.completion, turn.rng, mock.tokenizer)
    override = incoming.pacing if incoming.pacing is not None else turn.pacing
    timing = streaming.timing_for(call.model, override, not mock.settings.pacing)
    waits = streaming.schedule(deltas, timing, turn.rng)
    fault = incoming.active_fault
    if fault is not None and fault.kind == "slow_first_token":
        first = next((i for i, wait in enumerate(waits) if wait), 1 if len(waits) > 1 else 0)
        waits[first] += fault.ms / 1000
    return deltas, waits


def faulty_frames(fault: Fault | None, frames: list[bytes],
                  error_frame: Callable[[APIError], bytes], done: bytes) -> list[bytes]:
    """The frames as a stream fault breaks them (cut, malformed frame, error frame), in
    the surface's own framing; unchanged without one."""
    if fault is None or fault.kind not in STREAM_KINDS:
        return frames
    bad = malformed(frames[min(fault.after, len(frames) - 1)])
    return apply_stream_fault(frames, fault, error_frame(stream_error(fault)), bad, done)


def paced_stream(mock: Mock, incoming: Incoming, frames: list[bytes],
                 waits: list[float]) -> EventStream:
    """Send each frame when its wait is over on the mock's clock. The journal entry learns
    how far the stream got whenever it pauses (an instant stream pays nothing per frame)
    and, at the end, how far it got and whether the client hung up."""
    clock, store = mock.clock, mock.store
    sent = 0

    async def paced() -> AsyncIterator[bytes]:
        nonlocal sent
        due = clock.now()  # waits add up to deadlines, so scheduling delays never pile up
        for index, frame in enumerate(frames):
            if index < len(waits) and waits[index]:
                with contextlib.suppress(StoreError):  # progress is a help, not the reply
                    await store.update(incoming.journal_id, chunks_sent=sent)
                due += waits[index]
                await clock.sleep(due - clock.now())
            sent = index + 1
            yield frame

    async def on_close(disconnected: bool) -> None:
        # an open stream counted toward concurrency until now: it ends in the same step
        with contextlib.suppress(StoreError):  # the client has its reply; the disk may be full
            await store.update(incoming.journal_id,
                               incoming.account if incoming.held else None,
                               chunks_sent=sent, disconnected=disconnected)
        if mock.changes.watched:
            mock.changes.journal(mock.test_id, incoming.journal_id)

    stream = EventStream(paced(), on_close)
    stream.plan = (frames, waits)  # what the journal keeps of the reply
    return stream
