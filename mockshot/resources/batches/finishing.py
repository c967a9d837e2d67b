"""Writing an ended batch's files: the output file (every line answered 200) and the error
file (every line answered with an error, then every line the batch never ran), both purpose
`batch_output` and `.jsonl`, as the batch system writes them (reference §10.2, §11.3).

A completed batch ran every line. An expired or cancelled one keeps what it answered in
its output file (as OpenAI does, Mock defaults 8) and lists each line it never ran in its
error file with `batch_expired` or `batch_cancelled`, so every input line is accounted for
in exactly one file. A file with no lines is not written (its id stays null). A batch that
failed validation has no files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import orjson

from ...engine.seeding import derive_rng
from ...engine.sniff import media_type
from ...mock import Mock
from ...state.blobs import BlobSink
from ...state.records import BatchRecord, FileRecord, Schedule
from ..files.ids import file_id
from .lines import unanswered_line
from .validation import blob_lines

__all__ = ["finish"]

Keys = Callable[[str, int, str], str]
ATTEMPTS = 16


def ended_at(batch: BatchRecord, status: str) -> int:
    schedule: Schedule = batch.schedule
    if status == "cancelled":
        return int(batch.cancelled_at or schedule.created_at)
    return int(schedule.end(bool(batch.errors))[0])


async def finish(mock: Mock, batch: BatchRecord, status: str, keys: Keys) -> BatchRecord:
    """Write the files (this reader claimed the finish) and name them on the batch."""
    store, written = mock.store, []
    output = errors = None
    try:
        if not batch.errors:
            output = await _write(mock, batch, status, "out", keys, written)
            errors = await _write(mock, batch, status, "err", keys, written)
        finished = await store.finish_batch(
            batch.id, tuple(f for f in (output, errors) if f is not None),
            output.id if output else None, errors.id if errors else None)
    except BaseException:
        store.blobs.delete(*written)
        await store.return_finish(batch.id)
        raise
    store.blobs.delete(*(keys(batch.id, s.start, kind) for s in batch.segments
                         for kind in ("out", "err")))
    return finished


async def _write(mock: Mock, batch: BatchRecord, status: str, kind: str, keys: Keys,
                 written: list[str]) -> FileRecord | None:
    blobs = mock.store.blobs
    with blobs.sink() as sink:
        head = bytearray()
        for segment in batch.segments:
            if getattr(segment, kind):
                _copy(sink, blobs.chunks(keys(batch.id, segment.start, kind)), head)
                await asyncio.sleep(0)
        if kind == "err" and status in ("expired", "cancelled"):
            _copy(sink, _never_run(mock, batch, status), head)
        if sink.size == 0:
            return None
        created_at = ended_at(batch, status)
        for attempt in range(ATTEMPTS):
            rng = derive_rng(batch.seed, b"batch-file", batch.id.encode(), kind.encode(),
                             bytes([attempt]))
            new_id = file_id(rng, created_at)
            try:
                sink.commit(new_id)
            except FileExistsError:
                continue
            written.append(new_id)
            name = f"{batch.id}_{'output' if kind == 'out' else 'error'}.jsonl"
            return FileRecord(new_id, batch.account, sink.size, created_at, name,
                              "batch_output", media_type(bytes(head)))
    raise RuntimeError(f"no free file id after {ATTEMPTS} draws")


def _copy(sink: BlobSink, pieces: Iterator[bytes], head: bytearray) -> None:
    for piece in pieces:
        if len(head) < 512:
            head += piece[: 512 - len(head)]
        sink.write(piece)


def _never_run(mock: Mock, batch: BatchRecord, status: str) -> Iterator[bytes]:
    """The error lines of every input line no run answered."""
    answered = {line for s in batch.segments for line in range(s.start, s.end)}
    for number, (_, raw) in enumerate(blob_lines(mock.store.blobs, batch.input_key)):
        if number not in answered:
            yield unanswered_line(orjson.loads(raw)["custom_id"], status)
