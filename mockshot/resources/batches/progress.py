"""Bringing a batch up to the clock when it is read: no background thread moves batches.

The schedule (`state/records.py`) says how many lines are answered by now; a reader that
finds fewer answers the difference before it replies — in runs it claims from the store,
so concurrent readers never answer a line twice, with a yield to the event loop after each
run, so a 10,000-line batch never holds the loop for long. A reader that finds every due
run claimed by others waits for them. Once the batch has ended (completed, expired,
cancelled), one reader writes its output and error files and names them on the batch.

Each run's result lines are kept as two small blobs (`<batch>.<start>.out` and `.err`),
answered once and never again; the output file is their concatenation in line order, so
its bytes do not depend on which reader answered which run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from ...mock import Mock
from ...state.blobs import BlobSink
from ...state.records import BatchRecord, Segment, due_lines, status_at
from .finishing import finish
from .lines import answer_line
from .validation import split_lines

__all__ = ["observe", "segment_key"]

ENDS_WITH_FILES = ("completed", "expired", "cancelled")


def segment_key(batch_id: str, start: int, kind: str) -> str:
    return f"{batch_id}.{start}.{kind}"


def claimable(batch: BatchRecord, now: float) -> int:
    """The due lines, down to a whole run (runs start at multiples of `step`)."""
    due = due_lines(batch, now)
    return due if due == batch.lines else due - due % batch.step


async def observe(mock: Mock, batch: BatchRecord, now: float) -> BatchRecord:
    """The batch with every line due at `now` answered, and its files if it has ended."""
    target = claimable(batch, now)
    while batch.done < target:
        run = await mock.store.claim_lines(batch.id, target, batch.step)
        if run is None:  # other readers hold the rest: let them work
            await asyncio.sleep(0)
            batch = await _reread(mock, batch)
            continue
        batch = await answer_run(mock, batch, *run)
        await asyncio.sleep(0)
    while status_at(batch, now) in ENDS_WITH_FILES and not batch.finished:
        if await mock.store.claim_finish(batch.id):
            return await finish(mock, batch, status_at(batch, now), segment_key)
        await asyncio.sleep(0)
        batch = await _reread(mock, batch)
    return batch


async def _reread(mock: Mock, batch: BatchRecord) -> BatchRecord:
    found = await mock.store.batch(batch.account, batch.id)
    assert found is not None, "batches are never deleted"
    return found


def run_lines(mock: Mock, batch: BatchRecord, start: int, end: int) -> list[bytes]:
    """The input lines [start, end) (runs begin at an indexed offset)."""
    first, last = batch.offsets[start // batch.step], batch.offsets[-(-end // batch.step)]
    data = mock.store.blobs.read_range(batch.input_key, first, last) + b"\n"
    return [raw for _, raw in split_lines(data, first)][: end - start]


async def answer_run(mock: Mock, batch: BatchRecord, start: int, end: int) -> BatchRecord:
    """Answer a claimed run and record it; on any failure give the run back."""
    blobs = mock.store.blobs
    try:
        out, err = [], []
        for raw in run_lines(mock, batch, start, end):
            line, ok = await answer_line(mock, batch, raw)
            (out if ok else err).append(line)
        for kind, lines in (("out", out), ("err", err)):
            if lines:
                with blobs.sink() as sink:
                    write_all(sink, lines)
                    sink.commit(segment_key(batch.id, start, kind))
        return await mock.store.record_lines(batch.id, Segment(start, end, bool(out),
                                                               bool(err)), len(out), len(err))
    except BaseException:
        blobs.delete(*(segment_key(batch.id, start, kind) for kind in ("out", "err")))
        await mock.store.return_lines(batch.id, start, end)
        raise


def write_all(sink: BlobSink, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        sink.write(piece)
